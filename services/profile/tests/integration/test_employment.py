"""People at companies against the real graph server: a person record naming its
employer, or written from a business e-mail address, links the person to the company
(with its source) when one company is sure, also when the company arrives later; a
steward decides when several companies could be meant."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest

from mdm_common.errors import InvalidInput
from mdm_common.graph import GraphClient
from mdm_profile.adapters import (
    company_record_store,
    company_store,
    employment_store,
    graph_store,
    household_store,
)
from mdm_profile.adapters.company_store import GraphCompanyStore
from mdm_profile.adapters.employment_store import GraphEmploymentStore
from mdm_profile.domain import employment
from mdm_profile.domain.company_records import RawCompanyRecord
from mdm_profile.domain.records import RawRecord
from mdm_profile.domain.sources import SourceRegistry

from .events import Recorder
from .ingesting import ingest_one
from .test_company_ingest import T0, ingest, sid

SOURCES = SourceRegistry({"crm": 1, "shop": 2})


@pytest.fixture
async def graph(graph_for: Callable[[str], GraphClient]) -> GraphClient:
    client = graph_for("profile")
    await client.apply_schema(
        (
            *graph_store.SCHEMA,
            *household_store.SCHEMA,
            *company_store.SCHEMA,
            *company_record_store.SCHEMA,
            *employment_store.SCHEMA,
        )
    )
    return client


def _word() -> str:
    """A company name word of the test's own: names and domains are looked up."""
    return "Kessel" + uuid.uuid4().hex[:8]


async def _person(graph: GraphClient, **fields: str) -> str:
    raw = RawRecord(sid(), given_name="Anna", family_name=_word(), **fields)
    return await ingest_one(graph, "crm", raw, sources=SOURCES, now=T0)


async def _employers(graph: GraphClient, person_id: str) -> list[tuple[str, str, str | None]]:
    found = await graph.read(lambda tx: GraphCompanyStore(tx).employers([person_id]))
    return [(e.company.id, e.role, e.via) for e in found[person_id]]


async def _open_proposals(
    graph: GraphClient, person_id: str
) -> list[employment.EmploymentProposal]:
    found = await graph.read(lambda tx: GraphEmploymentStore(tx).open_proposals(first=200))
    return [p for p in found if p.person_id == person_id]


async def test_a_record_naming_its_employer_links_the_person_with_its_source(
    graph: GraphClient,
) -> None:
    word = _word()
    record = RawCompanyRecord(
        sid(), name=f"{word} Maschinenbau GmbH", website=f"https://{word.lower()}.de"
    )
    (company,) = await ingest(graph, "erp", record)
    by_name = await _person(graph, company_name=f"{word} Maschinenbau G.m.b.H.")
    by_domain = await _person(graph, email=f"anna@{word.lower()}.de")
    by_both = await _person(
        graph, company_name=f"{word} Maschinenbau GmbH", email=f"a.b@{word.lower()}.de"
    )
    at_a_provider = await _person(graph, email=f"{word.lower()}@web.de")

    assert await _employers(graph, by_name) == [(company.company_id, "employee", "COMPANY_NAME")]
    assert await _employers(graph, by_domain) == [(company.company_id, "employee", "EMAIL_DOMAIN")]
    assert await _employers(graph, by_both) == [(company.company_id, "employee", "NAME_AND_DOMAIN")]
    assert await _employers(graph, at_a_provider) == []  # web.de says nothing
    found = await graph.read(lambda tx: GraphCompanyStore(tx).employers([by_name]))
    (link,) = found[by_name]
    assert (link.source, link.source_id is not None) == ("crm", True)


async def test_a_company_arriving_later_links_the_records_naming_it(graph: GraphClient) -> None:
    word = _word()
    early = await _person(graph, company_name=f"{word} Logistik AG")
    assert await _employers(graph, early) == []
    (company,) = await ingest(graph, "erp", RawCompanyRecord(sid(), name=f"{word} Logistik AG"))
    assert await _employers(graph, early) == [(company.company_id, "employee", "COMPANY_NAME")]


async def test_several_companies_go_to_a_steward_whose_choice_stands(graph: GraphClient) -> None:
    word = _word()
    domain = f"{word.lower()}.de"
    head_id = sid()
    head, branch = await ingest(
        graph,
        "erp",
        RawCompanyRecord(head_id, name=f"{word} Bau GmbH", website=f"https://{domain}"),
        RawCompanyRecord(sid(), name=f"{word} Bau GmbH Niederlassung Köln", email=f"k@{domain}"),
    )
    person = await _person(graph, email=f"anna@{domain}")
    assert await _employers(graph, person) == []
    (proposal,) = await _open_proposals(graph, person)
    assert sorted(proposal.company_ids) == sorted([head.company_id, branch.company_id])
    assert proposal.via == employment.Via.EMAIL_DOMAIN

    async def decide(company_id: str | None) -> employment.EmploymentProposal:
        return await graph.write(
            lambda tx: employment.decide_proposal(
                proposal.id,
                company_id,
                actor="dev:carla",
                note="works in Köln",
                store=GraphEmploymentStore(tx),
                events=Recorder(),
                now=T0,
            )
        )

    with pytest.raises(InvalidInput):
        await decide(str(uuid.uuid4()))  # not one of the proposal's companies
    decided = await decide(branch.company_id)
    assert (decided.status, decided.decided_by) == ("DECIDED", "dev:carla")
    assert await _employers(graph, person) == [(branch.company_id, "employee", "STEWARD")]
    # The head office's record again, changed: the same candidates, which the steward
    # answered, are not proposed again.
    await ingest(
        graph,
        "erp",
        RawCompanyRecord(
            head_id, name=f"{word} Bau GmbH", website=f"https://{domain}", city="Bonn"
        ),
    )
    assert await _open_proposals(graph, person) == []
