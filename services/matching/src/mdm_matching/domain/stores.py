"""The stores one matching transaction works with, and how a use case asks for one."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol, TypeVar

from mdm_common.contracts import EventRecorder
from mdm_matching.domain.company_ports import CompanySubjectStore
from mdm_matching.domain.ports import (
    CalibrationStore,
    PrivacyStore,
    RematchStore,
    ReviewStore,
    SubjectStore,
)

T = TypeVar("T")


@dataclass(frozen=True)
class Stores:
    subjects: SubjectStore
    reviews: ReviewStore
    rematch: RematchStore
    privacy: PrivacyStore
    calibration: CalibrationStore
    # What the transaction announces; sent after it commits (write transactions only).
    events: EventRecorder
    companies: CompanySubjectStore


class Transactions(Protocol):
    """Runs a unit of work in one read or write transaction of the matching graph."""

    async def read(self, work: Callable[[Stores], Awaitable[T]]) -> T: ...

    async def write(self, work: Callable[[Stores], Awaitable[T]]) -> T: ...
