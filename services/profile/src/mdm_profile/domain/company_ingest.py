"""Company source records in: each one updates the company it described before or
creates one; every touched company's golden record is built again from all of its
records; and parents named in records become the hierarchy.

A parent is linked once a company the record names is known, whether it arrived in
the same batch, before, or later (its arrival links the children that waited for it).
The most trusted source's reference that finds exactly one company decides; a
reference of another source that finds a different company is a conflict, flagged
on the records of the batch (``PARENT_CONFLICT``) and kept on the company for a
steward (``companyParentConflicts``); the trusted one stays until a steward decides,
and a steward's decision stands against every source. A link
that would close a cycle is not made (``PARENT_CYCLE``), nor one that would make the
hierarchy deeper than ``companies.MAX_DEPTH`` (``PARENT_TOO_DEEP``). Links set by hand
(``setParentCompany``) stay until a source names a parent.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Protocol

from mdm_common.contracts import Event, EventRecorder
from mdm_profile.domain import companies, employment
from mdm_profile.domain.company_golden import CompanyGolden, build_company_golden
from mdm_profile.domain.company_records import CleanCompanyRecord, ParentReference
from mdm_profile.domain.employment import EmploymentStore
from mdm_profile.domain.quality.report import QualityReport, Severity


@dataclass(frozen=True)
class StoredCompanyRecord:
    company_id: str
    record: CleanCompanyRecord


class CompanyRecordStore(Protocol):
    async def records_by_key(self, keys: Sequence[str]) -> dict[str, StoredCompanyRecord]: ...

    async def records_of(self, company_ids: Sequence[str]) -> dict[str, list[CleanCompanyRecord]]:
        """Every record of each company, in key order."""
        ...

    async def save(
        self,
        goldens: dict[str, CompanyGolden],
        records: Sequence[StoredCompanyRecord],
        *,
        created: set[str],
        now: datetime,
    ) -> None: ...

    async def companies_named(
        self, references: Sequence[tuple[str, ParentReference]]
    ) -> list[set[str]]:
        """For each parent reference of a record of a source (source, reference): the
        companies it finds, in the order asked."""
        ...

    async def waiting_children(
        self, goldens: dict[str, CompanyGolden], record_keys: Sequence[str]
    ) -> set[str]:
        """Companies whose records name one of these companies (their golden records,
        and the keys of their records) as their parent."""
        ...

    async def parents(self, company_ids: Sequence[str]) -> dict[str, str | None]: ...

    async def decided_parents(self, company_ids: Sequence[str]) -> set[str]:
        """The companies whose parent a steward decided: sources no longer move it."""
        ...

    async def save_parent_conflicts(
        self, conflicts: dict[str, tuple[str, ...]], *, checked: Sequence[str]
    ) -> None:
        """The companies (of ``checked``) whose sources name different parents, with
        the parents named (the one linked first); the other checked ones have none."""
        ...

    async def save_quality(self, reports: dict[str, QualityReport]) -> None:
        """The quality reports of stored records (record key -> report), again."""
        ...


@dataclass(frozen=True)
class CompanyOutcome:
    source_id: str
    company_id: str
    created: bool
    quality: QualityReport


def new_company_id() -> str:
    return str(uuid.uuid4())


async def ingest_companies(
    cleaned: Sequence[CleanCompanyRecord],
    *,
    records: CompanyRecordStore,
    hierarchy: companies.CompanyStore,
    employers: EmploymentStore,
    priority_of: Callable[[str], int],
    events: EventRecorder,
    now: datetime,
) -> list[CompanyOutcome]:
    """Store the cleaned records of one batch in the caller's transaction, link the
    people whose records name the companies (``domain/employment.py``), and announce
    each company created, and each changed (its records, or its parent)."""
    existing = await records.records_by_key([r.key for r in cleaned])
    company_of: dict[str, str] = {}
    created: set[str] = set()
    changed: list[CleanCompanyRecord] = []
    for record in cleaned:
        stored = existing.get(record.key)
        if stored is None:
            company_of[record.key] = new_company_id()
            created.add(company_of[record.key])
            changed.append(record)
            continue
        company_of[record.key] = stored.company_id
        # The same content again (whenever it was sent) changes nothing.
        if replace(record, recorded_at=stored.record.recorded_at) != stored.record:
            changed.append(record)

    touched = sorted({company_of[r.key] for r in changed})
    by_company = {
        cid: {r.key: r for r in rs}
        for cid, rs in (await records.records_of([c for c in touched if c not in created])).items()
    }
    for record in changed:
        by_company.setdefault(company_of[record.key], {})[record.key] = record
    goldens = {
        cid: build_company_golden(list(rs.values()), priority_of=priority_of)
        for cid, rs in by_company.items()
    }
    await records.save(
        goldens,
        [StoredCompanyRecord(company_of[r.key], r) for r in changed],
        created=created,
        now=now,
    )
    reports = {r.key: r.quality for r in cleaned}
    linked = await _link_parents(
        touched,
        goldens,
        record_keys=[key for rs in by_company.values() for key in rs],
        records=records,
        hierarchy=hierarchy,
        priority_of=priority_of,
        reports=reports,
    )
    # What linking found about the parents belongs to the stored reports too.
    flagged = {
        r.key: r.quality for r in cleaned if any(i.field == "parent" for i in r.quality.issues)
    }
    if flagged:
        await records.save_quality(flagged)
    await employment.link_to_companies(
        sorted({g.name_key for g in goldens.values()}),
        sorted({d for g in goldens.values() for d in g.domains}),
        store=employers,
        now=now,
    )
    for company_id in sorted(created):
        events.record(Event.COMPANY_CREATED, company_id=company_id)
    for company_id in sorted((set(touched) | linked) - created):
        events.record(Event.COMPANY_UPDATED, company_id=company_id)
    return [
        CompanyOutcome(r.source_id, company_of[r.key], company_of[r.key] in created, r.quality)
        for r in cleaned
    ]


async def _link_parents(
    touched: Sequence[str],
    goldens: dict[str, CompanyGolden],
    *,
    record_keys: Sequence[str],
    records: CompanyRecordStore,
    hierarchy: companies.CompanyStore,
    priority_of: Callable[[str], int],
    reports: dict[str, QualityReport],
) -> set[str]:
    """Link the touched companies and the children waiting for them to the parents
    their records name; return the companies whose parent changed."""
    waiting = sorted(await records.waiting_children(goldens, record_keys) - set(touched))
    for cid, rs in (await records.records_of(waiting)).items():
        goldens[cid] = build_company_golden(rs, priority_of=priority_of)
    current = await records.parents(sorted(goldens))
    decided = await records.decided_parents(sorted(goldens))
    asked = [
        (company_id, record, reference)
        for company_id in sorted(goldens)
        for record, reference in goldens[company_id].parents
    ]
    found = await records.companies_named([(r.source, ref) for _, r, ref in asked])
    named: dict[str, list[tuple[CleanCompanyRecord, set[str]]]] = {}
    for (company_id, record, _), companies_found in zip(asked, found, strict=True):
        named.setdefault(company_id, []).append((record, companies_found - {company_id}))
    links, conflicts = {}, {}
    for company_id, references in named.items():
        if company_id in decided:
            continue  # a steward's decision stands
        parent, others = _parent_named(references, reports)
        if parent is not None and others:
            conflicts[company_id] = (parent, *others)
        if parent is not None and parent != current.get(company_id):
            links[company_id] = parent
    await records.save_parent_conflicts(
        conflicts, checked=[c for c in sorted(named) if c not in decided]
    )
    refused = await companies.set_parents(links, store=hierarchy)
    linked = set(links) - set(refused)
    for company_id, error in refused.items():
        cycle = (error.details or {}).get("reason") == "HIERARCHY_CYCLE"
        code, why = (
            ("PARENT_CYCLE", "the parent named is below it")
            if cycle
            else ("PARENT_TOO_DEEP", f"the hierarchy would be over {companies.MAX_DEPTH} deep")
        )
        for record, _ in goldens[company_id].parents:
            _flag(reports, record, code, why)
    return linked


def _parent_named(
    references: list[tuple[CleanCompanyRecord, set[str]]], reports: dict[str, QualityReport]
) -> tuple[str | None, tuple[str, ...]]:
    """The parent of the most trusted reference (they come most trusted first) that
    finds exactly one other company, and the other parents less trusted ones name."""
    chosen: str | None = None
    others: list[str] = []
    for record, found in references:
        if len(found) != 1:
            continue
        (named,) = found
        if chosen is None:
            chosen = named
        elif named != chosen:
            _flag(reports, record, "PARENT_CONFLICT", "a more trusted source names another")
            if named not in others:
                others.append(named)
    return chosen, tuple(others)


def _flag(
    reports: dict[str, QualityReport], record: CleanCompanyRecord, code: str, why: str
) -> None:
    report = reports.get(record.key)
    if report is not None and all(i.code != code for i in report.issues):
        report.issue("parent", code, Severity.WARNING, why)
