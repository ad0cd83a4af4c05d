"""Which parent a company's records decide on (``domain/company_ingest.py``), with the
stores kept in memory: the most trusted reference that finds exactly one company,
conflicts and cycles flagged. The graph's side is tested in
tests/integration/test_company_ingest.py."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from mdm_profile.domain.companies import Company
from mdm_profile.domain.company_golden import CompanyGolden
from mdm_profile.domain.company_ingest import StoredCompanyRecord, ingest_companies
from mdm_profile.domain.company_records import (
    CleanCompanyRecord,
    ParentReference,
    RawCompanyRecord,
    clean_company,
)
from mdm_profile.domain.quality.report import QualityReport
from mdm_profile.domain.sources import SourceSystem

T0 = datetime(2026, 12, 6, tzinfo=UTC)
PRIORITY = {"erp": 1, "crm": 2}


class Memory:
    """The stores the use case needs, in memory (no person names a company here)."""

    async def clues_naming(self, name_keys: Sequence[str], domains: Sequence[str]) -> list[Any]:
        return []

    def __init__(self) -> None:
        self.records: dict[str, StoredCompanyRecord] = {}
        self.vat: dict[str, set[str]] = {}
        self.parent: dict[str, str | None] = {}
        self.saved_quality: dict[str, QualityReport] = {}
        self.events: list[tuple[str, str]] = []
        self.decided: set[str] = set()
        self.conflicts: dict[str, tuple[str, ...]] = {}

    # parents decided by a steward, conflicts kept for one
    async def decided_parents(self, company_ids: Sequence[str]) -> set[str]:
        return {c for c in company_ids if c in self.decided}

    async def save_parent_conflicts(
        self, conflicts: dict[str, tuple[str, ...]], *, checked: Sequence[str]
    ) -> None:
        for company_id in checked:
            self.conflicts.pop(company_id, None)
        self.conflicts.update(conflicts)

    # EventRecorder
    def record(self, event: str, **ids: str) -> None:
        self.events.append((event, ids["company_id"]))

    # CompanyRecordStore
    async def records_by_key(self, keys: Sequence[str]) -> dict[str, StoredCompanyRecord]:
        return {k: self.records[k] for k in keys if k in self.records}

    async def records_of(self, company_ids: Sequence[str]) -> dict[str, list[CleanCompanyRecord]]:
        found: dict[str, list[CleanCompanyRecord]] = {cid: [] for cid in company_ids}
        for key in sorted(self.records):
            stored = self.records[key]
            if stored.company_id in found:
                found[stored.company_id].append(stored.record)
        return found

    async def save(
        self,
        goldens: dict[str, CompanyGolden],
        records: Sequence[StoredCompanyRecord],
        *,
        created: set[str],
        now: datetime,
    ) -> None:
        for stored in records:
            self.records[stored.record.key] = stored
        for cid, golden in goldens.items():
            self.parent.setdefault(cid, None)
            for ids in self.vat.values():
                ids.discard(cid)
            if golden.vat_id:
                self.vat.setdefault(golden.vat_id, set()).add(cid)

    async def companies_named(
        self, references: Sequence[tuple[str, ParentReference]]
    ) -> list[set[str]]:
        found = []
        for source, reference in references:
            by_vat = set(self.vat.get(reference.vat_id or "", set()))
            stored = self.records.get(f"{source}|{reference.source_id}")
            found.append(by_vat | ({stored.company_id} if stored else set()))
        return found

    async def waiting_children(
        self, goldens: dict[str, CompanyGolden], record_keys: Sequence[str]
    ) -> set[str]:
        vats = {g.vat_id for g in goldens.values() if g.vat_id}
        return {
            s.company_id
            for s in self.records.values()
            if s.record.parent.vat_id in vats
            or f"{s.record.source}|{s.record.parent.source_id}" in record_keys
        }

    async def parents(self, company_ids: Sequence[str]) -> dict[str, str | None]:
        return {cid: self.parent.get(cid) for cid in company_ids}

    async def save_quality(self, reports: dict[str, QualityReport]) -> None:
        self.saved_quality.update(reports)

    # CompanyStore (the hierarchy)
    async def lock(self, ids: Sequence[str]) -> dict[str, Company]:
        return {i: Company(i, i, None, None, self.parent.get(i), T0) for i in ids}

    async def path_up(self, company_id: str) -> list[str]:
        path = [company_id]
        while (up := self.parent.get(path[-1])) is not None:
            path.append(up)
        return path

    async def set_parent(self, company_id: str, parent_id: str | None) -> None:
        self.parent[company_id] = parent_id

    async def paths_up(self, company_ids: Sequence[str]) -> dict[str, list[str]]:
        return {cid: await self.path_up(cid) for cid in company_ids}

    async def set_parents(self, links: dict[str, str]) -> None:
        self.parent.update(links)

    async def heights(self, company_ids: Sequence[str]) -> dict[str, int]:
        def height(cid: str) -> int:
            below = [c for c, p in self.parent.items() if p == cid]
            return max([0, *(1 + height(c) for c in below)])

        return {cid: height(cid) for cid in company_ids}

    async def add(self, company: Company) -> None:
        raise NotImplementedError

    async def employ(self, person_id: str, company_id: str, role: str) -> bool:
        raise NotImplementedError


def _clean(source: str, source_id: str, **values: str) -> CleanCompanyRecord:
    system = SourceSystem(source, PRIORITY[source])
    return clean_company(RawCompanyRecord(source_id, **values), source=system, received_at=T0)


async def _ingest(memory: Memory, *records: CleanCompanyRecord):  # type: ignore[no-untyped-def]
    return await ingest_companies(
        records,
        records=memory,
        hierarchy=memory,
        employers=memory,
        priority_of=PRIORITY.__getitem__,
        events=memory,
        now=T0,
    )


def _codes(outcome) -> list[str]:  # type: ignore[no-untyped-def]
    return [i.code for i in outcome.quality.issues]


async def test_the_trusted_reference_decides_and_the_other_is_flagged() -> None:
    memory = Memory()
    alpha, beta = await _ingest(
        memory,
        _clean("erp", "a", name="Alpha AG", vat_id="DE136695976"),
        _clean("crm", "b", name="Beta AG", vat_id="DE811115368"),
    )
    (child,) = await _ingest(memory, _clean("erp", "c", name="Gamma GmbH", parent_source_id="a"))
    # A record of another source joins the same company (as a merge of companies will):
    # it names Beta.
    crm = _clean("crm", "c2", name="Gamma GmbH", parent_vat_id="DE811115368")
    memory.records[crm.key] = StoredCompanyRecord(child.company_id, crm)
    (again,) = await _ingest(
        memory, _clean("erp", "c", name="Gamma GmbH", parent_source_id="a", city="Köln")
    )
    assert memory.parent[child.company_id] == alpha.company_id
    assert "PARENT_CONFLICT" not in _codes(again)  # the trusted record itself agrees
    (flagged,) = await _ingest(
        memory, _clean("crm", "c2", name="Gamma GmbH", parent_vat_id="DE811115368", city="Bonn")
    )
    assert memory.parent[child.company_id] == alpha.company_id
    assert "PARENT_CONFLICT" in _codes(flagged)
    assert beta.company_id != alpha.company_id
    # Kept for a steward: the trusted parent first.
    assert memory.conflicts == {child.company_id: (alpha.company_id, beta.company_id)}

    # A steward decided for Beta (which clears the conflict): no source moves the
    # parent any more, and no conflict is kept again.
    memory.parent[child.company_id] = beta.company_id
    memory.decided.add(child.company_id)
    memory.conflicts.clear()
    await _ingest(memory, _clean("erp", "c", name="Gamma GmbH", parent_source_id="a", city="Ulm"))
    assert memory.parent[child.company_id] == beta.company_id
    assert memory.conflicts == {}


async def test_a_reference_that_finds_two_companies_decides_nothing() -> None:
    memory = Memory()
    await _ingest(memory, _clean("erp", "a1", name="Eins AG", vat_id="DE136695976"))
    await _ingest(memory, _clean("crm", "a2", name="Eins AG", vat_id="DE136695976"))
    (child,) = await _ingest(
        memory, _clean("crm", "c", name="Kind GmbH", parent_vat_id="DE136695976")
    )
    assert memory.parent[child.company_id] is None


async def test_a_child_waiting_for_its_parent_is_linked_when_it_arrives() -> None:
    memory = Memory()
    (child,) = await _ingest(
        memory, _clean("crm", "c", name="Kind GmbH", parent_vat_id="DE136695976")
    )
    assert memory.parent[child.company_id] is None
    assert memory.events == [("profile.company_created", child.company_id)]
    memory.events.clear()
    (parent,) = await _ingest(memory, _clean("erp", "p", name="Eltern AG", vat_id="DE136695976"))
    assert memory.parent[child.company_id] == parent.company_id
    # The child's parent changed: announced as well as the new company.
    assert memory.events == [
        ("profile.company_created", parent.company_id),
        ("profile.company_updated", child.company_id),
    ]


async def test_a_cycle_is_not_closed_and_is_flagged() -> None:
    memory = Memory()
    top, low = await _ingest(
        memory,
        _clean("erp", "top", name="Oben AG"),
        _clean("erp", "low", name="Unten GmbH", parent_source_id="top"),
    )
    (again,) = await _ingest(memory, _clean("erp", "top", name="Oben AG", parent_source_id="low"))
    assert memory.parent[top.company_id] is None
    assert memory.parent[low.company_id] == top.company_id
    assert "PARENT_CYCLE" in _codes(again)
    assert "PARENT_CYCLE" in [i.code for i in memory.saved_quality["erp|top"].issues]


async def test_the_same_record_again_touches_nothing() -> None:
    memory = Memory()
    record = _clean("erp", "x", name="Gleich KG")
    (first,) = await _ingest(memory, record)
    saved = dict(memory.records)
    memory.events.clear()
    (second,) = await _ingest(memory, _clean("erp", "x", name="Gleich KG"))
    assert (second.company_id, second.created) == (first.company_id, False)
    assert memory.records == saved
    assert memory.events == []


async def test_two_companies_naming_each_other_in_one_batch_make_one_link() -> None:
    memory = Memory()
    one, two = await _ingest(
        memory,
        _clean("erp", "one", name="Eins AG", parent_source_id="two"),
        _clean("erp", "two", name="Zwei AG", parent_source_id="one"),
    )
    links = {memory.parent[one.company_id], memory.parent[two.company_id]}
    assert links in ({None, one.company_id}, {None, two.company_id})
    assert sum("PARENT_CYCLE" in _codes(o) for o in (one, two)) == 1


async def test_a_hierarchy_deeper_than_the_limit_is_not_made() -> None:
    memory = Memory()
    chain = [_clean("erp", "n0", name="Spitze AG")]
    chain += [
        _clean("erp", f"n{n}", name=f"Ebene {n} GmbH", parent_source_id=f"n{n - 1}")
        for n in range(1, 12)
    ]
    outcomes = await _ingest(memory, *chain)
    depths = [len(await memory.path_up(o.company_id)) for o in outcomes]
    assert max(depths) <= 10
    assert any("PARENT_TOO_DEEP" in _codes(o) for o in outcomes)
    assert not any("PARENT_CYCLE" in _codes(o) for o in outcomes)
