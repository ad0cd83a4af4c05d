"""People at companies, from what their source records say.

A person's record may name the company the person works for (``companyName``) or be
written from a business e-mail address (``anna.weber@mueller-bau.de``; a mass
provider's domain such as web.de says nothing). Each is a clue to a company: the
companies whose name key is the employer's (legal form, case and umlauts folded
away), and the companies with that web domain (their websites', their own business
e-mail addresses').

- One company both clues agree on, or the only company one clue finds (the other
  clue absent), is sure: the person is linked to it (``WORKS_FOR`` with the record's
  source and the clue that decided, role "employee").
- Several companies, or clues pointing at different companies, are unsure: an
  employment proposal names the candidates, and a steward decides
  (``decideEmploymentProposal``). A head office and its branches share a domain; a
  name may be shared by two firms in different towns.
- No company yet: nothing now. The record's clues are kept on it, and a company
  ingested later is linked to the records that name it or its domain (as a parent
  that arrives after its subsidiaries is).

A link is added, never taken away by a source: a person may work for two companies,
and a record naming another employer later adds that one.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from mdm_common.contracts import Event, EventRecorder
from mdm_common.errors import Conflict, InvalidInput, NotFound
from mdm_profile.domain.quality.company_ids import email_domain
from mdm_profile.domain.quality.legal_forms import name_key
from mdm_profile.domain.records import CleanRecord, record_key

EMPLOYEE = "employee"  # the role a link from a source record gets
MAX_NOTE = 2000


class Via(StrEnum):
    """What linked a person to a company."""

    NAME_AND_DOMAIN = "NAME_AND_DOMAIN"
    COMPANY_NAME = "COMPANY_NAME"
    EMAIL_DOMAIN = "EMAIL_DOMAIN"
    STEWARD = "STEWARD"


@dataclass(frozen=True)
class EmployerClue:
    """What one source record says about where its person works."""

    person_id: str
    source: str
    source_id: str
    name_key: str | None  # of the employer the record names
    domain: str | None  # of its business e-mail address

    @property
    def record_key(self) -> str:
        return record_key(self.source, self.source_id)


def employer_key(employer: str | None) -> str | None:
    """The name key of the employer a record names (None: it names none)."""
    return (name_key(employer) or None) if employer else None


def clue_of(person_id: str, record: CleanRecord) -> EmployerClue:
    return EmployerClue(
        person_id,
        record.source,
        record.source_id,
        employer_key(record.employer),
        email_domain(record.email),
    )


@dataclass(frozen=True)
class EmploymentLink:
    person_id: str
    company_id: str
    source: str | None  # None: a steward's decision without a source record's say
    source_id: str | None
    via: Via


@dataclass(frozen=True)
class EmploymentProposal:
    """Companies a record may mean, for a steward to choose from (or none)."""

    id: str
    person_id: str
    record_key: str
    company_ids: tuple[str, ...]
    via: Via  # the clues that found the candidates
    created_at: datetime
    status: str = "OPEN"  # OPEN, DECIDED
    decided_company_id: str | None = None
    decided_by: str | None = None
    decided_at: datetime | None = None
    note: str | None = None


@dataclass(frozen=True)
class Resolution:
    company_id: str | None  # the sure company, if there is one
    candidates: tuple[str, ...]  # the companies a steward chooses from, if unsure
    via: Via | None


def resolve(clue: EmployerClue, by_name: Sequence[str], by_domain: Sequence[str]) -> Resolution:
    """What one record's clues decide, given the companies each clue finds."""
    named, at_domain = set(by_name), set(by_domain)
    if clue.name_key and clue.domain:
        both = named & at_domain
        if len(both) == 1:
            return Resolution(next(iter(both)), (), Via.NAME_AND_DOMAIN)
        # A clue that finds nothing says nothing against the other (a company without
        # a website, a name the source wrote otherwise).
        if not at_domain and len(named) == 1:
            return Resolution(next(iter(named)), (), Via.COMPANY_NAME)
        if not named and len(at_domain) == 1:
            return Resolution(next(iter(at_domain)), (), Via.EMAIL_DOMAIN)
        found, via = named | at_domain, Via.NAME_AND_DOMAIN
    elif clue.name_key:
        found, via = named, Via.COMPANY_NAME
    else:
        found, via = at_domain, Via.EMAIL_DOMAIN
    if len(found) == 1:
        return Resolution(next(iter(found)), (), via)
    return Resolution(None, tuple(sorted(found)), via if found else None)


class EmploymentStore(Protocol):
    async def companies_named(self, name_keys: Sequence[str]) -> dict[str, list[str]]:
        """Name key -> the companies in force with that name key."""
        ...

    async def companies_at(self, domains: Sequence[str]) -> dict[str, list[str]]:
        """Domain -> the companies in force with that web domain."""
        ...

    async def clues_naming(
        self, name_keys: Sequence[str], domains: Sequence[str]
    ) -> list[EmployerClue]:
        """The clues of the source records (of persons in force) that name one of
        ``name_keys`` or have a business e-mail address at one of ``domains``."""
        ...

    async def link(self, links: Sequence[EmploymentLink], *, at: datetime) -> None:
        """Idempotent: a person already working for the company keeps its link."""
        ...

    async def propose(self, proposals: Sequence[EmploymentProposal]) -> None:
        """One open proposal per record: proposing again replaces its candidates."""
        ...

    async def settle_proposals(self, record_keys: Sequence[str], *, at: datetime) -> None:
        """Close the open proposals of records now linked for sure."""
        ...

    async def decided_candidates(
        self, record_keys: Sequence[str]
    ) -> dict[str, set[tuple[str, ...]]]:
        """Record key -> the candidate sets stewards decided on for it."""
        ...

    async def open_proposals(self, *, first: int) -> list[EmploymentProposal]: ...

    async def get_proposal(self, proposal_id: str) -> EmploymentProposal | None: ...

    async def decide_proposal(
        self,
        proposal_id: str,
        company_id: str | None,
        *,
        actor: str,
        note: str,
        at: datetime,
    ) -> None: ...


@dataclass(frozen=True)
class LinkOutcome:
    linked: int
    proposed: int


async def link_people(
    clues: Sequence[EmployerClue], *, store: EmploymentStore, now: datetime
) -> LinkOutcome:
    """Link each clue's person where its company is sure; propose where unsure. In the
    caller's transaction; a few statements for a whole batch."""
    clues = [c for c in clues if c.name_key or c.domain]
    if not clues:
        return LinkOutcome(0, 0)
    named = await store.companies_named(sorted({c.name_key for c in clues if c.name_key}))
    at = await store.companies_at(sorted({c.domain for c in clues if c.domain}))
    links, linked, proposals = [], [], []
    for clue in clues:
        found = resolve(clue, named.get(clue.name_key or "", []), at.get(clue.domain or "", []))
        if found.company_id is not None and found.via is not None:
            link = EmploymentLink(
                clue.person_id, found.company_id, clue.source, clue.source_id, found.via
            )
            links.append(link)
            linked.append(clue)
        elif found.candidates and found.via is not None:
            proposal = EmploymentProposal(
                str(uuid.uuid4()), clue.person_id, clue.record_key, found.candidates, found.via, now
            )
            proposals.append(proposal)
    await store.link(links, at=now)
    await store.settle_proposals([c.record_key for c in linked], at=now)
    # A steward who chose among these very candidates for the record has answered it.
    decided = await store.decided_candidates([p.record_key for p in proposals])
    fresh = [p for p in proposals if p.company_ids not in decided.get(p.record_key, set())]
    await store.propose(fresh)
    return LinkOutcome(len(links), len(fresh))


async def link_to_companies(
    name_keys: Sequence[str], domains: Sequence[str], *, store: EmploymentStore, now: datetime
) -> LinkOutcome:
    """Companies created or changed: the records that name them (or their domains) are
    resolved again, now that these companies exist."""
    keys, found_domains = [k for k in name_keys if k], [d for d in domains if d]
    if not keys and not found_domains:
        return LinkOutcome(0, 0)
    return await link_people(await store.clues_naming(keys, found_domains), store=store, now=now)


async def decide_proposal(
    proposal_id: str,
    company_id: str | None,
    *,
    actor: str,
    note: str,
    store: EmploymentStore,
    events: EventRecorder,
    now: datetime,
) -> EmploymentProposal:
    """A steward's choice among a proposal's companies (None: none of them); a link is
    announced as a change of the company, as ``linkEmployee`` announces it."""
    note = note.strip()
    if len(note) > MAX_NOTE:
        raise InvalidInput(f"A note has at most {MAX_NOTE} characters.", field="note")
    proposal = await store.get_proposal(proposal_id)
    if proposal is None:
        raise NotFound(f"No employment proposal with id {proposal_id}.", field="id")
    if proposal.status != "OPEN":
        raise Conflict(f"Employment proposal {proposal_id} was decided already.", field="id")
    if company_id is not None and company_id not in proposal.company_ids:
        raise InvalidInput(
            "companyId must be one of the proposal's companies (or null for none).",
            field="companyId",
        )
    if company_id is not None:
        source, _, source_id = proposal.record_key.partition("|")
        link = EmploymentLink(proposal.person_id, company_id, source, source_id, Via.STEWARD)
        await store.link([link], at=now)
        events.record(Event.COMPANY_UPDATED, company_id=company_id)
    await store.decide_proposal(proposal_id, company_id, actor=actor, note=note, at=now)
    found = await store.get_proposal(proposal_id)
    assert found is not None  # decided just now
    return found
