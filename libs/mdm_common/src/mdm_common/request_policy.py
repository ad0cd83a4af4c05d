"""What a subgraph accepts besides a valid signature: JSON bodies only, and the schema
shown only to admins.

* :class:`JsonOnly`: an operation travels as ``application/json`` (GraphQL over
  HTTP); form-encoded, multipart and ``application/graphql`` bodies are refused with
  415 before anything reads them, so no browser form can carry one.
* :class:`SchemaExposure`: introspection (``__schema``, ``__type``), the federation
  ``_service { sdl }`` field and graphql-core's "Did you mean ...?" suggestions are
  for the ``admin`` role only. The gateway composes the supergraph from the committed
  SDL files (``make schema``), never through ``_service``, so nothing else needs it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from graphql import FieldNode, GraphQLError, ValidationRule
from graphql.validation import NoSchemaIntrospectionCustomRule
from starlette.types import ASGIApp, Receive, Scope, Send
from strawberry.extensions import SchemaExtension

from mdm_common.auth import Principal, Role

OPERATION_MEDIA_TYPE = "application/json"
_SUGGESTION = re.compile(r"\s*Did you mean .*$", re.DOTALL)


def media_type(content_type: str) -> tuple[str, dict[str, str]]:
    """``"Application/JSON; charset=UTF-8"`` -> ``("application/json", {"charset": "utf-8"})``."""
    kind, *raw_params = content_type.split(";")
    params = {}
    for raw in raw_params:
        name, _, value = raw.partition("=")
        params[name.strip().lower()] = value.strip().strip('"').lower()
    return kind.strip().lower(), params


def carries_an_operation(content_type: str | None) -> bool:
    """Whether a request body of this type may carry a GraphQL operation: JSON in
    UTF-8 (the only encoding JSON allows on the wire)."""
    if content_type is None:
        return False
    kind, params = media_type(content_type)
    return kind == OPERATION_MEDIA_TYPE and params.get("charset", "utf-8") == "utf-8"


class JsonOnly:
    """ASGI middleware: refuse any request body that is not ``application/json``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST":
            content_type = next(
                (v.decode("latin-1") for k, v in scope["headers"] if k == b"content-type"), None
            )
            if not carries_an_operation(content_type):
                await _refuse_media_type(send)
                return
        await self.app(scope, receive, send)


async def _refuse_media_type(send: Send) -> None:
    error = {
        "message": f"Operations are sent as {OPERATION_MEDIA_TYPE}.",
        "extensions": {"code": "UNSUPPORTED_MEDIA_TYPE"},
    }
    payload = json.dumps({"data": None, "errors": [error]}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 415,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
                (b"accept", OPERATION_MEDIA_TYPE.encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})


class NoServiceSdlRule(ValidationRule):
    """Refuses the federation ``_service`` field (the subgraph's whole SDL)."""

    def enter_field(self, node: FieldNode, *_: Any) -> None:
        if node.name.value == "_service":
            self.report_error(GraphQLError("The subgraph's SDL is for admins.", node))


# One tuple, so that the validation cache's key (the rules) is the same every time.
_NON_ADMIN_RULES = (NoSchemaIntrospectionCustomRule, NoServiceSdlRule)


def is_admin(principal: Principal | None) -> bool:
    return principal is not None and Role.ADMIN in principal.roles


def without_suggestion(error: GraphQLError) -> GraphQLError:
    """The same error without graphql-core's "Did you mean ...?" (a copy: validation
    results are cached and shared between callers)."""
    message = _SUGGESTION.sub("", error.message)
    if message == error.message:
        return error
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=error.original_error,
        extensions=error.extensions,
    )


class SchemaExposure(SchemaExtension):
    """Introspection, ``_service`` and suggestions for admins only (see module doc)."""

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context.context
        admin = is_admin(getattr(context, "principal", None))
        if not admin:
            self.execution_context.validation_rules = (
                self.execution_context.validation_rules + _NON_ADMIN_RULES
            )
        yield
        result = self.execution_context.result
        if not admin and result is not None and result.errors:
            result.errors = [without_suggestion(e) for e in result.errors]
