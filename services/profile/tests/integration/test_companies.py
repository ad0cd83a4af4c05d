"""Company store against the real graph server: employment read from the person's side."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from mdm_common.graph import GraphClient
from mdm_profile.adapters import company_store, graph_store, household_store
from mdm_profile.adapters.company_store import GraphCompanyStore
from mdm_profile.adapters.employment_store import GraphEmploymentStore
from mdm_profile.adapters.graph_store import GraphPersonStore
from mdm_profile.adapters.household_store import GraphHouseholdStore
from mdm_profile.adapters.privacy_store import GraphSuppressionList
from mdm_profile.domain import companies, people
from mdm_profile.domain.records import RawRecord
from mdm_profile.domain.sources import SourceRegistry

from .events import Recorder
from .suppression import SUPPRESSOR

SOURCES = SourceRegistry({"crm": 1})
T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


@pytest.fixture
async def graph(graph_for: Callable[[str], GraphClient]) -> GraphClient:
    client = graph_for("profile")
    await client.apply_schema((*graph_store.SCHEMA, *household_store.SCHEMA, *company_store.SCHEMA))
    return client


async def persons(graph: GraphClient, *names: str) -> list[str]:
    raws = [RawRecord(uuid.uuid4().hex, full_name=name) for name in names]
    ingestion = await graph.write(
        lambda tx: people.ingest(
            "crm",
            raws,
            store=GraphPersonStore(tx),
            households=GraphHouseholdStore(tx),
            employers=GraphEmploymentStore(tx),
            sources=SOURCES,
            events=Recorder(),
            suppressor=SUPPRESSOR,
            suppressions=GraphSuppressionList(tx),
            now=T0,
        )
    )
    return [o.person_id for o in ingestion.outcomes]


async def company(graph: GraphClient, name: str, *, parent: str | None = None) -> str:
    created = await graph.write(
        lambda tx: companies.create_company(
            name=name,
            registration_number=None,
            country="DE",
            store=GraphCompanyStore(tx),
            events=Recorder(),
            now=T0,
        )
    )
    if parent is not None:
        await graph.write(
            lambda tx: companies.set_parent(
                created.id, parent, store=GraphCompanyStore(tx), events=Recorder()
            )
        )
    return created.id


async def employ(graph: GraphClient, person_id: str, company_id: str, role: str) -> None:
    await graph.write(
        lambda tx: companies.link_employee(
            person_id, company_id, role, store=GraphCompanyStore(tx), events=Recorder()
        )
    )


class TestEmployers:
    async def test_persons_get_their_companies_by_name_with_role_and_parent_in_one_call(
        self, graph: GraphClient
    ) -> None:
        group = await company(graph, "Zentrale AG")
        branch = await company(graph, "Filiale GmbH", parent=group)
        anna, ben, cem = await persons(graph, "Anna Arbeit", "Ben Beirat", "Cem Ohnejob")
        await employ(graph, anna, group, "Vorstand")
        await employ(graph, anna, branch, "Leitung")
        await employ(graph, ben, branch, "  ")  # no role given: EMPLOYEE

        found = await graph.read(lambda tx: GraphCompanyStore(tx).employers([anna, ben, cem]))

        assert [(e.company.name, e.company.parent_id, e.role) for e in found[anna]] == [
            ("Filiale GmbH", group, "Leitung"),
            ("Zentrale AG", None, "Vorstand"),
        ]
        assert [(e.company.id, e.role) for e in found[ben]] == [(branch, "EMPLOYEE")]
        assert found[cem] == []

    async def test_an_unknown_id_works_for_nobody(self, graph: GraphClient) -> None:
        unknown = str(uuid.uuid4())
        found = await graph.read(lambda tx: GraphCompanyStore(tx).employers([unknown]))
        assert found == {unknown: []}
