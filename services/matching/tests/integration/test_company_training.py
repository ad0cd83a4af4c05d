"""Training the company model (``company_training``) on the real graph server: trained
on each company as first seen, stored, and every company matched again with it; not
trained below the minimum. The profile service is the in-memory port double of
test_company_matching.py."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import replace

import pytest

from mdm_common.graph import GraphClient
from mdm_matching.adapters.company_subject_store import COMPANY_SUBJECT
from mdm_matching.adapters.transactions import SCHEMA, GraphTransactions
from mdm_matching.domain import company_matching, company_training
from mdm_matching.domain.company_ports import CompanyView
from mdm_matching.domain.engine.companies.features import CompanyRecord, make_company_record
from mdm_matching.domain.engine.companies.model import default_company_parameters
from mdm_matching.domain.online import Policy
from mdm_matching.domain.stores import Stores

from .test_company_matching import T0, _Companies, _company, _name


@pytest.fixture
async def graph(graph_for: Callable[[str], GraphClient]) -> GraphClient:
    found = graph_for("matching")
    await found.apply_schema(SCHEMA)
    return found


def _generated(prefix: str) -> list[CompanyRecord]:
    """Companies of the test's own (names and identifiers with ``prefix``), half of them
    again with a typo and one identifier left out: what EM learns duplicates from."""
    records = []
    for n in range(60):
        name = f"{prefix}{n:02d} {['bau', 'logistik', 'technik'][n % 3]}"
        values = {"vat": f"DE{prefix}{n:03d}", "postal_code": f"{10000 + n * 97}"}
        records.append(make_company_record(str(uuid.uuid4()), name_key=name, **values))
        if n % 2 == 0:
            typo = name[:-2] + name[-1] + name[-2]
            records.append(make_company_record(str(uuid.uuid4()), name_key=typo, **values))
    return records


async def test_the_training_job_trains_the_company_model_and_matches_again(
    graph: GraphClient,
) -> None:
    prefix = f"kessel{uuid.uuid4().hex[:6]}"
    companies = _Companies({})
    records = _generated(prefix)
    for record in records:
        companies.add(record, at=T0)

    async def store_all(stores: Stores) -> None:
        for record in records:
            view = await companies.fetch_company(record.id)
            assert view is not None
            await company_matching.save_view(stores, view, T0)

    transactions = GraphTransactions(graph)
    await transactions.write(store_all)
    trained = await company_training.train_companies(
        profiles=companies,
        transactions=transactions,
        policy=Policy(),
        version="company/v2",
        now=T0,
        min_companies=len(records),
    )
    assert trained.version == "company/v2"
    assert trained.companies >= len(records)  # and those of earlier tests
    stored = await transactions.read(lambda s: s.companies.load_model())
    assert stored is not None
    assert (stored.version, stored.trained_on_companies) == ("company/v2", trained.companies)
    scorer = await transactions.read(lambda s: company_matching.CompanyScorers().get(s))
    assert scorer.parameters.version == "company/v2"
    # Matched again with it: the duplicates (one typo, the same VAT id) are merged.
    ours = {r.id for r in records}
    assert len([pair for pair in companies.merges if pair[0] in ours]) == 30
    await transactions.write(
        lambda s: s.companies.save_model(default_company_parameters(), at=T0)
    )  # the default again for the tests after this one


async def test_too_few_companies_train_no_model(graph: GraphClient) -> None:
    transactions = GraphTransactions(graph)
    before = await transactions.read(lambda s: s.companies.model_version())
    trained = await company_training.train_companies(
        profiles=_Companies({}),
        transactions=transactions,
        policy=Policy(),
        version="v-none",
        now=T0,
        min_companies=10**9,
    )
    assert trained.version is None
    assert await transactions.read(lambda s: s.companies.model_version()) == before


async def test_training_reads_each_company_as_first_seen(graph: GraphClient) -> None:
    """A survivor's values become its golden record (both sources'); training reads the
    values each company was first seen with, its first record's own."""
    name = _name()
    companies = _Companies({})
    company = companies.add(_company(name, city="Köln"), at=T0)
    transactions = GraphTransactions(graph)
    first = await companies.fetch_company(company)
    assert first is not None
    await transactions.write(lambda s: company_matching.save_view(s, first, T0))
    later = CompanyView(company, replace(first.record, city="Bonn", vat="DE1"), T0, ("erp",))
    await transactions.write(lambda s: company_matching.save_view(s, later, T0))

    seen = await transactions.read(
        lambda s: s.companies.first_seen_page(after=company[:-1], limit=5_000)
    )
    (found,) = [r for r in seen if r.id == company]
    assert (found.city, found.vat) == ("koeln", None)
    rows = await graph.read(
        lambda tx: tx.run(
            "test.current",
            f"MATCH (s:{COMPANY_SUBJECT} {{companyId: $id}}) RETURN s.features AS features",
            id=company,
        )
    )
    current = CompanyRecord.from_json(rows[0]["features"])
    assert (current.city, current.vat) == ("Bonn", "DE1")
