"""The console's only way out: GraphQL operations against the gateway."""

from mdm_console.client.gateway import Gateway, GatewayError, Operations

__all__ = ["Gateway", "GatewayError", "Operations"]
