"""Companies and their hierarchy: parent, subsidiaries, ultimate parent; employment.

The hierarchy is a forest: every company has at most one parent, and a change that
would close a cycle is refused with the path it would have closed.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Protocol

from mdm_common.contracts import Event, EventRecorder
from mdm_common.errors import InvalidInput, NotFound
from mdm_profile.domain.quality.addresses import PostalAddress

MAX_NAME = 300
MAX_DEPTH = 10


@dataclass(frozen=True)
class CompanyDetails:
    """What a company built from source records knows besides its name
    (``domain/company_golden.py``); a company created by hand has none."""

    legal_form: str | None = None
    vat_id: str | None = None
    lei: str | None = None
    industry_code: str | None = None
    address: PostalAddress | None = None
    phone: str | None = None  # E.164
    email: str | None = None
    domains: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()


@dataclass(frozen=True)
class Company:
    id: str
    name: str
    registration_number: str | None
    country: str | None
    parent_id: str | None
    created_at: datetime
    details: CompanyDetails | None = None


@dataclass(frozen=True)
class Subsidiary:
    company: Company
    depth: int


@dataclass(frozen=True)
class Employment:
    """A company a person works for (WORKS_FOR), with the person's role there and, for
    a link made from a source record, that record and the clue that decided
    (``domain/employment.py``)."""

    company: Company
    role: str
    source: str | None = None
    source_id: str | None = None
    via: str | None = None  # None: linked by hand (linkEmployee)


class CompanyStore(Protocol):
    async def add(self, company: Company) -> None: ...

    async def lock(self, ids: Sequence[str]) -> dict[str, Company]:
        """Read companies for update; concurrent hierarchy changes serialise here."""
        ...

    async def path_up(self, company_id: str) -> list[str]:
        """The company, its parent, ... up to its ultimate parent."""
        ...

    async def set_parent(self, company_id: str, parent_id: str | None) -> None: ...

    async def paths_up(self, company_ids: Sequence[str]) -> dict[str, list[str]]:
        """For each company: it, its parent, ... up to its ultimate parent."""
        ...

    async def set_parents(self, links: dict[str, str]) -> None:
        """Each company (key) placed below its parent (value), in one statement."""
        ...

    async def heights(self, company_ids: Sequence[str]) -> dict[str, int]:
        """For each company: the levels of its subsidiaries below it (0: none)."""
        ...

    async def employ(self, person_id: str, company_id: str, role: str) -> bool:
        """False if there is no active person with that id."""
        ...

    async def record_parent_decision(
        self, company_id: str, *, actor: str, note: str, at: datetime
    ) -> None:
        """A steward decided the parent: sources no longer move it; its conflict ends."""
        ...

    async def parent_conflicts(self, limit: int) -> list[ParentConflict]:
        """Companies whose sources name different parents, by name."""
        ...


@dataclass(frozen=True)
class ParentConflict:
    company: Company
    parents_named: tuple[str, ...]  # company ids, the one linked first


def _text(value: str | None, *, field: str, required: bool = False) -> str | None:
    cleaned = " ".join((value or "").split()) or None
    if required and cleaned is None:
        raise InvalidInput(f"{field} must not be empty.", field=field)
    if cleaned and len(cleaned) > MAX_NAME:
        raise InvalidInput(f"{field} is longer than {MAX_NAME} characters.", field=field)
    return cleaned


async def create_company(
    *,
    name: str,
    registration_number: str | None,
    country: str | None,
    store: CompanyStore,
    events: EventRecorder,
    now: datetime,
) -> Company:
    iso = _text(country, field="country")
    if iso is not None and (len(iso) != 2 or not iso.isalpha()):
        raise InvalidInput("country must be an ISO 3166-1 alpha-2 code.", field="country")
    company = Company(
        id=str(uuid.uuid4()),
        name=str(_text(name, field="name", required=True)),
        registration_number=_text(registration_number, field="registrationNumber"),
        country=iso.upper() if iso else None,
        parent_id=None,
        created_at=now,
    )
    await store.add(company)
    events.record(Event.COMPANY_CREATED, company_id=company.id)
    return company


async def set_parent(
    company_id: str, parent_id: str | None, *, store: CompanyStore, events: EventRecorder
) -> Company:
    """Attach a company below ``parent_id`` (or detach it with ``None``)."""
    ids = [company_id] if parent_id is None else [company_id, parent_id]
    found = await store.lock(ids)
    for wanted, field in ((company_id, "companyId"), (parent_id, "parentId")):
        if wanted is not None and wanted not in found:
            raise NotFound(f"No company with id {wanted}.", field=field)
    if parent_id is not None:
        above = await store.path_up(parent_id)
        if company_id in above:
            cycle = [*above[: above.index(company_id) + 1], parent_id]
            raise InvalidInput(
                f"Company {parent_id} is below {company_id}: the change would make a cycle.",
                field="parentId",
                details={"reason": "HIERARCHY_CYCLE", "cycle": cycle},
            )
        if len(above) >= MAX_DEPTH:
            raise InvalidInput(
                f"Hierarchies are at most {MAX_DEPTH} levels deep.", field="parentId"
            )
    await store.set_parent(company_id, parent_id)
    events.record(Event.COMPANY_UPDATED, company_id=company_id)
    return replace(found[company_id], parent_id=parent_id)


MAX_NOTE = 2000


async def decide_parent(
    company_id: str,
    parent_id: str | None,
    *,
    actor: str,
    note: str,
    store: CompanyStore,
    events: EventRecorder,
    now: datetime,
) -> Company:
    """A steward's decision on a company's parent (``None``: it has none): made like
    ``set_parent``, and kept against every source's reference from then on."""
    clean_note = " ".join(note.split())
    if not clean_note:
        raise InvalidInput("Say why this parent is right (note).", field="note")
    if len(clean_note) > MAX_NOTE:
        raise InvalidInput(f"A note has at most {MAX_NOTE} characters.", field="note")
    company = await set_parent(company_id, parent_id, store=store, events=events)
    await store.record_parent_decision(company_id, actor=actor, note=clean_note, at=now)
    return company


async def set_parents(links: dict[str, str], *, store: CompanyStore) -> dict[str, InvalidInput]:
    """Place many companies below their parents at once (companies from source records):
    the links that would close a cycle, also with each other, or go deeper than
    :data:`MAX_DEPTH` are not made; they are answered with the error ``set_parent``
    gives. Every company named must exist."""
    ids = sorted({*links, *links.values()})
    await store.lock(ids)
    parent_of: dict[str, str | None] = {}
    for path in (await store.paths_up(ids)).values():
        for below, above in zip(path, [*path[1:], None], strict=True):
            parent_of[below] = above
    stored_heights = await store.heights(ids)
    made: dict[str, str] = {}

    def up(company_id: str) -> list[str]:
        path = [company_id]
        while (above := parent_of.get(path[-1])) is not None and len(path) <= MAX_DEPTH + 1:
            if above in path:  # a cycle among earlier links: stop (never made)
                break
            path.append(above)
        return path

    def height(company_id: str, seen: frozenset[str] = frozenset()) -> int:
        """Levels below, with the links made so far in this call."""
        below = [c for c, p in made.items() if p == company_id and c not in seen]
        mine = stored_heights.get(company_id, 0)
        return max([mine, *(1 + height(c, seen | {company_id}) for c in below)])

    refused: dict[str, InvalidInput] = {}
    for company_id, parent_id in sorted(links.items()):
        chain = up(parent_id)
        if company_id in chain:
            cycle = [*chain[: chain.index(company_id) + 1], parent_id]
            refused[company_id] = InvalidInput(
                f"Company {parent_id} is below {company_id}: the change would make a cycle.",
                field="parentId",
                details={"reason": "HIERARCHY_CYCLE", "cycle": cycle},
            )
        elif len(chain) + 1 + height(company_id) > MAX_DEPTH:
            refused[company_id] = InvalidInput(
                f"Hierarchies are at most {MAX_DEPTH} levels deep.", field="parentId"
            )
        else:
            parent_of[company_id] = made[company_id] = parent_id
    if made:
        await store.set_parents(made)
    return refused


async def link_employee(
    person_id: str, company_id: str, role: str, *, store: CompanyStore, events: EventRecorder
) -> None:
    clean_role = _text(role, field="role") or "EMPLOYEE"
    if company_id not in await store.lock([company_id]):
        raise NotFound(f"No company with id {company_id}.", field="companyId")
    if not await store.employ(person_id, company_id, clean_role):
        raise NotFound(f"No person with id {person_id}.", field="personId")
    events.record(Event.COMPANY_UPDATED, company_id=company_id)
