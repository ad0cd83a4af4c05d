"""The export, page by page: the profile's ids in order, their golden records, the
contact check of the purpose, rows written as they come. Memory holds one page.

With a purpose, only the persons it allows (the contact check over the channel, at the
export's time) and only the columns of its data categories are written; without one,
every person and every column (role admin).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from mdm_common.errors import InvalidInput, NotFound
from mdm_distribution.domain.models import Verdict
from mdm_distribution.domain.ports import PurposeTerms
from mdm_distribution.exporting import rows
from mdm_distribution.exporting.writers import ExportFormat, RowWriter

PAGE = 2000  # persons a page: a few reads of the profile (500 each) and one check


class ExportSource(Protocol):
    async def active_ids(self, *, after: str | None, first: int) -> list[str]: ...

    async def records(self, ids: Sequence[str]) -> list[dict[str, Any]]: ...

    async def check(
        self, person_ids: Sequence[str], *, purpose: str, channel: str, at: datetime
    ) -> dict[str, Verdict]: ...

    async def purpose(self, code: str) -> PurposeTerms | None: ...


@dataclass(frozen=True)
class ExportRequest:
    format: ExportFormat
    purpose: str | None = None
    channel: str | None = None
    changed_since: datetime | None = None


@dataclass
class ExportProgress:
    scanned: int = 0  # persons looked at
    written: int = 0  # rows written
    after: str | None = None  # the last id looked at: where the next page starts
    done: bool = False
    columns: list[str] = field(default_factory=list)


async def columns_for(request: ExportRequest, source: ExportSource) -> list[str]:
    """The columns the request may write; refuses a purpose or channel it cannot use."""
    if request.purpose is None:
        if request.channel is not None:
            raise InvalidInput("A channel is given with a purpose only.", field="channel")
        return rows.columns(rows.ALL_CATEGORIES)
    terms = await source.purpose(request.purpose)
    if terms is None:
        raise NotFound(f"No purpose {request.purpose!r} is registered.", field="purpose")
    if request.channel not in terms.channels:
        raise InvalidInput(
            f"Name the channel of the export: one of {', '.join(terms.channels)}.",
            field="channel",
        )
    return rows.columns(terms.data_categories)


async def page_rows(
    ids: Sequence[str],
    source: ExportSource,
    request: ExportRequest,
    columns: Sequence[str],
    *,
    at: datetime,
) -> list[dict[str, str | None]]:
    """The rows of one page of ids: those the request's filters let through."""
    found = await source.records(ids)
    if request.changed_since is not None:
        since = request.changed_since
        found = [p for p in found if datetime.fromisoformat(p["updatedAt"]) >= since]
    if request.purpose is not None and found:
        assert request.channel is not None  # checked by columns_for
        verdicts = await source.check(
            [p["id"] for p in found], purpose=request.purpose, channel=request.channel, at=at
        )
        found = [p for p in found if verdicts.get(p["id"], Verdict(False, "")).allowed]
    return [rows.row_of(p, columns) for p in found]


async def export(
    request: ExportRequest,
    source: ExportSource,
    open_writer: Callable[[list[str]], RowWriter],
    *,
    at: datetime,
    page: int = PAGE,
    progress: Callable[[ExportProgress], Awaitable[None] | None] | None = None,
) -> ExportProgress:
    """Every page, into one writer; ``progress`` is told after each page."""
    state = ExportProgress(columns=await columns_for(request, source))
    writer = open_writer(state.columns)
    try:
        while not state.done:
            ids = await source.active_ids(after=state.after, first=page)
            if ids:
                written = await page_rows(ids, source, request, state.columns, at=at)
                await asyncio.to_thread(writer.write, written)
                state.scanned += len(ids)
                state.written += len(written)
                state.after = ids[-1]
            state.done = len(ids) < page
            if progress is not None:
                told = progress(state)
                if told is not None:
                    await told
    finally:
        writer.close()
    return state
