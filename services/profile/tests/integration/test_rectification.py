"""Rectification (Art. 16, 19) against the real graph server: the corrected value wins
survivorship with its own record, the source systems' records stay, later imports do
not undo it, merges carry it, erasure removes it."""

from __future__ import annotations

import json
import uuid
from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from mdm_common.contracts import Event
from mdm_common.errors import InvalidInput, NotFound
from mdm_common.graph import GraphClient
from mdm_profile.adapters.graph_store import GraphPersonStore
from mdm_profile.adapters.household_store import GraphHouseholdStore
from mdm_profile.adapters.privacy_store import GraphPrivacyStore
from mdm_profile.domain import rectification
from mdm_profile.domain.golden import DEFAULT_RULES, Rule
from mdm_profile.domain.models import Person
from mdm_profile.domain.sources import RECTIFICATION

from .events import Recorder
from .test_privacy import SOURCES, T0, Customer, erase, export, graph, ingest, merge

__all__ = ["graph"]  # the graph fixture of the privacy tests

AT = T0 + timedelta(days=2)


async def rectify(
    graph: GraphClient,
    person_id: str,
    field: str,
    value: str,
    *,
    request_id: str | None = None,
    events: Recorder | None = None,
    now: datetime = AT,
) -> rectification.Rectification:
    return await graph.write(
        lambda tx: rectification.rectify(
            person_id,
            request_id or str(uuid.uuid4()),
            field,
            value,
            store=GraphPrivacyStore(tx),
            people=GraphPersonStore(tx),
            households=GraphHouseholdStore(tx),
            sources=SOURCES,
            rules=DEFAULT_RULES,
            events=events or Recorder(),
            now=now,
        )
    )


async def person(graph: GraphClient, person_id: str) -> Person:
    found = await graph.read(lambda tx: GraphPersonStore(tx).get_many([person_id]))
    return found[person_id]


async def sources_of(graph: GraphClient, person_id: str) -> dict[str, str | None]:
    found = await graph.read(lambda tx: GraphPersonStore(tx).records_of_persons([person_id]))
    return {r.key: r.email for r in found[person_id]}


class TestApproval:
    async def test_the_corrected_value_wins_with_lineage_and_the_records_stay(
        self, graph: GraphClient
    ) -> None:
        customer = Customer()
        [crm] = (await ingest(graph, "crm", customer.raw(email="old@crm.example"))).outcomes
        [shop] = (await ingest(graph, "shop", customer.raw(email="old@shop.example"))).outcomes
        pid = crm.person_id
        await merge(graph, pid, shop.person_id)
        events = Recorder()
        request = str(uuid.uuid4())
        done = await rectify(
            graph, pid, "email", "Gisela@Example.org", request_id=request, events=events
        )
        assert done.person_ids == [pid, shop.person_id]
        assert (done.recipients, done.source_id) == (["crm", "shop"], request)
        rectified = await person(graph, pid)
        assert rectified.email == "Gisela@example.org"
        lineage = rectified.lineage["email"]
        assert (lineage.source, lineage.source_id, lineage.rule) == (
            RECTIFICATION,
            request,
            Rule.RECTIFIED,
        )
        assert rectified.given_name == customer.given  # other values untouched
        records = await sources_of(graph, pid)
        assert records == {
            f"crm|{crm.source_id}": "old@crm.example",
            f"shop|{shop.source_id}": "old@shop.example",
            f"{RECTIFICATION}|{request}": "Gisela@example.org",
        }
        assert events.events == [(Event.PERSON_UPDATED, {"person_id": pid})]

    async def test_a_later_import_does_not_undo_it_and_asking_again_changes_nothing(
        self, graph: GraphClient
    ) -> None:
        customer = Customer()
        raw = customer.raw()
        [crm] = (await ingest(graph, "crm", raw)).outcomes
        request = str(uuid.uuid4())
        await rectify(graph, crm.person_id, "familyName", "Oberhuber-Lenz", request_id=request)
        await ingest(
            graph,
            "crm",
            replace(raw, family_name="Neu", recorded_at=AT + timedelta(days=1)),
            now=AT + timedelta(days=1),
        )
        after = await person(graph, crm.person_id)
        assert (after.given_name, after.family_name) == (customer.given, "Oberhuber-Lenz")
        assert after.lineage["name"].source_id == request
        events = Recorder()
        again = await rectify(
            graph, crm.person_id, "familyName", "Anders", request_id=request, events=events
        )
        assert again.already_applied
        assert again.recipients == ["crm"]  # the crm record now says "Neu"
        assert (await person(graph, crm.person_id)).family_name == "Oberhuber-Lenz"
        assert events.events == []

    async def test_a_bad_value_is_refused_and_nothing_is_written(self, graph: GraphClient) -> None:
        customer = Customer()
        [crm] = (await ingest(graph, "crm", customer.raw())).outcomes
        with pytest.raises(InvalidInput) as caught:
            await rectify(
                graph,
                crm.person_id,
                "address",
                json.dumps({"street": "Weg 1", "postalCode": "1", "city": "Berlin"}),
            )
        assert (caught.value.field, caught.value.details["reason"]) == (
            "address",
            "INVALID_FOR_COUNTRY",
        )
        assert len(await sources_of(graph, crm.person_id)) == 1
        check = await graph.read(
            lambda tx: rectification.check(
                crm.person_id, "birthDate", "1971-04-03", store=GraphPrivacyStore(tx), now=AT
            )
        )
        assert check.recipients == ["crm"]
        assert len(await sources_of(graph, crm.person_id)) == 1  # a check writes nothing


class TestMergesAndErasure:
    async def test_a_merge_keeps_the_rectified_value_on_the_survivor(
        self, graph: GraphClient
    ) -> None:
        customer = Customer()
        [a] = (await ingest(graph, "crm", customer.raw())).outcomes
        [b] = (await ingest(graph, "shop", customer.raw(phone="+49301234567"))).outcomes
        request = str(uuid.uuid4())
        await rectify(graph, b.person_id, "phone", "+49 30 7654321", request_id=request)
        await merge(graph, a.person_id, b.person_id)
        survivor = await person(graph, a.person_id)
        assert survivor.phone is not None
        assert (survivor.phone.e164, survivor.lineage["phone"].source_id) == (
            "+49307654321",
            request,
        )
        asked = await graph.read(
            lambda tx: rectification.check(
                b.person_id, "phone", "+49 30 7654321", store=GraphPrivacyStore(tx), now=AT
            )
        )
        assert asked.person_ids == [a.person_id, b.person_id]
        assert asked.recipients == ["crm", "shop"]

    async def test_erasure_removes_the_rectification_and_an_erased_person_is_refused(
        self, graph: GraphClient
    ) -> None:
        customer = Customer()
        [crm] = (await ingest(graph, "crm", customer.raw())).outcomes
        await rectify(graph, crm.person_id, "email", "neu@example.org")
        done = await erase(graph, crm.person_id)
        assert done.removed_records == 2
        assert (await export(graph, crm.person_id)).items == []
        with pytest.raises(NotFound) as caught:
            await rectify(graph, crm.person_id, "email", "wieder@example.org")
        assert caught.value.details["reason"] == "ERASED"
