"""The GraphQL edge: typed codes for domain errors, masked internals, role checks."""

from __future__ import annotations

import logging
from typing import Any

import pytest
import strawberry

from mdm_common.auth import Principal, Role
from mdm_common.errors import Forbidden, NotFound, Unauthenticated
from mdm_common.graphql import ErrorMapping, RequestContext, SubgraphSchema

SECRET_NAME = "Anna Müller"


@strawberry.type
class Query:
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


def test_parse_failures_are_reported_as_such_by_every_extension() -> None:
    from strawberry.extensions import MaxTokensLimiter

    from mdm_common.telemetry import GraphQLTracing

    limited = SubgraphSchema(
        query=Query,
        extensions=[lambda: MaxTokensLimiter(max_token_count=5), GraphQLTracing, ErrorMapping],
    )
    error = limited.execute_sync("{ missing missing missing missing }").errors[0]
    assert "more than 5 tokens" in error.message
    assert error.extensions == {"code": "GRAPHQL_VALIDATION_FAILED"}
