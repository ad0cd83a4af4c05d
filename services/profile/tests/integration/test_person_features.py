"""What reconciling services read of every person (``personFeatures``), on the real graph
server: the same values the full person read gives, the source systems of its records,
merged-away ids resolving to their survivor, erased and unknown persons not found."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from mdm_common.graph import GraphClient
from mdm_profile.adapters import graph_store, household_store, merge_store, privacy_store
from mdm_profile.adapters.graph_store import GraphPersonStore
from mdm_profile.adapters.privacy_store import GraphPrivacyStore, GraphSuppressionList
from mdm_profile.domain import privacy
from mdm_profile.domain.models import Person
from mdm_profile.domain.quality.identifiers import RawIdentifier
from mdm_profile.domain.records import RawRecord
from mdm_profile.domain.sources import SourceRegistry

from .events import Recorder
from .ingesting import ingest_one
from .merges import merge_by
from .suppression import SUPPRESSOR

SOURCES = SourceRegistry({"crm": 1, "shop": 2})
T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


@pytest.fixture
async def graph(graph_for: Callable[[str], GraphClient]) -> GraphClient:
    client = graph_for("profile")
    await client.apply_schema(
        (*graph_store.SCHEMA, *merge_store.SCHEMA, *household_store.SCHEMA, *privacy_store.SCHEMA)
    )
    return client


async def ingest(graph: GraphClient, source: str, raw: RawRecord) -> str:
    return await ingest_one(graph, source, raw, sources=SOURCES, now=T0)


def expected(person: Person, sources: list[str]) -> dict[str, Any]:
    """What the ``Person`` fields of the same names answer (GraphQL's serialisation)."""
    address = person.address
    return {
        "id": person.id,
        "createdAt": person.created_at.isoformat(),
        "givenName": person.given_name,
        "familyName": person.family_name,
        "suffix": person.suffix,
        "birthDate": person.birth_date.isoformat() if person.birth_date else None,
        "birthDatePartial": person.birth_date_partial,
        "email": person.email,
        "phone": person.phone.e164 if person.phone else None,
        "address": {
            "street": address.street,
            "houseNumber": address.house_number,
            "postalCode": address.postal_code,
            "city": address.city,
        }
        if address
        else None,
        "identifiers": [
            {
                "scheme": i.identifier.scheme,
                "issuer": i.identifier.issuer or None,
                "value": i.identifier.value,
            }
            for i in person.identifiers
        ],
        "sources": sources,
    }


def sid() -> str:
    return uuid.uuid4().hex


async def test_features_are_the_golden_values_with_the_record_sources(graph: GraphClient) -> None:
    full = await ingest(
        graph,
        "crm",
        RawRecord(
            sid(),
            full_name="Dr. Anna Müller jun.",
            email="anna.mueller@example.org",
            phone="030 1234567",
            street="Hauptstr. 1",
            house_number="2a",
            postal_code="10115",
            city="Berlin",
            birth_date="12.05.1987",
            identifiers=(
                RawIdentifier("CUSTOMER_NUMBER", f"K-{sid()[:8]}"),
                RawIdentifier("PASSPORT", "C01X00T47", "DE"),
            ),
        ),
    )
    sparse = await ingest(
        graph, "shop", RawRecord(sid(), family_name="Ohnewohnung", birth_date="1990")
    )
    merged_away = await ingest(
        graph, "shop", RawRecord(sid(), full_name="Anna Mueller", email="anna@shop.example")
    )
    await merge_by(
        "single",
        graph,
        full,
        merged_away,
        sources=SOURCES,
        events=Recorder(),
        actor="steward-7",
        reason="same customer",
        now=T0 + timedelta(hours=1),
    )
    erased = await ingest(graph, "crm", RawRecord(sid(), full_name="Erika Gelöscht"))
    await graph.write(
        lambda tx: privacy.erase(
            erased,
            "dsr-1",
            store=GraphPrivacyStore(tx),
            suppressions=GraphSuppressionList(tx),
            suppressor=SUPPRESSOR,
            events=Recorder(),
            now=T0 + timedelta(days=1),
        )
    )
    unknown = str(uuid.uuid4())

    asked = [full, sparse, merged_away, erased, unknown]
    features = await graph.read(lambda tx: GraphPersonStore(tx).features(asked))
    persons = await graph.read(lambda tx: GraphPersonStore(tx).get_many([full, sparse]))

    assert set(features) == {full, sparse, merged_away}
    assert features[full] == expected(persons[full], ["crm", "shop"])
    assert features[sparse] == expected(persons[sparse], ["shop"])
    assert features[merged_away] == features[full]  # the survivor's, asked by the old id
    assert features[full]["identifiers"] != []
    assert features[sparse]["address"] is None
    assert features[sparse]["birthDatePartial"] == "1990"
