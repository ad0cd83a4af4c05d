"""The stores one consent transaction works with, and how a use case asks for one."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, TypeVar

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

if TYPE_CHECKING:  # the modules of these stores use Stores themselves
    from mdm_consent.domain.contact_uses import ContactUseStore
    from mdm_consent.domain.legal_holds import DutyStore

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
    expiries: ExpiryStore
    duties: DutyStore
    contact_uses: ContactUseStore
    # What the transaction announces; sent after it commits (write transactions only).
    events: EventRecorder


class Transactions(Protocol):
    """Runs a unit of work in one read or write transaction of the consent graph."""

    async def read(self, work: Callable[[Stores], Awaitable[T]]) -> T: ...

    async def write(self, work: Callable[[Stores], Awaitable[T]]) -> T: ...
