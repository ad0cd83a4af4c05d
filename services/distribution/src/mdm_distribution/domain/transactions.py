"""The unit of work as the distribution domain sees it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol, TypeVar

from mdm_distribution.domain.stores import Stores

T = TypeVar("T")


class Transactions(Protocol):
    async def read(self, work: Callable[[Stores], Awaitable[T]]) -> T: ...

    async def write(self, work: Callable[[Stores], Awaitable[T]]) -> T: ...
