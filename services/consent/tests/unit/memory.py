"""An in-memory consent graph for the recording use cases: purposes, events and the
outbox of one write transaction, kept only if the work succeeds (no servers)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import fields
from typing import Any, TypeVar

from mdm_common.contracts import Event
from mdm_consent.domain.lineage import GroupFacts, Lineage
from mdm_consent.domain.models import ConsentEvent, Purpose
from mdm_consent.domain.ports import ProfilePerson
from mdm_consent.domain.stores import Stores

T = TypeVar("T")


class Directory:
    """Every person exists under the id asked about."""

    async def resolve(self, person_id: str) -> str | None:
        return person_id

    async def lookup(self, person_id: str) -> ProfilePerson | None:
        return ProfilePerson(person_id)  # no birth date known


class _Purposes:
    def __init__(self, purposes: Sequence[Purpose]) -> None:
        self._found = {p.code: p for p in purposes}

    async def get(self, code: str, *, texts: bool = False) -> Purpose | None:
        return self._found.get(code)


class _Consents:
    def __init__(self, events: list[ConsentEvent]) -> None:
        self.events = events

    async def append(self, event: ConsentEvent) -> None:
        self.events.append(event)

    async def facts_of(self, person_ids: Sequence[str], purpose: str) -> dict[str, GroupFacts]:
        return {
            pid: GroupFacts(
                Lineage(pid),
                tuple(e.fact for e in self.events if e.person_id == pid and e.purpose == purpose),
            )
            for pid in person_ids
        }


class _Outbox:
    def __init__(self) -> None:
        self.recorded: list[tuple[str, dict[str, str]]] = []

    def record(self, event: str, **ids: str) -> None:
        self.recorded.append((event, ids))


class Graph:
    """Committed events and outbox entries; a failed transaction leaves both unchanged."""

    def __init__(self, *purposes: Purpose) -> None:
        self.purposes = purposes
        self.events: list[ConsentEvent] = []
        self.outbox: list[tuple[str, dict[str, str]]] = []

    def mailer_requests(self) -> list[tuple[str, dict[str, str]]]:
        """What the mailing system is asked to send (double opt-in requests)."""
        return [e for e in self.outbox if e[0] == Event.DOUBLE_OPT_IN_REQUESTED]

    def announced(self) -> list[tuple[str, str, str]]:
        """The consent changes announced to the change stream: type, purpose, channel."""
        return [
            (ids["change"], ids["purpose"], ids["channel"])
            for name, ids in self.outbox
            if name == Event.CONSENT_CHANGED
        ]

    async def read(self, work: Callable[[Stores], Awaitable[T]]) -> T:
        return await work(self._stores(list(self.events), _Outbox()))

    async def write(self, work: Callable[[Stores], Awaitable[T]]) -> T:
        events, outbox = list(self.events), _Outbox()
        done = await work(self._stores(events, outbox))
        self.events, self.outbox = events, [*self.outbox, *outbox.recorded]
        return done

    def _stores(self, events: list[ConsentEvent], outbox: _Outbox) -> Stores:
        # Only purposes, consents and the outbox are used; any other store would fail.
        nothing: Any = None
        others = {f.name: nothing for f in fields(Stores)}
        return Stores(
            **others
            | {  # type: ignore[arg-type]
                "purposes": _Purposes(self.purposes),
                "consents": _Consents(events),
                "events": outbox,
            }
        )
