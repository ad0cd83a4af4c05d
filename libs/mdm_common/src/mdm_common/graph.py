"""Graph database lifecycle and the one place where Cypher reaches the driver.

Works against any Bolt server speaking Cypher 5 (Neo4j 5, ArcadeDB's Bolt plugin).
Repositories (in each service's ``adapters/``) own the Cypher text; this module
owns connections, managed transactions, tracing and error translation.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime
from typing import Any, TypeVar

from neo4j import AsyncDriver, AsyncGraphDatabase, AsyncManagedTransaction, Record
from neo4j.exceptions import (
    ConstraintError,
    Neo4jError,
    ServiceUnavailable,
    SessionExpired,
    TransientError,
)
from neo4j.time import Date, DateTime, Duration, Time
from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode
from tenacity import (
    AsyncRetrying,
    retry_if_exception,
    stop_after_delay,
    wait_random_exponential,
)

from mdm_common.errors import Unavailable, WriteConflict
from mdm_common.settings import ServiceSettings

T = TypeVar("T")
Row = dict[str, Any]

log = logging.getLogger(__name__)
_tracer = trace.get_tracer("mdm_common.graph")


class Transaction:
    """A managed transaction that traces each statement.

    Span attributes carry the operation name and the parameterised Cypher text;
    parameter values (which may be personal data) are never recorded.
    """

    def __init__(self, tx: AsyncManagedTransaction, database: str) -> None:
        self._tx = tx
        self._database = database

    async def run(self, operation: str, cypher: str, **params: Any) -> list[Row]:
        return await self.execute(operation, cypher, params, plain=False)

    async def run_plain(self, operation: str, cypher: str, **params: Any) -> list[Row]:
        """``run`` for a statement that returns values, maps and lists only (no nodes,
        relationships or paths): its rows are taken as the driver hydrated them, without
        the driver's conversion of graph entities, a recursive walk through every
        nested value that costs as much as reading the rows (bulk merges read maps of
        many records)."""
        return await self.execute(operation, cypher, params, plain=True)

    async def execute(
        self, operation: str, cypher: str, params: dict[str, Any], *, plain: bool
    ) -> list[Row]:
        """Runs a statement, traced; benchmarks time statements here."""
        with _tracer.start_as_current_span(
            f"cypher {operation}",
            kind=SpanKind.CLIENT,
            attributes={
                "db.system.name": "neo4j",
                "db.namespace": self._database,
                "db.operation.name": operation,
                "db.query.text": cypher,
            },
        ):
            result = await self._tx.run(cypher, params)
            if plain:
                return [dict(record) async for record in result]
            return [row_of(record) async for record in result]


# Values ``Record.data`` hands over as they are.
_AS_IS = frozenset({str, int, float, bool, type(None), Date, DateTime, Duration, Time})
_record: Callable[[dict[str, Any]], Record] = Record  # the driver leaves it untyped


def _plain(value: Any) -> Any:
    kind = type(value)
    if kind in _AS_IS:
        return value
    if kind is dict:
        return {key: _plain(item) for key, item in value.items()}
    if kind is list:
        return [_plain(item) for item in value]
    # A node, relationship, path, point or anything else: the driver's own way.
    return _record({"value": value}).data()["value"]


def row_of(record: Record) -> Row:
    """``record.data()``, the same value, at a fraction of its cost.

    The driver's conversion asks every value, down to each property of each map, a
    chain of abstract-class ``isinstance`` questions; most rows hold maps, lists
    and scalars only. Plain values are taken by their exact type here and anything
    else (a node, a relationship, a path, a point) goes through the driver's own
    conversion.
    """
    return {key: _plain(value) for key, value in zip(record.keys(), record.values(), strict=True)}


class GraphClient:
    """Owns one async driver for one database; create at start-up, close at shutdown."""

    def __init__(
        self,
        *,
        uri: str,
        user: str,
        password: str,
        database: str,
        connect_timeout_s: float = 5.0,
        timeout_s: float = 5.0,
    ) -> None:
        self.database = database
        self.timeout_s = timeout_s
        self._driver: AsyncDriver = AsyncGraphDatabase.driver(
            uri,
            auth=(user, password),
            connection_timeout=connect_timeout_s,
            # Retries are ours (below): the driver's back-off starts at a second,
            # far too slow for writers that collide on one record.
            max_transaction_retry_time=0,
            connection_acquisition_timeout=connect_timeout_s,
        )

    async def close(self) -> None:
        await self._driver.close()

    async def ping(self) -> None:
        """Raise :class:`Unavailable` unless the server answers a trivial query."""
        await self.read(lambda tx: tx.run("ping", "RETURN 1 AS ok"))

    async def read(self, work: Callable[[Transaction], Awaitable[T]]) -> T:
        return await self._execute(work, write=False)

    async def write(self, work: Callable[[Transaction], Awaitable[T]]) -> T:
        """Run ``work`` in one write transaction: all of it commits, or none.

        ``work`` may be retried by the driver on transient errors, so it must be
        idempotent and free of side effects outside the transaction.
        """
        return await self._execute(work, write=True)

    async def apply_schema(self, statements: Iterable[str]) -> None:
        """Apply idempotent schema statements (``... IF NOT EXISTS``), one per transaction."""
        for statement in statements:
            # Schema statements run in auto-commit transactions on Neo4j.
            async with self._driver.session(database=self.database) as session:
                result = await session.run(statement)
                await result.consume()

    async def _execute(self, work: Callable[[Transaction], Awaitable[T]], *, write: bool) -> T:
        async def unit(tx: AsyncManagedTransaction) -> T:
            return await work(Transaction(tx, self.database))

        async def once() -> T:
            async with self._driver.session(database=self.database) as session:
                if write:
                    return await session.execute_write(unit)
                return await session.execute_read(unit)

        # Colliding writers (ArcadeDB: DeadlockDetected, ConcurrentModification, or a
        # record another transaction deleted meanwhile) and a connection lost on the
        # way are tried again, quickly and jittered, for half the deadline: giving up
        # still answers in time, and says why.
        retrying = AsyncRetrying(
            retry=retry_if_exception(worth_again),
            wait=wait_random_exponential(multiplier=0.01, max=0.25),
            stop=stop_after_delay(self.timeout_s / 2),
            reraise=True,
        )
        try:
            # A stalled server (stopped process, full disk, long GC) must not hold a
            # request forever: cancelling closes the connection it hangs on, and the
            # next request opens a fresh one.
            async with asyncio.timeout(self.timeout_s):
                result: T = await retrying(once)
                return result
        except TimeoutError as exc:
            trace.get_current_span().set_status(Status(StatusCode.ERROR, "graph timeout"))
            log.warning("graph %s gave no answer within %.1f s", self.database, self.timeout_s)
            raise Unavailable(
                f"The graph database did not answer within {self.timeout_s:g} s; try again."
            ) from exc
        except ConstraintError as exc:
            raise WriteConflict("The change conflicts with an existing record.") from exc
        except (ServiceUnavailable, SessionExpired, OSError) as exc:
            trace.get_current_span().set_status(Status(StatusCode.ERROR, "graph unavailable"))
            raise Unavailable("The graph database is not reachable; try again.") from exc
        except (TransientError, Neo4jError) as exc:
            if not worth_again(exc):
                log.error("graph query failed: %s", exc.code)
                raise
            # Conflicting concurrent writes that the retries did not resolve in time:
            # nothing was written.
            log.warning("graph transaction gave up after retries: %s", exc.code)
            raise Unavailable(
                "The database was busy with conflicting changes; nothing was written; try again."
            ) from exc


# ArcadeDB answers a read of a record that a concurrent transaction deleted (a
# household membership or a moved relationship) with this client error, not a
# transient one; the transaction, tried again, reads the committed state.
VANISHED_RECORD = "Neo.ClientError.Statement.EntityNotFound"


def worth_again(exc: BaseException) -> bool:
    """Whether a failed transaction is tried again: a collision with another
    transaction, or a lost connection; never a mistake of the statement itself."""
    if isinstance(exc, TransientError | ServiceUnavailable | SessionExpired):
        return True
    return isinstance(exc, Neo4jError) and exc.code == VANISHED_RECORD


def graph_client_from(settings: ServiceSettings) -> GraphClient:
    return GraphClient(
        uri=settings.graph_uri,
        user=settings.graph_user,
        password=settings.graph_password.get_secret_value(),
        database=settings.graph_database,
        connect_timeout_s=settings.graph_connect_timeout_s,
        timeout_s=settings.graph_timeout_s,
    )


def as_utc(value: Any) -> datetime:
    """A stored timestamp as an aware UTC datetime.

    Timestamps are always written in UTC. Neo4j returns them with their zone;
    ArcadeDB's Bolt returns them as local date-times without one.
    """
    native = value.to_native() if hasattr(value, "to_native") else value
    if not isinstance(native, datetime):
        raise TypeError(f"expected a datetime, got {type(native).__name__}")
    if native.tzinfo is None:
        return native.replace(tzinfo=UTC)
    return native.astimezone(UTC)
