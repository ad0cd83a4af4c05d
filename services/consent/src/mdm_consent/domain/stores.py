"""The stores one consent transaction works with, and how a use case asks for one."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol, TypeVar

from mdm_common.contracts import EventRecorder
from mdm_consent.domain.ports import (
    AuditStore,
    ConsentStore,
    ExpiryStore,
    MergeStore,
    ProcessingStore,
    PurposeStore,
    RequestStore,
    RetentionStore,
)

T = TypeVar("T")


@dataclass(frozen=True)
class Stores:
    purposes: PurposeStore
    consents: ConsentStore
    audits: AuditStore
    merges: MergeStore
    requests: RequestStore
    retention: RetentionStore
    processing: ProcessingStore
    # What the transaction announces; sent after it commits (write transactions only).
    events: EventRecorder
    expiries: ExpiryStore


class Transactions(Protocol):
    """Runs a unit of work in one read or write transaction of the consent graph."""

    async def read(self, work: Callable[[Stores], Awaitable[T]]) -> T: ...

    async def write(self, work: Callable[[Stores], Awaitable[T]]) -> T: ...
