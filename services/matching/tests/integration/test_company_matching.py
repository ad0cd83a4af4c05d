"""Online company matching (``company_matching``) and a steward's decision on a company
pair, on the real graph server. The profile service is an in-memory port double that
merges and unmerges as it is told (its own company merge is tested in the profile
service, and the whole path end to end in tests/e2e/test_company_matching.py)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

import pytest

from mdm_common.auth import Principal, Role
from mdm_common.errors import Conflict
from mdm_common.graph import GraphClient
from mdm_matching.adapters.transactions import SCHEMA, GraphTransactions
from mdm_matching.domain import company_matching, review
from mdm_matching.domain.company_ports import CompanyView
from mdm_matching.domain.engine.companies.features import CompanyRecord, make_company_record
from mdm_matching.domain.models import SubjectKind, TaskFilter, TaskOrder, TaskReason, Verdict
from mdm_matching.domain.online import Policy
from mdm_matching.domain.stores import Stores

T0 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
STEWARD = Principal("dev:carla", frozenset({Role.STEWARD}))


@dataclass
class _Companies:
    """Companies by id, each created at its own time; a merge points the merged one at
    its survivor. ``refuse``: merges the profile service refuses (CONFLICT)."""

    records: dict[str, CompanyRecord]
    created: dict[str, datetime] = field(default_factory=dict)
    sources: dict[str, tuple[str, ...]] = field(default_factory=dict)
    merged_into: dict[str, str] = field(default_factory=dict)
    merges: list[tuple[str, str]] = field(default_factory=list)
    refuse: bool = False

    def add(
        self, record: CompanyRecord, *, at: datetime, sources: tuple[str, ...] = ("erp",)
    ) -> str:
        self.records[record.id], self.created[record.id] = record, at
        self.sources[record.id] = sources
        return record.id

    async def fetch_company(self, company_id: str) -> CompanyView | None:
        if company_id not in self.records:
            return None
        survivor = self.merged_into.get(company_id, company_id)
        return CompanyView(
            company_id, self.records[survivor], self.created[survivor], self.sources[survivor]
        )

    async def fetch_companies(self, company_ids: Sequence[str]) -> dict[str, CompanyView]:
        return {i: v for i in company_ids if (v := await self.fetch_company(i)) is not None}

    async def merge_companies(
        self, survivor_id: str, merged_id: str, *, reason: str, on_behalf_of: Principal
    ) -> str:
        if self.refuse or merged_id in self.merged_into:
            raise Conflict("refused", field="mergedId")
        self.merged_into[merged_id] = survivor_id
        self.merges.append((survivor_id, merged_id))
        return f"merge-{merged_id}"

    async def merge_companies_many(
        self, pairs: Sequence[tuple[str, str]], *, reason: str, on_behalf_of: Principal
    ) -> list[str | None]:
        found: list[str | None] = []
        for survivor, merged in pairs:
            try:
                found.append(
                    await self.merge_companies(
                        survivor, merged, reason=reason, on_behalf_of=on_behalf_of
                    )
                )
            except Conflict:
                found.append(None)  # skipped, as the profile's bulk merge skips it
        return found

    async def unmerge_companies(self, merge_id: str, *, on_behalf_of: Principal) -> None:
        merged = merge_id.removeprefix("merge-")
        del self.merged_into[merged]


def _company(name: str, **values: str) -> CompanyRecord:
    return make_company_record(str(uuid.uuid4()), name_key=name, legal_form="GmbH", **values)


def _name() -> str:
    """A name of the test's own: the name is a blocking key."""
    return f"kessel{uuid.uuid4().hex[:8]} maschinenbau"


@pytest.fixture
async def graph(graph_for: Callable[[str], GraphClient]) -> GraphClient:
    found = graph_for("matching")
    await found.apply_schema(SCHEMA)
    return found


async def _match(graph: GraphClient, companies: _Companies, company_id: str, *, at: datetime = T0):
    return await company_matching.match_company(
        company_id,
        profiles=companies,
        transactions=GraphTransactions(graph),
        policy=Policy(),
        now=at,
    )


async def _tasks_of(
    graph: GraphClient, company_id: str
) -> list[tuple[str, SubjectKind, TaskReason]]:
    async def read(stores: Stores) -> list[tuple[str, SubjectKind, TaskReason]]:
        page = await stores.reviews.tasks(
            TaskFilter(person_id=company_id), order=TaskOrder.OLDEST_FIRST, after=None, limit=10
        )
        return [(t.id, t.evidence.kind, t.reason) for t in page.tasks]

    return await GraphTransactions(graph).read(read)


async def test_a_sure_duplicate_is_merged_into_the_older_company_once(graph: GraphClient) -> None:
    name, vat = _name(), f"DE{uuid.uuid4().int % 10**9:09d}"
    companies = _Companies({})
    older = companies.add(_company(name, vat=vat, postal_code="80331"), at=T0)
    newer = companies.add(_company(name + "x", vat=vat), at=T0 + timedelta(hours=1))
    assert (await _match(graph, companies, older)).candidates == 0

    # The older one changed later: its event comes after the newer one's, and the
    # company the profile knew first survives all the same.
    await _match(graph, companies, newer)
    outcome = await _match(graph, companies, older, at=T0 + timedelta(hours=2))

    assert companies.merges == [(older, newer)]
    assert outcome.merged_into is None  # it survived
    decisions = await GraphTransactions(graph).read(lambda s: s.reviews.decisions_of_person(older))
    assert [(d.verdict, d.kind, d.merge_id) for d in decisions] == [
        (Verdict.AUTO_MERGE, SubjectKind.COMPANY, f"merge-{newer}")
    ]
    # Delivered again: nothing merged or audited twice, the merged one is no candidate.
    again = await _match(graph, companies, newer)
    assert again.merged_into == older
    assert companies.merges == [(older, newer)]
    assert (
        len(await GraphTransactions(graph).read(lambda s: s.reviews.decisions_of_person(older)))
        == 1
    )
    third = companies.add(_company(name, postal_code="80331"), at=T0 + timedelta(hours=3))
    found = await _match(graph, companies, third)
    assert found.candidates == 1  # the survivor only


async def test_a_branch_is_neither_merged_nor_asked_about(graph: GraphClient) -> None:
    name, vat = _name(), f"DE{uuid.uuid4().int % 10**9:09d}"
    companies = _Companies({})
    head = companies.add(_company(name, vat=vat), at=T0)
    branch = companies.add(_company(name + " niederlassung koeln", vat=vat), at=T0)
    await _match(graph, companies, head)
    outcome = await _match(graph, companies, branch)
    assert (outcome.candidates, outcome.merged_into, outcome.review_tasks) == (1, None, [])
    assert companies.merges == []


async def test_an_uncertain_pair_is_one_company_task_until_rejected(graph: GraphClient) -> None:
    name = _name()
    companies = _Companies({})
    first = companies.add(_company(name), at=T0)
    second = companies.add(_company(name, city="Köln", postal_code="50667"), at=T0)
    await _match(graph, companies, first)
    outcome = await _match(graph, companies, second)
    (task_id,) = outcome.review_tasks
    assert await _tasks_of(graph, second) == [(task_id, SubjectKind.COMPANY, TaskReason.UNCERTAIN)]
    # Again: the pair's task is found, not doubled.
    assert (await _match(graph, companies, second)).review_tasks == [task_id]

    await review.decide(
        task_id,
        Verdict.NOT_A_MATCH,
        note="two firms",
        actor=STEWARD,
        profiles=companies,
        transactions=GraphTransactions(graph),
        now=T0,
    )
    assert (await _match(graph, companies, second)).review_tasks == []
    # A material change (a VAT id now) makes the pair worth a look again.
    companies.records[second] = replace(companies.records[second], vat="DE999999999")
    assert len((await _match(graph, companies, second)).review_tasks) == 1


async def test_a_stewards_merge_and_its_undo_go_to_the_companies(graph: GraphClient) -> None:
    name = _name()
    companies = _Companies({})
    newer = companies.add(_company(name, city="Köln", postal_code="50667"), at=T0 + timedelta(1))
    older = companies.add(_company(name), at=T0)
    await _match(graph, companies, older)
    (task_id,) = (await _match(graph, companies, newer)).review_tasks
    transactions = GraphTransactions(graph)

    decided = await review.decide(
        task_id,
        Verdict.MERGE,
        note="",
        actor=STEWARD,
        profiles=companies,
        transactions=transactions,
        now=T0,
    )
    assert companies.merges == [(older, newer)]  # the older company survives
    assert (decided.kind, decided.merge_id) == (SubjectKind.COMPANY, f"merge-{newer}")

    undone = await review.undo_merge(
        decided.id,
        note="",
        actor=STEWARD,
        profiles=companies,
        transactions=transactions,
        now=T0,
    )
    assert undone.kind == SubjectKind.COMPANY
    assert companies.merged_into == {}


async def test_a_merge_the_profile_refuses_goes_to_a_steward(graph: GraphClient) -> None:
    name, vat = _name(), f"DE{uuid.uuid4().int % 10**9:09d}"
    companies = _Companies({}, refuse=True)
    first = companies.add(_company(name, vat=vat), at=T0)
    second = companies.add(_company(name, vat=vat), at=T0)
    await _match(graph, companies, first)
    outcome = await _match(graph, companies, second)
    assert outcome.merged_into is None
    assert [reason for _, _, reason in await _tasks_of(graph, second)] == [TaskReason.UNCERTAIN]


async def test_a_company_created_by_hand_is_not_matched(graph: GraphClient) -> None:
    name = _name()
    companies = _Companies({})
    by_hand = companies.add(_company(name), at=T0, sources=())
    companies.add(_company(name), at=T0)
    assert (await _match(graph, companies, by_hand)).candidates == 0
    subjects = await GraphTransactions(graph).read(lambda s: s.companies.get_many([by_hand]))
    assert subjects == {}


async def test_companies_of_one_pass_match_each_other_in_their_order(graph: GraphClient) -> None:
    """An ingest sends its companies' events at once: a pass decides them in order, each
    seeing the ones before it, and a company planned to merge away is no candidate of
    the later ones (two sure matches would hold the third back)."""
    name, vat = _name(), f"DE{uuid.uuid4().int % 10**9:09d}"
    companies = _Companies({})
    first = companies.add(_company(name, vat=vat), at=T0)
    second = companies.add(_company(name, vat=vat, city="Köln"), at=T0 + timedelta(1))
    third = companies.add(_company(name + "x", vat=vat), at=T0 + timedelta(2))
    outcomes = await company_matching.match_companies(
        [first, second, third, "unknown"],
        profiles=companies,
        transactions=GraphTransactions(graph),
        policy=Policy(),
        now=T0,
    )
    assert companies.merges == [(first, second), (first, third)]
    merged = {o.company_id: o.merged_into for o in outcomes}
    assert merged == {first: None, second: first, third: first, "unknown": None}
    assert all(o.review_tasks == [] for o in outcomes)
