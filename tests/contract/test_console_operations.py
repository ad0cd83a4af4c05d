"""The console's GraphQL operations are valid against the supergraph composed from
the committed subgraph SDL: a schema change that breaks a console page fails here,
not in front of a steward."""

from __future__ import annotations

from pathlib import Path

import pytest
from graphql import GraphQLSchema, build_schema, validate

from mdm_console.client import Operations
from mdm_infra import sdl


@pytest.fixture(scope="module")
def supergraph(tmp_path_factory: pytest.TempPathFactory) -> GraphQLSchema:
    return build_schema(sdl.supergraph(tmp_path_factory.mktemp("supergraph") / "super.graphql"))


def test_every_console_operation_is_valid_against_the_supergraph(
    supergraph: GraphQLSchema,
) -> None:
    operations = Operations()
    errors = [e.message for e in validate(supergraph, operations.document)]
    assert errors == []
    assert len(operations.names) >= 10


def test_operations_are_named_and_unique() -> None:
    operations = Operations()
    # separate_operations keys by name: an anonymous or duplicate one would vanish.
    source = "\n".join(p.read_text() for p in sorted(Path(operations.directory).glob("*.graphql")))
    declared = (
        source.count("\nquery ")
        + source.count("\nmutation ")
        + (1 if source.startswith(("query ", "mutation ")) else 0)
    )
    assert declared == len(operations.names)
