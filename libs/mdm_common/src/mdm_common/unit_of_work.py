"""One write transaction plus the events it produced, published only after commit."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from mdm_common.events import Outbox
from mdm_common.graph import GraphClient, Transaction

T = TypeVar("T")


class UnitOfWork:
    def __init__(self, graph: GraphClient, outbox: Outbox) -> None:
        self.graph = graph
        self.outbox = outbox

    async def write(self, work: Callable[[Transaction], Awaitable[T]]) -> T:
        async def attempt(tx: Transaction) -> T:
            # The driver may retry a transaction: only the last attempt's events count.
            self.outbox.discard()
            return await work(tx)

        try:
            result = await self.graph.write(attempt)
        except BaseException:
            self.outbox.discard()
            raise
        # Celery's publish is blocking I/O; the thread inherits the trace context.
        await asyncio.to_thread(self.outbox.publish)
        return result
