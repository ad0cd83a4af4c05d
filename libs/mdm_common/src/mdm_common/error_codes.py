"""The ``extensions.code`` of errors about the request itself, in every subgraph.

Domain errors bring their own code (:mod:`mdm_common.errors`). Everything else a
caller can cause is one of these, named as the gateway names them, so a client sees
the same code whichever server refused: a document that does not parse, one over a
limit (depth, aliases, tokens, size), one that does not validate, variables that do
not fit their types, and an HTTP request that is no GraphQL request at all.
"""

from __future__ import annotations

import json
from typing import Any, cast

from graphql import GraphQLError, GraphQLSyntaxError
from graphql.validation import ASTValidationContext, ASTValidationRule
from starlette.responses import JSONResponse

PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
TOO_COMPLEX = "QUERY_TOO_COMPLEX"
BAD_USER_INPUT = "BAD_USER_INPUT"
INTERNAL = "INTERNAL_SERVER_ERROR"

BY_STATUS = {
    400: "BAD_REQUEST",
    401: "UNAUTHENTICATED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    429: "RATE_LIMITED",
}


def about_the_request(error: GraphQLError) -> bool:
    """Parse, validation and variable errors point into the document (they have
    locations) but into no field's result (no path); an error with a path was raised
    while resolving, one with neither did not come from the document."""
    if error.original_error is None:
        return True
    return error.path is None and bool(error.locations)


def request_error_code(error: GraphQLError, *, max_tokens: int | None = None) -> str:
    """The code of an error :func:`about_the_request`."""
    code = (error.extensions or {}).get("code")
    if isinstance(code, str):
        return code
    if isinstance(error, GraphQLSyntaxError) or error.message.startswith("Syntax Error"):
        # graphql-core's token limit aborts parsing: a limit, not a typo.
        if max_tokens is not None and f"more than {max_tokens} tokens" in error.message:
            return TOO_COMPLEX
        return PARSE_FAILED
    if error.message.startswith("Variable '$"):
        return BAD_USER_INPUT
    return VALIDATION_FAILED


def coded(error: GraphQLError, code: str) -> GraphQLError:
    error.extensions = {**(error.extensions or {}), "code": code}
    return error


def limit_rules(rules: list[type[ASTValidationRule]]) -> list[type[ASTValidationRule]]:
    """Validation rules whose every error is ``QUERY_TOO_COMPLEX`` (strawberry's depth
    and alias limits report plain validation errors, through the context they are
    given)."""
    return [_limit_rule(rule) for rule in rules]


class _LimitContext:
    """A validation context that codes what is reported through it."""

    def __init__(self, context: ASTValidationContext) -> None:
        self._context = context

    def report_error(self, error: GraphQLError) -> None:
        self._context.report_error(coded(error, TOO_COMPLEX))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._context, name)


def _limit_rule(rule: type[ASTValidationRule]) -> type[ASTValidationRule]:
    class LimitRule(rule):  # type: ignore[valid-type,misc]
        def __init__(self, context: ASTValidationContext) -> None:
            super().__init__(cast(ASTValidationContext, _LimitContext(context)))

    LimitRule.__name__ = LimitRule.__qualname__ = rule.__name__
    return LimitRule


def ensure_code(error: GraphQLError, *, max_tokens: int | None = None) -> GraphQLError:
    """``error`` with a code: the last guard at the HTTP edge, for an error that
    bypassed the schema's error mapping."""
    if isinstance((error.extensions or {}).get("code"), str):
        return error
    if about_the_request(error):
        return coded(error, request_error_code(error, max_tokens=max_tokens))
    return coded(error, INTERNAL)


def http_error(status: int, message: str) -> JSONResponse:
    """An HTTP-level refusal in the shape of a GraphQL response."""
    code = BY_STATUS.get(status, "BAD_REQUEST" if status < 500 else INTERNAL)
    return JSONResponse(
        {"data": None, "errors": [{"message": message, "extensions": {"code": code}}]},
        status_code=status,
    )


def json_object(data: str | bytes) -> dict[str, Any]:
    """The request body as a JSON object; ``ValueError`` for anything else (bytes
    that are no UTF-8, nesting deeper than the parser's recursion, arrays, scalars)."""
    try:
        decoded = json.loads(data)
    except RecursionError as exc:
        raise ValueError("nested too deeply") from exc
    if not isinstance(decoded, dict):
        raise ValueError("not a JSON object")
    return decoded
