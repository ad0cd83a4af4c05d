"""Every query the console runs passes the gateway's limits (depth, aliases, tokens)
and validation, with the roles of the page that runs it: the static check against
the supergraph (tests/contract) cannot see the gateway's limits."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLScalarType,
    OperationDefinitionNode,
    OperationType,
    build_schema,
    type_from_ast,
)

from mdm_console.client import Operations
from mdm_infra.platform import Platform

pytestmark = pytest.mark.e2e
REFUSED_BY_THE_GATEWAY = {
    "QUERY_TOO_COMPLEX",
    "GRAPHQL_VALIDATION_FAILED",
    "GRAPHQL_PARSE_FAILED",
    "BAD_REQUEST",
}
SAMPLES = {
    "ID": lambda: str(uuid.uuid4()),
    "String": lambda: "x",
    "Int": lambda: 1,
    "Float": lambda: 0.5,
    "Boolean": lambda: False,
    "DateTime": lambda: "2026-12-01T00:00:00+00:00",
    "Date": lambda: "2026-12-01",
}


def sample(kind: GraphQLInputType) -> Any:
    if isinstance(kind, GraphQLNonNull):
        return sample(kind.of_type)
    if isinstance(kind, GraphQLList):
        return []
    if isinstance(kind, GraphQLEnumType):
        return next(iter(kind.values))
    assert isinstance(kind, GraphQLScalarType), kind
    return SAMPLES[kind.name]()


def queries() -> list[OperationDefinitionNode]:
    return [
        node
        for node in Operations().document.definitions
        if isinstance(node, OperationDefinitionNode) and node.operation == OperationType.QUERY
    ]


@pytest.mark.parametrize("operation", queries(), ids=lambda op: op.name.value)
def test_the_gateway_accepts_the_query(
    operation: OperationDefinitionNode,
    platform: Platform,
    token_for: Callable[..., str],
    supergraph_sdl: str,
) -> None:
    schema = build_schema(supergraph_sdl)
    variables = {
        v.variable.name.value: sample(type_from_ast(schema, v.type))  # type: ignore[arg-type]
        for v in operation.variable_definitions or ()
    }
    name = operation.name.value
    body = httpx.post(
        platform.config.gateway_url,
        json={"query": Operations()[name], "operationName": name, "variables": variables},
        headers={"authorization": f"Bearer {token_for('steward', 'compliance')}"},
        timeout=30,
    ).json()
    codes = {(e.get("extensions") or {}).get("code") for e in body.get("errors") or []}
    assert not codes & REFUSED_BY_THE_GATEWAY, body["errors"]
