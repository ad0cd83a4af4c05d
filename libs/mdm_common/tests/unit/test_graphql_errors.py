"""The GraphQL edge: typed codes for domain errors, masked internals, role checks."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

import pytest
import strawberry
from graphql import GraphQLError

from mdm_common.auth import Principal, Role
from mdm_common.error_codes import coded, ensure_code, json_object
from mdm_common.errors import Forbidden, NotFound, Unauthenticated
from mdm_common.graphql import ErrorMapping, RequestContext, SubgraphSchema, schema_extensions
from mdm_common.settings import ServiceSettings

SECRET_NAME = "Anna Müller"


@strawberry.type
class Nested:
    leaf: str = "leaf"

    @strawberry.field
    def nested(self) -> Nested:
        return Nested()


@strawberry.type
class Query:
    leaf: str = "leaf"

    @strawberry.field
    def nested(self) -> Nested:
        return Nested()

    @strawberry.field
    def at(self, at: datetime) -> str:
        return at.isoformat()

    @strawberry.field
    def missing(self) -> str:
        raise NotFound("No person with id p1.", field="id")

    @strawberry.field
    def broken(self) -> str:
        raise RuntimeError(f"driver choked on {SECRET_NAME}")


schema = SubgraphSchema(query=Query, extensions=[ErrorMapping])


def execute(query: str) -> Any:
    return schema.execute_sync(query)


def test_domain_errors_carry_their_code_and_field() -> None:
    error = execute("{ missing }").errors[0]
    assert error.message == "No person with id p1."
    assert error.extensions == {"code": "NOT_FOUND", "field": "id"}


def test_unexpected_errors_are_masked_and_logged_without_their_message(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.ERROR, logger="mdm_common.graphql"):
        error = execute("{ broken }").errors[0]
    assert error.message == "Internal server error."
    assert error.extensions == {"code": "INTERNAL_SERVER_ERROR"}
    assert caplog.records[0].getMessage() == "unexpected RuntimeError in broken"


def test_validation_errors_are_typed() -> None:
    error = execute("{ nothing }").errors[0]
    assert error.extensions == {"code": "GRAPHQL_VALIDATION_FAILED"}


class TestRequire:
    def context(self, principal: Principal | None) -> RequestContext:
        return RequestContext(request=None, response=None, principal=principal)  # type: ignore[arg-type]

    def test_anonymous_callers_are_unauthenticated(self) -> None:
        with pytest.raises(Unauthenticated):
            self.context(None).require(Role.APP)

    def test_missing_role_is_forbidden_and_names_the_roles(self) -> None:
        with pytest.raises(Forbidden, match="compliance, steward"):
            self.context(Principal("u", frozenset({Role.APP}))).require(
                Role.STEWARD, Role.COMPLIANCE
            )

    def test_returns_the_caller(self) -> None:
        caller = Principal("u", frozenset({Role.STEWARD}))
        assert self.context(caller).require(Role.STEWARD) is caller


class TestRequestErrorsUnderTheSubgraphsExtensions:
    """The extensions every subgraph runs (limits, caches, tracing, the mapping):
    each refusal of the request carries the code the gateway gives it too."""

    @pytest.fixture
    def limited(self) -> SubgraphSchema:
        settings = ServiceSettings(
            service_name="test", max_query_depth=3, max_query_aliases=2, max_query_tokens=20
        )
        return SubgraphSchema(query=Query, extensions=schema_extensions(settings))

    async def codes(
        self, schema: SubgraphSchema, query: str, variables: dict[str, Any] | None = None
    ) -> list[Any]:
        result = await schema.execute(query, variable_values=variables)
        assert result.errors, result
        return [e.extensions for e in result.errors]

    @pytest.mark.parametrize("twice", [1, 2])  # the second time from the caches
    async def test_a_document_that_does_not_parse(
        self, limited: SubgraphSchema, twice: int
    ) -> None:
        assert await self.codes(limited, "{ missing ") == [{"code": "GRAPHQL_PARSE_FAILED"}]

    async def test_too_many_tokens(self, limited: SubgraphSchema) -> None:
        query = "{ " + " ".join(["missing"] * 30) + " }"
        assert await self.codes(limited, query) == [{"code": "QUERY_TOO_COMPLEX"}]

    @pytest.mark.parametrize("twice", [1, 2])
    async def test_too_deep(self, limited: SubgraphSchema, twice: int) -> None:
        query = "{ nested { nested { nested { nested { leaf } } } } }"
        assert {"code": "QUERY_TOO_COMPLEX"} in await self.codes(limited, query)

    async def test_too_many_aliases(self, limited: SubgraphSchema) -> None:
        assert await self.codes(limited, "{ a: leaf b: leaf c: leaf }") == [
            {"code": "QUERY_TOO_COMPLEX"}
        ]

    async def test_an_unknown_field(self, limited: SubgraphSchema) -> None:
        assert await self.codes(limited, "{ nothing }") == [{"code": "GRAPHQL_VALIDATION_FAILED"}]

    @pytest.mark.parametrize(
        "value", ["", "2001-13-45T25:61:00Z", "\u202e", "0000-01-01T00:00:00Z"]
    )
    async def test_a_variable_its_scalar_cannot_parse_is_bad_input(
        self, limited: SubgraphSchema, value: str, caplog: pytest.LogCaptureFixture
    ) -> None:
        query = "query($at: DateTime!) { at(at: $at) }"
        codes = await self.codes(limited, query, {"at": value})
        assert codes == [{"code": "BAD_USER_INPUT"}]
        assert not [r for r in caplog.records if r.levelno >= logging.ERROR]

    async def test_a_literal_its_scalar_cannot_parse(self, limited: SubgraphSchema) -> None:
        assert await self.codes(limited, '{ at(at: "nope") }') == [
            {"code": "GRAPHQL_VALIDATION_FAILED"}
        ]


def test_every_error_code_is_kept_once_set() -> None:
    error = coded(GraphQLError("x"), "QUERY_TOO_COMPLEX")
    assert ensure_code(error).extensions == {"code": "QUERY_TOO_COMPLEX"}
    internal = GraphQLError("boom", original_error=RuntimeError("boom"))
    assert ensure_code(internal).extensions == {"code": "INTERNAL_SERVER_ERROR"}


@pytest.mark.parametrize(
    "body", [b"{", b'"text"', b"[]", b"\xff\xfe", b'{"a":' * 5000 + b"1" + b"}" * 5000]
)
def test_only_a_json_object_is_a_request(body: bytes) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - every kind of refusal is a ValueError
        json_object(body)


@strawberry.federation.type(keys=["id"])
class Account:
    id: strawberry.ID

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> Account:  # noqa: A002 - federation key name
        return Account(id=id)


@strawberry.type
class Receipt:
    id: strawberry.ID


@strawberry.type
class Root:
    receipt: Receipt | None = None


ENTITIES = "query($r: [_Any!]!) { _entities(representations: $r) { ... on Account { id } } }"


NOT_ENTITIES = [
    "x",
    5,
    {},
    {"__typename": "Nope", "id": "a"},
    {"__typename": "Account"},
    {"__typename": "Account", "id": "a", "name": "b"},
    {"__typename": "Receipt", "id": "a"},
]


@pytest.mark.parametrize("representation", NOT_ENTITIES)
async def test_representations_that_name_no_entity_are_bad_input(representation: Any) -> None:
    entities = SubgraphSchema(query=Root, types=[Account], extensions=[ErrorMapping])
    result = await entities.execute(ENTITIES, variable_values={"r": [representation]})
    assert [e.extensions for e in result.errors or ()] == [
        {"code": "BAD_USER_INPUT", "field": "representations"}
    ]
    good = await entities.execute(
        ENTITIES, variable_values={"r": [{"__typename": "Account", "id": "a"}]}
    )
    assert good.data == {"_entities": [{"id": "a"}]}
