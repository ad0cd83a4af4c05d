"""The subgraph edge's single-use check: writes wait for it, reads run beside it and
their answers wait for it."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from starlette.types import Message, Receive, Scope, Send

from mdm_common.auth import FIRST_USE_SCOPE_KEY, GatewayOnly, reads_only, signed_headers
from mdm_common.replay import NonceRegistry

SECRET = b"shared-between-gateway-and-subgraphs"
READ = "query Person($id: ID!) { person(id: $id) { id email } }"
WRITE = "mutation CreateCompany($name: String!) { createCompany(name: $name) { id } }"
ANSWER = b'{"data":{"person":{"id":"p1","email":"rita@example.org"}}}'


class TestReadsOnly:
    @pytest.mark.parametrize(
        "query",
        [READ, "{ __typename }", "query { mutationCount subscriptions { id } }"],
    )
    def test_documents_without_a_writing_operation(self, query: str) -> None:
        assert reads_only({"query": query})

    @pytest.mark.parametrize(
        "request_body",
        [
            {"query": WRITE},
            {"query": 'mutation{createCompany(name:"x"){id}}'},
            {"query": "subscription { changed }"},
            # Two operations, the mutation chosen by name.
            {"query": "query A { __typename } mutation B { erase }", "operationName": "B"},
            # The word anywhere counts: a false alarm only costs the wait.
            {"query": 'query { search(name: "mutation") { id } }'},
            {"query": None},
            [{"query": READ}],
            None,
        ],
    )
    def test_anything_that_might_write(self, request_body: Any) -> None:
        assert not reads_only(request_body)


class SlowStore(NonceRegistry):
    """Process memory whose answer arrives only when the test releases it."""

    def __init__(self, *, first: bool) -> None:
        super().__init__(None, ttl_s=6)
        self.first = first
        self.released = asyncio.Event()
        self.answered = False

    async def first_use(self, nonce: str) -> bool:
        await self.released.wait()
        self.answered = True
        return self.first


class Recorder:
    """An application that answers ANSWER and notes what it saw."""

    def __init__(self, store: SlowStore) -> None:
        self.store = store
        self.ran = False
        self.answered_before_running: bool | None = None
        self.first_use_in_scope = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.ran = True
        self.answered_before_running = self.store.answered
        self.first_use_in_scope = FIRST_USE_SCOPE_KEY in scope
        await receive()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": ANSWER})


async def call(query: str, *, first: bool) -> tuple[Recorder, list[Message]]:
    store = SlowStore(first=first)
    app = Recorder(store)
    edge = GatewayOnly(app, secret=SECRET, nonces=store, max_bytes=10_000, max_age_s=5, skew_s=1)
    body = json.dumps({"query": query, "variables": {"id": "p1"}}).encode()
    headers = [(k.encode(), v.encode()) for k, v in signed_headers(SECRET, body).items()]
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: Message) -> None:
        # Nothing leaves before the store has answered.
        assert store.answered
        sent.append(message)

    async def release_later() -> None:
        await asyncio.sleep(0.01)
        store.released.set()

    scope = {"type": "http", "method": "POST", "path": "/graphql", "headers": headers}
    await asyncio.gather(edge(scope, receive, send), release_later())
    return app, sent


def status(sent: list[Message]) -> int:
    return int(sent[0]["status"])


def body_of(sent: list[Message]) -> bytes:
    return b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")


class TestGatewayOnly:
    async def test_a_read_runs_while_the_store_answers(self) -> None:
        app, sent = await call(READ, first=True)
        assert app.ran
        assert app.answered_before_running is False
        assert app.first_use_in_scope
        assert status(sent) == 200
        assert body_of(sent) == ANSWER

    async def test_a_replayed_read_gets_the_refusal_not_the_answer(self) -> None:
        _, sent = await call(READ, first=False)
        assert status(sent) == 401
        assert b"rita@example.org" not in body_of(sent)
        assert json.loads(body_of(sent))["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"

    async def test_a_write_waits_for_the_store(self) -> None:
        app, sent = await call(WRITE, first=True)
        assert app.answered_before_running is True
        assert not app.first_use_in_scope
        assert status(sent) == 200

    async def test_a_replayed_write_does_not_run(self) -> None:
        app, sent = await call(WRITE, first=False)
        assert not app.ran
        assert status(sent) == 401
