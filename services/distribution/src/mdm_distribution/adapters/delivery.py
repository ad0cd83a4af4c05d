"""The distribution subgraph's background work: the stream relay and the webhook loops,
run by the one process that holds the leadership (:class:`streams.Leadership`)."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, wait_exponential_jitter

from mdm_distribution.adapters.streams import Leadership, StreamRelay
from mdm_distribution.adapters.webhooks import WebhookDispatcher

log = logging.getLogger(__name__)
STEP_S = 1.0  # how often leadership is renewed and the webhook loops kept in step


class DeliveryLoop:
    def __init__(
        self, leadership: Leadership, relay: StreamRelay, dispatcher: WebhookDispatcher
    ) -> None:
        self._leadership = leadership
        self._relay = relay
        self._dispatcher = dispatcher
        self._task: asyncio.Task[None] | None = None

    async def run(self) -> None:
        """Forever; a cycle that fails (Redis or the graph away) is tried again after a
        growing, jittered pause. Nothing is lost meanwhile: the messages wait in the
        graph, the deliveries in the streams."""
        while True:
            async for attempt in AsyncRetrying(
                wait=wait_exponential_jitter(multiplier=0.2, max=10, jitter=0.2),
                retry=retry_if_exception_type(Exception),
                before_sleep=_log_retry,
            ):
                with attempt:
                    await self._lead_for_a_step()

    async def _lead_for_a_step(self) -> None:
        if not await self._leadership.holds():
            await self._dispatcher.stop()
            await asyncio.sleep(STEP_S)
            return
        await self._dispatcher.keep_in_step()
        loop = asyncio.get_running_loop()
        until = loop.time() + STEP_S
        while loop.time() < until:
            await self._relay.drain()
            await self._relay.pause()

    async def start(self) -> None:
        self._task = asyncio.create_task(self.run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self._dispatcher.stop()
        with contextlib.suppress(Exception):
            await self._leadership.release()


def _log_retry(state: RetryCallState) -> None:
    error = state.outcome.exception() if state.outcome else None
    log.warning(
        "distribution delivery: %s (attempt %d); messages stay queued",
        type(error).__name__,
        state.attempt_number,
    )
