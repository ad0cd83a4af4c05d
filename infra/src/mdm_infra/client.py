"""A small GraphQL client for the gateway (demo data, smoke checks, tests)."""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any

import httpx


class GraphQLError(RuntimeError):
    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__("; ".join(e.get("message", "?") for e in errors))
        self.errors = errors

    @property
    def codes(self) -> list[str]:
        return [e.get("extensions", {}).get("code", "") for e in self.errors]


class _Bearer(httpx.Auth):
    """The current token of a token source, on each request."""

    def __init__(self, token: Callable[[], str]) -> None:
        self._token = token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["authorization"] = f"Bearer {self._token()}"
        yield request


class GatewayClient:
    """``token``: a fixed token, a token source (renews tokens for long runs) or none."""

    def __init__(
        self, url: str, token: str | Callable[[], str] | None, *, timeout_s: float = 10
    ) -> None:
        self.url = url
        if callable(token):
            self.http = httpx.Client(auth=_Bearer(token), timeout=timeout_s)
        else:
            headers = {"authorization": f"Bearer {token}"} if token else {}
            self.http = httpx.Client(headers=headers, timeout=timeout_s)

    def close(self) -> None:
        self.http.close()

    def post(self, query: str, variables: dict[str, Any] | None = None,
             headers: dict[str, str] | None = None) -> httpx.Response:  # fmt: skip
        return self.http.post(
            self.url, json={"query": query, "variables": variables or {}}, headers=headers
        )

    def execute(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """Return ``data``; raise :class:`GraphQLError` if the response has errors."""
        body = self.post(query, variables).json()
        if body.get("errors"):
            raise GraphQLError(body["errors"])
        data: dict[str, Any] = body["data"]
        return data
