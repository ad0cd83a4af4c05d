"""Readiness: which of a server's dependencies answers, as ``/readyz`` tells it.

``/readyz`` answers 200 when every dependency answers, and 503 naming the ones that
do not::

    {"status": "unavailable", "service": "profile",
     "dependencies": {"graph": {"status": "ok"},
                      "broker": {"status": "unavailable", "error": "OperationalError"}}}

Liveness (``/healthz``) stays a constant answer: a process whose broker is down is
alive, and restarting it would not bring the broker back. Each dependency is probed
by one request at a time and its answer kept for a second, so a burst of probes
costs one connection, and a stalled dependency costs one waiting probe, never a pile.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import httpx
from kombu.connection import Connection
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

Probe = Callable[[], Awaitable[None]]
"""Returns when the dependency answers; raises otherwise."""


class NotReady(Exception):
    """A dependency answers but cannot serve yet (e.g. the graph schema is not applied)."""

    def __init__(self, status: str, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass
class Dependency:
    """A named dependency, its probe and how long a probe may take."""

    name: str
    probe: Probe
    timeout_s: float = 2.0
    remember_s: float = 1.0
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock, init=False, repr=False)
    _answer: tuple[float, dict[str, str]] | None = field(default=None, init=False, repr=False)

    async def check(self) -> dict[str, str]:
        """``{"status": "ok"}``, or the status and the type of the failure."""
        async with self._lock:
            now = time.monotonic()
            if self._answer is not None and now - self._answer[0] < self.remember_s:
                return self._answer[1]
            answer = await self._probe_once()
            self._answer = (time.monotonic(), answer)
            return answer

    async def _probe_once(self) -> dict[str, str]:
        try:
            await asyncio.wait_for(self.probe(), timeout=self.timeout_s)
        except NotReady as exc:
            return {"status": exc.status, "error": exc.reason}
        except TimeoutError:
            return {"status": "unavailable", "error": f"no answer within {self.timeout_s:g} s"}
        except Exception as exc:
            # The type only: a message may carry a URL with credentials.
            return {"status": "unavailable", "error": type(exc).__name__}
        return {"status": "ok"}


def readiness_endpoint(
    service: str, dependencies: Sequence[Dependency]
) -> Callable[[Request], Awaitable[Response]]:
    """The ``/readyz`` handler for ``dependencies`` (probed concurrently)."""

    async def readyz(_: Request) -> Response:
        answers = await asyncio.gather(*(d.check() for d in dependencies))
        found = {d.name: answer for d, answer in zip(dependencies, answers, strict=True)}
        missing = {answer["status"] for answer in found.values()} - {"ok"}
        ready = not missing
        body = {
            "status": "ready"
            if ready
            else "starting"
            if missing == {"starting"}
            else "unavailable",
            "service": service,
            "dependencies": found,
        }
        return JSONResponse(body, status_code=200 if ready else 503)

    return readyz


# One thread for blocking broker probes, so a stalled broker holds one thread, not
# the event loop's default pool.
_BROKER_PROBES = ThreadPoolExecutor(max_workers=1, thread_name_prefix="broker-probe")


def broker_probe(url: str, *, timeout_s: float = 2.0) -> Probe:
    """Connect to the Celery broker at ``url`` (Redis or AMQP) through kombu, as the
    workers and the event publisher do."""

    def connect() -> None:
        options: dict[str, Any] = {"socket_timeout": timeout_s}
        # kombu's constructor carries no annotations.
        connection = Connection(  # type: ignore[no-untyped-call]
            url, connect_timeout=timeout_s, transport_options=options
        )
        with connection as conn:
            conn.connect()

    async def probe() -> None:
        await asyncio.get_running_loop().run_in_executor(_BROKER_PROBES, connect)

    return probe


def http_probe(url: str, *, timeout_s: float = 2.0) -> Probe:
    """GET ``url``; a 2xx answer is ready."""

    async def probe() -> None:
        async with httpx.AsyncClient(timeout=timeout_s) as client:
            response = await client.get(url)
        if not response.is_success:
            raise NotReady("unavailable", f"HTTP {response.status_code}")

    return probe
