"""Merge and unmerge of companies over an in-memory hierarchy: records, subsidiaries,
employees and the parent move with the merge and come back exactly with the unmerge;
merges that would break the tree are refused."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from datetime import UTC, datetime

import pytest

from mdm_common.contracts import Event
from mdm_common.errors import Conflict, InvalidInput, NotFound
from mdm_profile.domain.companies import MAX_DEPTH, Company
from mdm_profile.domain.company_golden import CompanyGolden, build_company_golden
from mdm_profile.domain.company_merging import (
    CompanyLinks,
    CompanyMerge,
    CompanyState,
    links_after_merge,
    merge_companies,
    unmerge_companies,
)
from mdm_profile.domain.company_records import RawCompanyRecord, clean_company
from mdm_profile.domain.merging import MergeState
from mdm_profile.domain.sources import SourceSystem

T0 = datetime(2026, 12, 6, 12, tzinfo=UTC)
PRIORITY = {"erp": 1, "crm": 2}


class Graph:
    """Companies, their records, parents and employees, as the graph holds them."""

    def __init__(self) -> None:
        self.companies: dict[str, Company] = {}
        self.record_of: dict[str, str] = {}  # record key -> company id
        self.records: dict[str, object] = {}
        self.parent: dict[str, str | None] = {}
        self.employees: dict[str, dict[str, str]] = {}
        self.merged_into: dict[str, str] = {}
        self.golden: dict[str, CompanyGolden] = {}
        self.merges: dict[str, CompanyMerge] = {}
        self.events: list[tuple[str, dict[str, str]]] = []

    def add(self, company_id: str, *names: str, parent: str | None = None) -> None:
        self.companies[company_id] = Company(company_id, names[0], None, "DE", parent, T0)
        self.parent[company_id] = parent
        self.employees[company_id] = {}
        records = []
        for n, name in enumerate(names):
            source = "erp" if n == 0 else "crm"
            record = clean_company(
                RawCompanyRecord(f"{company_id}-{n}", name=name),
                source=SourceSystem(source, PRIORITY[source]),
                received_at=T0,
            )
            self.records[record.key] = record
            self.record_of[record.key] = company_id
            records.append(record)
        self.golden[company_id] = build_company_golden(records, priority_of=PRIORITY.__getitem__)

    def state(self) -> tuple[object, ...]:
        """Everything a merge may touch, for before/after comparisons."""
        return copy.deepcopy(
            (self.record_of, self.parent, self.employees, self.merged_into, self.golden)
        )

    # EventRecorder
    def record(self, event: str, **ids: str) -> None:
        self.events.append((event, ids))

    # CompanyMergeStore
    async def lock(self, company_ids: Sequence[str]) -> dict[str, CompanyState]:
        return {
            cid: CompanyState(
                self.companies[cid],
                self.merged_into.get(cid),
                tuple(
                    self.records[k]  # type: ignore[misc]
                    for k in sorted(self.record_of)
                    if self.record_of[k] == cid
                ),
            )
            for cid in company_ids
            if cid in self.companies
        }

    async def links(self, company_ids: Sequence[str]) -> dict[str, CompanyLinks]:
        return {
            cid: CompanyLinks(
                self.parent.get(cid),
                tuple(sorted(c for c, p in self.parent.items() if p == cid)),
                tuple(sorted(self.employees[cid].items())),
            )
            for cid in company_ids
        }

    async def path_up(self, company_id: str) -> list[str]:
        path = [company_id]
        while (above := self.parent.get(path[-1])) is not None:
            path.append(above)
        return path

    async def heights(self, company_ids: Sequence[str]) -> dict[str, int]:
        def height(cid: str) -> int:
            below = [c for c, p in self.parent.items() if p == cid]
            return max([0, *(1 + height(c) for c in below)])

        return {cid: height(cid) for cid in company_ids}

    async def move_records(self, keys: Sequence[str], *, to_company: str) -> None:
        for key in keys:
            self.record_of[key] = to_company

    async def replace_links(self, company_id: str, links: CompanyLinks) -> None:
        self.parent[company_id] = links.parent_id
        for child, parent in list(self.parent.items()):
            if parent == company_id and child not in links.children:
                self.parent[child] = None
        for child in links.children:
            self.parent[child] = company_id
        self.employees[company_id] = dict(links.employees)

    async def save_golden(self, company_id: str, golden: CompanyGolden, *, now: datetime) -> None:
        self.golden[company_id] = golden

    async def mark_merged(self, merged_id: str, *, into: str, at: datetime) -> None:
        self.merged_into[merged_id] = into

    async def restore(self, company_id: str) -> None:
        self.merged_into.pop(company_id, None)

    async def save_merge(self, merge: CompanyMerge) -> None:
        self.merges[merge.id] = merge

    async def get_merge(self, merge_id: str) -> CompanyMerge | None:
        return self.merges.get(merge_id)


async def merge(graph: Graph, survivor: str, merged: str) -> CompanyMerge:
    record, _ = await merge_companies(
        survivor,
        merged,
        store=graph,
        priority_of=PRIORITY.__getitem__,
        events=graph,
        actor="steward-1",
        reason="same VAT id",
        now=T0,
    )
    return record


async def unmerge(graph: Graph, merge_id: str) -> CompanyGolden:
    _, golden = await unmerge_companies(
        merge_id, store=graph, priority_of=PRIORITY.__getitem__, events=graph, now=T0
    )
    return golden


def group() -> Graph:
    """Holding H with subsidiaries S (duplicate D of S under its own parent P) and T;
    D has a subsidiary K and an employee; S an employee of its own."""
    graph = Graph()
    graph.add("H", "Müller Holding AG")
    graph.add("P", "Parent GmbH")
    graph.add("S", "Müller Service GmbH", parent="H")
    graph.add("T", "Müller Technik GmbH", parent="H")
    graph.add("D", "Mueller Service G.m.b.H.", "Müller Service", parent="P")
    graph.add("K", "Kind GmbH", parent="D")
    graph.employees["S"] = {"anna": "CFO"}
    graph.employees["D"] = {"anna": "buyer", "bert": "CEO"}
    return graph


async def test_a_merge_moves_records_subsidiaries_and_employees() -> None:
    graph = group()
    record = await merge(graph, "S", "D")
    assert {graph.record_of[k] for k in ("erp|S-0", "erp|D-0", "crm|D-1")} == {"S"}
    assert graph.parent["S"] == "H"  # the survivor keeps its parent
    assert graph.parent["K"] == "S"  # the merged company's subsidiary moved
    assert graph.parent["D"] is None
    assert graph.employees["S"] == {"anna": "CFO", "bert": "CEO"}  # the survivor's role wins
    assert graph.merged_into == {"D": "S"}
    assert graph.golden["S"].name == "Müller Service GmbH"  # the ERP's spelling
    assert graph.events == [
        (
            Event.COMPANY_MERGED,
            {"survivor_id": "S", "merged_id": "D", "merge_id": record.id},
        )
    ]


async def test_unmerge_restores_the_tree_exactly() -> None:
    graph = group()
    before = graph.state()
    record = await merge(graph, "S", "D")
    golden = await unmerge(graph, record.id)
    assert graph.state() == before
    assert golden.name == "Müller Service GmbH"
    assert graph.merges[record.id].state is MergeState.UNDONE
    with pytest.raises(Conflict):
        await unmerge(graph, record.id)


async def test_a_survivor_without_parent_takes_the_merged_ones_and_gives_it_back() -> None:
    graph = group()
    graph.parent["S"] = None
    before = graph.state()
    record = await merge(graph, "S", "D")
    assert graph.parent["S"] == "P"
    await unmerge(graph, record.id)
    assert graph.state() == before


async def test_what_changed_since_the_merge_stays_on_the_survivor() -> None:
    graph = group()
    record = await merge(graph, "S", "D")
    graph.add("N", "Neu GmbH", parent="S")  # a subsidiary added after the merge
    await unmerge(graph, record.id)
    assert graph.parent["N"] == "S"
    assert graph.parent["K"] == "D"


@pytest.mark.parametrize(("survivor", "merged"), [("S", "H"), ("H", "S")])
async def test_a_parent_and_its_subsidiary_merge_and_unmerge(survivor: str, merged: str) -> None:
    graph = group()
    before = graph.state()
    record = await merge(graph, survivor, merged)
    assert graph.parent[survivor] is None  # the link between them is gone
    assert graph.parent["T"] == survivor  # the holding's other subsidiary moved or stayed
    await unmerge(graph, record.id)
    assert graph.state() == before


async def test_a_company_further_above_is_refused() -> None:
    graph = group()
    graph.add("E", "Enkel GmbH", parent="S")
    with pytest.raises(Conflict) as refused:
        await merge(graph, "E", "H")  # H is E's grandparent
    assert refused.value.details == {"reason": "HIERARCHY_CYCLE"}
    assert graph.merged_into == {}


async def test_a_merge_deeper_than_the_limit_is_refused() -> None:
    graph = Graph()
    graph.add("c0", "Kette 0 GmbH")
    for level in range(1, MAX_DEPTH):
        graph.add(f"c{level}", f"Kette {level} GmbH", parent=f"c{level - 1}")
    graph.add("x", "Oben GmbH")
    graph.add("y", "Unten GmbH", parent="x")
    with pytest.raises(Conflict) as refused:
        await merge(graph, f"c{MAX_DEPTH - 1}", "x")  # y would be one level too deep
    assert refused.value.details == {"reason": "HIERARCHY_TOO_DEEP"}


async def test_what_cannot_be_merged() -> None:
    graph = group()
    with pytest.raises(InvalidInput):
        await merge(graph, "S", "S")
    graph.companies["hand"] = Company("hand", "Von Hand GmbH", None, "DE", None, T0)
    graph.employees["hand"] = {}
    with pytest.raises(InvalidInput) as by_hand:
        await merge(graph, "S", "hand")
    assert by_hand.value.field == "mergedId"
    with pytest.raises(NotFound):
        await merge(graph, "S", "nobody")
    await merge(graph, "S", "D")
    with pytest.raises(Conflict) as again:
        await merge(graph, "T", "D")
    assert again.value.details == {"mergedInto": "S"}
    with pytest.raises(NotFound):
        await unmerge(graph, "no-such-merge")


def test_links_after_merge_drop_the_link_between_the_two() -> None:
    found = links_after_merge(
        CompanyLinks("M", ("a",), (("p", "CFO"),)),
        CompanyLinks("X", ("S", "b"), (("p", "buyer"), ("q", "CEO"))),
        survivor_id="S",
        merged_id="M",
        survivor_path_up=["S", "M", "X"],
        merged_path_up=["M", "X"],
    )
    assert found == CompanyLinks("X", ("a", "b"), (("p", "CFO"), ("q", "CEO")))
