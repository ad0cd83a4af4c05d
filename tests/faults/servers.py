"""Small real servers the fault tests put next to the platform: one more gateway with
settings of its own, an identity provider's JWKS endpoint, a recording proxy."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

from mdm_infra import node as node_js
from mdm_infra.platform import GATEWAY_DIR, Platform
from mdm_infra.ports import free_port
from mdm_infra.process import ManagedProcess


@contextmanager
def extra_gateway(platform: Platform, name: str, env: Mapping[str, str]) -> Iterator[str]:
    """A second gateway process on the platform's subgraphs, with ``env`` over the
    platform's gateway settings; yields its GraphQL URL."""
    node = node_js.executable()  # the project's own Node.js, as the platform's gateway
    port = free_port()
    gateway = ManagedProcess(
        name=name,
        argv=[node, "src/server.mjs"],
        env=platform.config.gateway_env() | {"MDM_GATEWAY_PORT": str(port)} | dict(env),
        cwd=GATEWAY_DIR,
        log_path=platform.config.log_dir / f"{name}.log",
    )
    gateway.start()
    try:
        base = f"http://127.0.0.1:{port}"
        gateway.wait_ready(lambda: httpx.get(base + "/readiness").status_code == 200, timeout_s=60)
        yield base + "/graphql"
    finally:
        gateway.stop()


class _Server:
    """A ThreadingHTTPServer on a free loopback port, in a thread of its own."""

    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        self.port = free_port()
        # The handler class of this server knows it (a handler object lives per request).
        bound = type(handler.__name__, (handler,), {"owner": self})
        self._http = ThreadingHTTPServer(("127.0.0.1", self.port), bound)
        self._thread = threading.Thread(target=self._http.serve_forever, daemon=True)

    def __enter__(self) -> _Server:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._http.shutdown()
        self._http.server_close()


class _JwksHandler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        owner: JwksServer = self.owner  # type: ignore[attr-defined]
        owner.fetches += 1
        if owner.broken:
            self.send_response(500)
            self.end_headers()
            return
        body = json.dumps({"keys": list(owner.keys)}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: Any) -> None:
        pass


class JwksServer(_Server):
    """An identity provider's JWKS endpoint: the public keys it serves can change
    (rotation), or it can fail (``broken``: HTTP 500)."""

    def __init__(self) -> None:
        super().__init__(_JwksHandler)
        self.keys: list[dict[str, Any]] = []
        self.broken = False
        self.fetches = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/.well-known/jwks.json"


@dataclass(frozen=True)
class Captured:
    headers: dict[str, str]
    body: bytes


@dataclass
class _Recording:
    target: str
    captured: list[Captured] = field(default_factory=list)


class _ProxyHandler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        owner: RecordingProxy = self.owner  # type: ignore[attr-defined]
        body = self.rfile.read(int(self.headers["content-length"]))
        skipped = ("host", "content-length", "connection")
        headers = {k.lower(): v for k, v in self.headers.items() if k.lower() not in skipped}
        owner.recording.captured.append(Captured(headers, body))
        answer = httpx.post(owner.recording.target, content=body, headers=headers)
        self.send_response(answer.status_code)
        self.send_header("content-type", answer.headers.get("content-type", "application/json"))
        self.send_header("content-length", str(len(answer.content)))
        self.end_headers()
        self.wfile.write(answer.content)

    def log_message(self, *_: Any) -> None:
        pass


class RecordingProxy(_Server):
    """Sits between the gateway and a subgraph and keeps a copy of every request, as
    someone listening on the network between them would."""

    def __init__(self, target: str) -> None:
        super().__init__(_ProxyHandler)
        self.recording = _Recording(target)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/graphql"

    @property
    def captured(self) -> list[Captured]:
        return self.recording.captured
