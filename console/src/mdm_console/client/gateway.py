"""A thin async client for the gateway that runs named operations.

The operations live in ``operations/<area>.graphql`` (checked against the
committed subgraph SDL by a contract test), so no GraphQL is written in Python.
Every call carries the signed-in user's own gateway token: the gateway and the
subgraphs decide what the user may do, the console only asks.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from graphql import DocumentNode, parse, print_ast
from graphql.utilities import separate_operations

OPERATIONS_DIR = Path(__file__).resolve().parent.parent / "operations"


class GatewayError(Exception):
    """The gateway answered with errors (or not at all). ``code`` is the first
    error's ``extensions.code``: the page turns it into words for the user;
    ``field`` and ``reason`` (``extensions.field``, ``extensions.reason``) say which
    input was refused and why, so a form shows the message next to that field."""

    def __init__(
        self,
        code: str,
        message: str,
        *,
        status: int | None = None,
        field: str | None = None,
        reason: str | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.field = field
        self.reason = reason


class Operations:
    """All named operations of ``operations/*.graphql``, each as a self-contained
    document (with the fragments it uses)."""

    def __init__(self, directory: Path = OPERATIONS_DIR) -> None:
        self.directory = directory
        source = "\n".join(p.read_text() for p in sorted(directory.glob("*.graphql")))
        self.document: DocumentNode = parse(source)
        self.texts: dict[str, str] = {
            name: print_ast(doc) for name, doc in separate_operations(self.document).items()
        }

    def __getitem__(self, name: str) -> str:
        return self.texts[name]

    @property
    def names(self) -> list[str]:
        return sorted(self.texts)


@dataclass
class Gateway:
    url: str
    http: httpx.AsyncClient
    operations: Operations

    async def run(
        self, operation: str, token: str, *, allow_missing: bool = False, **variables: Any
    ) -> dict[str, Any]:
        """Run a named operation as the user; ``data`` or :class:`GatewayError`.

        ``allow_missing``: an answer with data and errors at some fields (a person the
        profile no longer holds) is returned as it is, the missing parts null; the
        page shows them as missing. Otherwise any error raises.
        """
        try:
            response = await self.http.post(
                self.url,
                json={
                    "query": self.operations[operation],
                    "operationName": operation,
                    "variables": variables,
                },
                headers={"authorization": f"Bearer {token}"},
            )
        except httpx.TimeoutException as exc:
            raise GatewayError("UNAVAILABLE", "The gateway did not answer in time.") from exc
        except httpx.TransportError as exc:
            raise GatewayError("UNAVAILABLE", "The gateway cannot be reached.") from exc
        try:
            body = response.json()
        except ValueError as exc:
            raise GatewayError(
                "UNAVAILABLE", "The gateway sent no GraphQL answer.", status=response.status_code
            ) from exc
        errors = body.get("errors") if isinstance(body, dict) else None
        partial = allow_missing and body.get("data") and all(e.get("path") for e in errors or [])
        if errors and not partial:
            first = errors[0]
            extensions = first.get("extensions") or {}
            raise GatewayError(
                extensions.get("code") or "INTERNAL_SERVER_ERROR",
                str(first.get("message", "")),
                status=response.status_code,
                field=extensions.get("field"),
                reason=extensions.get("reason"),
            )
        data: dict[str, Any] = body["data"]
        return data
