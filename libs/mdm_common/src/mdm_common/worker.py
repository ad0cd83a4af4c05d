"""Plumbing for Celery workers: tracing, a per-process event loop, dead letters."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any, TypeVar

from celery import Celery, current_task, signals
from opentelemetry.instrumentation.celery import CeleryInstrumentor

from mdm_common.dead_letters import record_dead_letter
from mdm_common.errors import Unavailable
from mdm_common.graph import GraphClient, graph_client_from
from mdm_common.inbox import once
from mdm_common.outbox import OutboxEvent, Relay
from mdm_common.settings import ServiceSettings
from mdm_common.telemetry import setup_tracing, shutdown_tracing
from mdm_common.unit_of_work import relay_for

T = TypeVar("T")
log = logging.getLogger(__name__)

# Options of every task that reacts to an event: a dependency that is down
# (Unavailable) is retried with back-off; anything else fails the task (dead letter).
# Tasks must be idempotent: with late acks a redelivered message runs them again.
RELIABLE_TASK = {"autoretry_for": (Unavailable,), "retry_backoff": True,
                 "retry_backoff_max": 60, "max_retries": 8}  # fmt: skip
_loop: asyncio.AbstractEventLoop | None = None


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine on this worker process's own loop (async drivers bind to it)."""
    global _loop  # noqa: PLW0603 - one loop per worker process, created lazily
    if _loop is None or _loop.is_closed():
        _loop = asyncio.new_event_loop()
    return _loop.run_until_complete(coro)


def instrument_worker(app: Celery, *, service_name: str) -> None:
    """Trace tasks (continuing the publisher's trace) and keep a dead-letter record."""

    @signals.worker_process_init.connect(weak=False)
    def _init_process(**_: Any) -> None:
        setup_tracing(service_name)
        CeleryInstrumentor().instrument()

    @signals.worker_process_shutdown.connect(weak=False)
    def _shutdown_process(**_: Any) -> None:
        shutdown_tracing()
        if _loop is not None and not _loop.is_closed():
            _loop.close()

    @signals.task_failure.connect(weak=False)
    def _dead_letter(
        sender: Any = None, task_id: str | None = None, exception: Any = None, **_: Any
    ) -> None:
        # Only the task name, id and error type: arguments may not be copied anywhere.
        record_dead_letter(
            app,
            task=getattr(sender, "name", "?"),
            task_id=task_id,
            error=type(exception).__name__,
        )


def message_id() -> str | None:
    """The id of the message the current task runs for: the same on every delivery
    of one event to one subscriber (see :func:`mdm_common.events.message_id`)."""
    request = current_task.request if current_task else None
    return getattr(request, "id", None)


class WorkerGraph:
    """One worker process's way to its service's graph: the client (made on first use,
    inside the process's loop, with the service's schema applied), the relay that
    sends what its tasks commit, and the inbox its tasks run through."""

    def __init__(self, settings: ServiceSettings, celery: Celery, schema: Sequence[str]) -> None:
        self._settings = settings
        self._celery = celery
        self._schema = schema
        self._graph: GraphClient | None = None
        self._relay: Relay | None = None

    async def connect(self) -> GraphClient:
        if self._graph is None:
            self._graph = graph_client_from(self._settings)
            await self._graph.apply_schema(self._schema)
            self._relay = relay_for(self._graph, self._celery)
        return self._graph

    async def after_commit(self, events: Sequence[OutboxEvent]) -> None:
        """Send a task's events right after its commit; what fails stays pending for
        the subgraph's relay."""
        await self.connect()
        assert self._relay is not None  # made with the client
        await self._relay.send_now(events)

    async def once(self, work: Callable[[], Awaitable[T]]) -> T | None:
        """Run a task's work unless this message was done before (a duplicate)."""
        return await once(await self.connect(), message_id(), work)
