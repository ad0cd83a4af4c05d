"""Calling another service's subgraph directly, as a trusted internal caller.

Services reference each other's data only through their APIs. A worker or
subgraph that must ask another service (matching asks profile for a person and
to merge two) signs its request exactly as the gateway does (HMAC over timestamp,
nonce and body, good once, see :mod:`mdm_common.auth`) and states on whose behalf it acts: a
steward's subject when it carries out a steward's decision, its own service
subject otherwise. The called subgraph checks signature and roles as for any call.
The W3C trace context travels along, so one trace spans both services.
"""

from __future__ import annotations

import json
from typing import Any, Protocol

import httpx
from opentelemetry import propagate

from mdm_common.auth import Principal, signed_headers
from mdm_common.errors import (
    Conflict,
    DomainError,
    ErrorCode,
    Forbidden,
    InvalidInput,
    NotFound,
    Unauthenticated,
    Unavailable,
)

_ERRORS: dict[str, type[DomainError]] = {
    ErrorCode.BAD_USER_INPUT: InvalidInput,
    ErrorCode.NOT_FOUND: NotFound,
    ErrorCode.CONFLICT: Conflict,
    ErrorCode.UNAUTHENTICATED: Unauthenticated,
    ErrorCode.FORBIDDEN: Forbidden,
    ErrorCode.UNAVAILABLE: Unavailable,
}


class SubgraphClient:
    """One long-lived HTTP client per process; ``close`` at shutdown."""

    def __init__(self, url: str, *, secret: bytes, timeout_s: float = 10.0) -> None:
        if not secret:
            raise ValueError("The gateway secret is needed to call another subgraph.")
        self._url = url
        self._secret = secret
        self._http = httpx.AsyncClient(timeout=timeout_s)

    async def close(self) -> None:
        await self._http.aclose()

    async def execute(
        self, query: str, variables: dict[str, Any], *, on_behalf_of: Principal
    ) -> dict[str, Any]:
        """Run one operation; a GraphQL error becomes the matching :class:`DomainError`."""
        payload = {"sub": on_behalf_of.subject, "roles": sorted(on_behalf_of.roles)}
        body = json.dumps(
            {"query": query, "variables": variables, "extensions": {"jwt": {"payload": payload}}}
        ).encode()
        headers = {"content-type": "application/json"} | signed_headers(self._secret, body)
        propagate.inject(headers)
        try:
            response = await self._http.post(self._url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            raise Unavailable("A service this call needs is not reachable; try again.") from exc
        return answer_of(response)


class GraphQLCaller(Protocol):
    """What a client of another service's operations needs: a subgraph called directly
    (:class:`SubgraphClient`) or the gateway (a command-line tool)."""

    async def execute(
        self, query: str, variables: dict[str, Any], *, on_behalf_of: Principal
    ) -> dict[str, Any]: ...


def answer_of(response: httpx.Response) -> dict[str, Any]:
    """The data of a GraphQL answer; its first error as the matching :class:`DomainError`."""
    if response.status_code >= 500:
        raise Unavailable(f"A service this call needs failed ({response.status_code}).")
    result: dict[str, Any] = response.json()
    errors = result.get("errors") or []
    if errors:
        first = errors[0]
        extensions = first.get("extensions") or {}
        error = _ERRORS.get(extensions.get("code", ""), DomainError)
        # The specifics (e.g. ``reason``) travel on, as the called service gave them.
        details = {k: v for k, v in extensions.items() if k not in ("code", "field")}
        raise error(
            first.get("message", "The called service refused the request."),
            field=extensions.get("field"),
            details=details,
        )
    data: dict[str, Any] = result.get("data") or {}
    return data
