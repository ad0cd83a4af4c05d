"""Legal holds against the real graph server: erasure keeps what a duty covers,
restricted and out of every read; the hold ends by itself."""

from __future__ import annotations

from datetime import date, timedelta

from mdm_common.contracts import DataCategory
from mdm_common.graph import GraphClient
from mdm_profile.adapters import hold_store
from mdm_profile.adapters.graph_store import GraphPersonStore
from mdm_profile.adapters.history_store import GraphHistoryStore
from mdm_profile.adapters.hold_store import GraphHoldStore
from mdm_profile.adapters.household_store import GraphHouseholdStore
from mdm_profile.adapters.merge_store import GraphMergeStore
from mdm_profile.adapters.privacy_store import GraphPrivacyStore, GraphSuppressionList
from mdm_profile.domain import holds, privacy, retention
from mdm_profile.domain.golden import DEFAULT_RULES
from mdm_profile.domain.holds import HoldInstruction
from mdm_profile.domain.sources import SourceRegistry

from .events import Recorder
from .ingesting import ingest_one
from .suppression import SUPPRESSOR
from .test_privacy import T0, Customer, export, graph, merge, nodes_holding

__all__ = ["graph"]  # the fixture, from the privacy tests

SOURCES = SourceRegistry({"crm": 1, "erp": 1, "shop": 2})
ERASED_AT = T0 + timedelta(days=1)
HGB = HoldInstruction(
    "invoices", "Invoices and contracts", "HGB_257", source_systems=("erp",), period_years=10
)
PHONE_PROOF = HoldInstruction(
    "uwg-7a",
    "Proof of phone consent",
    "UWG_7A",
    data_categories=(DataCategory.PHONE,),
    until=date(2031, 6, 1),
)


async def ingest(graph: GraphClient, source: str, customer: Customer, **overrides: object) -> str:
    return await ingest_one(graph, source, customer.raw(**overrides), sources=SOURCES, now=T0)


async def erase(graph: GraphClient, person_id: str, *duties: HoldInstruction) -> privacy.Erasure:
    return await graph.write(
        lambda tx: privacy.erase(
            person_id,
            "dsr-hold-1",
            store=GraphPrivacyStore(tx),
            suppressions=GraphSuppressionList(tx),
            suppressor=SUPPRESSOR,
            events=Recorder(),
            now=ERASED_AT,
            holds=duties,
            held=GraphHoldStore(tx),
        )
    )


async def held_of(graph: GraphClient, person_id: str) -> list[holds.HeldRecord]:
    return await graph.read(lambda tx: GraphHoldStore(tx).of_persons([person_id]))


async def test_erasure_keeps_the_covered_records_restricted_and_erases_the_rest(
    graph: GraphClient,
) -> None:
    await graph.apply_schema(hold_store.SCHEMA)
    customer = Customer()
    person = await ingest(graph, "erp", customer, email=None, recorded_at=T0)
    other = await ingest(
        graph, "shop", customer, street=None, house_number=None, postal_code=None, city=None
    )
    await merge(graph, person, other)

    done = await erase(graph, person, HGB, PHONE_PROOF)

    assert (done.removed_records, done.already_erased) == (2, False)
    assert done.suppression_entries >= 2  # every record, held or not
    by_source = {h.record.source: h for h in done.restricted}
    erp, shop = by_source["erp"], by_source["shop"]
    assert erp.until == date(2036, 12, 31)
    assert [r.legal_reference for r in erp.reasons] == ["HGB_257", "UWG_7A"]
    assert erp.record.address is not None
    assert erp.record.address.street == customer.street
    assert (shop.categories, shop.until) == (("phone",), date(2031, 6, 1))
    assert (shop.record.email, shop.record.given_name) == (None, "")
    assert DataCategory.EMAIL in done.erased_categories  # the shop's e-mail address
    # The held values live on held records only: no person, no source record, no contact.
    holding = await nodes_holding(graph, [customer.email, customer.street, customer.mobile])
    assert {label for n in holding for label in n["labels"]} == {"HeldRecord"}
    assert not any(customer.email in str(n["props"]) for n in holding)
    assert (await export(graph, person)).items == []

    again = await erase(graph, person, HGB, PHONE_PROOF)
    assert again.already_erased
    assert {h.key for h in again.restricted} == {erp.key, shop.key}


async def test_the_hold_ends_by_itself(graph: GraphClient) -> None:
    await graph.apply_schema(hold_store.SCHEMA)
    customer = Customer()
    person = await ingest(graph, "shop", customer)
    await erase(graph, person, PHONE_PROOF)

    async def release(today: date) -> list[holds.HeldRecord]:
        _, released = await graph.write(
            lambda tx: privacy.release_holds(
                person,
                "run-1",
                store=GraphPrivacyStore(tx),
                held=GraphHoldStore(tx),
                today=today,
            )
        )
        return released

    assert await release(date(2031, 6, 1)) == []  # the last day of the duty
    assert len(await held_of(graph, person)) == 1
    listed = await graph.read(
        lambda tx: holds.expired_holds(GraphHoldStore(tx), today=date(2031, 6, 2), first=500)
    )
    assert person in {h.person_id for h in listed}

    released = await release(date(2031, 6, 2))

    assert [h.record.source for h in released] == ["shop"]
    assert await held_of(graph, person) == []
    assert await nodes_holding(graph, [customer.mobile]) == []
    assert await release(date(2031, 6, 2)) == []  # idempotent


async def test_without_duties_nothing_is_held(graph: GraphClient) -> None:
    await graph.apply_schema(hold_store.SCHEMA)
    customer = Customer()
    person = await ingest(graph, "erp", customer)
    done = await erase(graph, person)
    assert done.restricted == ()
    assert await nodes_holding(graph, customer.values) == []


async def purge(graph: GraphClient, person_id: str, *duties: HoldInstruction) -> retention.Purge:
    return await graph.write(
        lambda tx: retention.purge(
            person_id,
            [DataCategory.PHONE, DataCategory.EMAIL],
            "run-7",
            store=GraphPrivacyStore(tx),
            contacts=GraphPrivacyStore(tx),
            people=GraphPersonStore(tx),
            snapshots=GraphMergeStore(tx),
            history=GraphHistoryStore(tx),
            households=GraphHouseholdStore(tx),
            sources=SOURCES,
            rules=DEFAULT_RULES,
            events=Recorder(),
            now=ERASED_AT,
            holds=duties,
            held=GraphHoldStore(tx),
        )
    )


async def test_retention_keeps_the_phone_proof_restricted_and_erasure_names_it(
    graph: GraphClient,
) -> None:
    await graph.apply_schema(hold_store.SCHEMA)
    customer = Customer()
    person = await ingest(graph, "shop", customer)

    done = await purge(graph, person, PHONE_PROOF, HGB)  # HGB covers no purged category

    (held,) = done.restricted
    assert (held.categories, held.until, held.request_id) == (("phone",), date(2031, 6, 1), "run-7")
    golden = (await export(graph, person)).items
    assert not [i for i in golden if i.category in (DataCategory.PHONE, DataCategory.EMAIL)]
    assert (await purge(graph, person, PHONE_PROOF)).restricted == ()  # nothing left to hold

    erased = await erase(graph, person)

    assert [h.key for h in erased.restricted] == [held.key]
    assert [n["labels"] for n in await nodes_holding(graph, [customer.mobile])] == [["HeldRecord"]]
