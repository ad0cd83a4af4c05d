"""Data-subject requests against the real graph server: export, erasure, suppression,
restriction, and how merges and readers treat erased and restricted persons."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from mdm_common.errors import Conflict, InvalidInput, NotFound
from mdm_common.graph import GraphClient
from mdm_common.text import fold
from mdm_profile.adapters import (
    company_store,
    graph_store,
    household_store,
    merge_store,
    privacy_store,
)
from mdm_profile.adapters.company_store import GraphCompanyStore
from mdm_profile.adapters.employment_store import GraphEmploymentStore
from mdm_profile.adapters.graph_store import GraphPersonStore
from mdm_profile.adapters.household_store import GraphHouseholdStore
from mdm_profile.adapters.merge_store import GraphMergeStore
from mdm_profile.adapters.privacy_store import GraphPrivacyStore, GraphSuppressionList
from mdm_profile.domain import companies, merging, people, personal_data, privacy
from mdm_profile.domain.golden import DEFAULT_RULES
from mdm_profile.domain.personal_data import Origin
from mdm_profile.domain.quality.identifiers import RawIdentifier
from mdm_profile.domain.records import RawRecord
from mdm_profile.domain.sources import SourceRegistry

from .events import Recorder
from .merges import merge_by
from .suppression import SUPPRESSOR

SOURCES = SourceRegistry({"crm": 1, "shop": 2})
T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


@pytest.fixture
async def graph(graph_for: Callable[[str], GraphClient]) -> GraphClient:
    client = graph_for("profile")
    await client.apply_schema((*graph_store.SCHEMA, *merge_store.SCHEMA, *household_store.SCHEMA,
                               *company_store.SCHEMA, *privacy_store.SCHEMA))  # fmt: skip
    return client


def tag() -> str:
    """Letters of the test's own, so that no other test's persons share its values."""
    number = uuid.uuid4().int
    return "".join("abcdefghijklmnopqrstuvwxyz"[(number >> (5 * i)) % 26] for i in range(10))


def unique_mobile() -> str:
    return f"+49151{10_000_000 + uuid.uuid4().int % 89_999_999}"


def unique_landline() -> str:
    return f"030 {2_000_000 + uuid.uuid4().int % 7_000_000}"


def unique_postal_code() -> str:
    return str(10000 + uuid.uuid4().int % 90000)


async def ingest(
    graph: GraphClient, source: str, *raws: RawRecord, now: datetime = T0
) -> people.Ingestion:
    return await graph.write(
        lambda tx: people.ingest(
            source,
            raws,
            store=GraphPersonStore(tx),
            households=GraphHouseholdStore(tx),
            employers=GraphEmploymentStore(tx),
            sources=SOURCES,
            events=Recorder(),
            suppressor=SUPPRESSOR,
            suppressions=GraphSuppressionList(tx),
            now=now,
        )
    )


async def merge(
    graph: GraphClient,
    survivor: str,
    merged: str,
    *,
    reason: str = "same customer",
    path: str = "single",
) -> merging.Merge:
    return await merge_by(
        path,
        graph,
        survivor,
        merged,
        sources=SOURCES,
        events=Recorder(),
        actor="steward-7",
        reason=reason,
        now=T0 + timedelta(hours=1),
    )


async def export(graph: GraphClient, person_id: str) -> personal_data.PersonalData:
    return await graph.read(
        lambda tx: personal_data.personal_data(person_id, store=GraphPrivacyStore(tx))
    )


async def erase(graph: GraphClient, person_id: str, request_id: str = "dsr-1") -> privacy.Erasure:
    return await graph.write(
        lambda tx: privacy.erase(
            person_id, request_id, store=GraphPrivacyStore(tx),
            suppressions=GraphSuppressionList(tx), suppressor=SUPPRESSOR,
            events=Recorder(), now=T0 + timedelta(days=1),
        )
    )  # fmt: skip


async def restrict(graph: GraphClient, person_id: str, *, restricted: bool = True,
                   request_id: str = "dsr-2") -> privacy.Restriction:  # fmt: skip
    return await graph.write(
        lambda tx: privacy.restrict(
            person_id, request_id, restricted=restricted, store=GraphPrivacyStore(tx),
            events=Recorder(), now=T0 + timedelta(days=1),
        )
    )  # fmt: skip


async def nodes_holding(graph: GraphClient, values: list[str]) -> list[dict[str, Any]]:
    """Every node with a property whose text contains one of ``values`` (folded)."""
    rows = await graph.read(
        lambda tx: tx.run("test.all_nodes", "MATCH (n) RETURN labels(n) AS labels, n {.*} AS n")
    )
    wanted = [fold(v) for v in values]
    return [
        {"labels": row["labels"], "props": row["n"]}
        for row in rows
        if any(w and w in fold(str(value)) for value in row["n"].values() for w in wanted)
    ]


class Customer:
    """A person's values, each found nowhere else in the database."""

    def __init__(self) -> None:
        self.given = "Gisela" + tag()
        self.family = "Oberhuber" + tag()
        self.email = f"gisela.{tag()}@example.org"
        self.mobile = unique_mobile()
        self.street = "Zedernweg" + tag()
        self.postal_code = unique_postal_code()

    def raw(self, **overrides: Any) -> RawRecord:
        fields: dict[str, Any] = {
            "given_name": self.given, "family_name": self.family, "email": self.email,
            "phone": self.mobile, "street": self.street, "house_number": "3",
            "postal_code": self.postal_code, "city": "Berlin", "country": "DE",
            "birth_date": "1971-04-02", "language": "de",
        }  # fmt: skip
        return RawRecord(uuid.uuid4().hex, **(fields | overrides))

    @property
    def values(self) -> list[str]:
        return [self.given, self.family, self.email, self.mobile, self.street]


async def merged_pair(
    graph: GraphClient, customer: Customer, path: str = "single"
) -> tuple[str, str, merging.Merge]:
    [a] = (await ingest(graph, "crm", customer.raw(email=None))).outcomes
    no_address = dict.fromkeys(("phone", "street", "house_number", "postal_code", "city"))
    [b] = (await ingest(graph, "shop", customer.raw(**no_address))).outcomes
    record = await merge(
        graph, a.person_id, b.person_id, reason=f"ticket about {customer.family}", path=path
    )
    return a.person_id, b.person_id, record


class TestExport:
    async def test_golden_values_with_lineage_records_and_merges_of_the_group(
        self, graph: GraphClient, merge_path: str
    ) -> None:
        customer = Customer()
        survivor, merged_id, record = await merged_pair(graph, customer, path=merge_path)

        found = await export(graph, merged_id)  # a merged-away id gives the whole group

        assert found.person_ids == [survivor, merged_id]
        assert (found.erased, found.restricted) == (False, False)
        golden = {
            i.field: i for i in found.items if i.origin == Origin.GOLDEN and i.person_id == survivor
        }
        assert golden["givenName"].value == customer.given
        assert golden["givenName"].category == "identity"
        assert (golden["email"].value, golden["email"].source) == (customer.email, "shop")
        assert (golden["phone"].value, golden["phone"].source) == (customer.mobile, "crm")
        assert golden["birthDate"].category == "birth_date"
        assert json.loads(golden["address"].value)["street"] == customer.street
        records = [i for i in found.items if i.origin == Origin.SOURCE_RECORD]
        keys = {i.value for i in records if i.field == "sourceRecord"}
        assert {k.split("|")[0] for k in keys} == {"crm", "shop"}
        assert all(i.category == "source_record" for i in records if i.field == "sourceRecord")
        assert {i.source for i in records if i.field == "email"} == {"shop"}
        [merge_item] = [i for i in found.items if i.origin == Origin.MERGE]
        assert json.loads(merge_item.value)["mergeId"] == record.id
        assert json.loads(merge_item.value)["actor"] == "steward-7"
        assert merge_item.category == "relationships"
        # The merged-away person's node keeps its golden values of before the merge.
        assert any(i.person_id == merged_id and i.origin == Origin.GOLDEN
                   for i in found.items)  # fmt: skip

    async def test_identifiers_partial_dates_and_values_kept_raw_are_listed(
        self, graph: GraphClient
    ) -> None:
        number = f"K{uuid.uuid4().int % 10**8:08d}"
        raw = RawRecord(
            str(uuid.uuid4()),
            given_name="Ida",
            family_name="Teilweise",
            birth_date="1987-13-45",  # kept as the year only
            email="a..b@example.org",  # kept as received, used nowhere
            identifiers=(RawIdentifier("CUSTOMER_NUMBER", number),),
        )
        [outcome] = (await ingest(graph, "crm", raw)).outcomes

        found = await export(graph, outcome.person_id)

        def values(origin: str, field: str) -> set[tuple[str, str]]:
            return {
                (i.category, i.value)
                for i in found.items
                if i.origin == origin and i.field == field
            }

        identifier = json.dumps(
            {"scheme": "CUSTOMER_NUMBER", "issuer": "crm", "value": number},
            separators=(",", ":"),
            sort_keys=True,
        )
        for origin in (Origin.GOLDEN, Origin.SOURCE_RECORD):
            assert values(origin, "identifier") == {("identifiers", identifier)}
            assert values(origin, "birthDate") == {("birth_date", "1987")}
        assert values(Origin.SOURCE_RECORD, "keptRaw.email") == {("email", "a..b@example.org")}
        assert values(Origin.SOURCE_RECORD, "keptRaw.birthDate") == {("birth_date", "1987-13-45")}

    async def test_household_and_employer_links_are_listed(self, graph: GraphClient) -> None:
        customer, partner = Customer(), Customer()
        partner.family, partner.street, partner.postal_code = (
            customer.family, customer.street, customer.postal_code)  # fmt: skip
        [a] = (await ingest(graph, "crm", customer.raw())).outcomes
        await ingest(graph, "crm", partner.raw(birth_date="1973-01-01"))
        company = await graph.write(lambda tx: companies.create_company(
            name="Kontor " + tag(), registration_number=None, country="DE",
            store=GraphCompanyStore(tx), events=Recorder(), now=T0,
        ))  # fmt: skip
        await graph.write(lambda tx: GraphCompanyStore(tx).employ(a.person_id, company.id, "CFO"))

        found = await export(graph, a.person_id)

        fields = {i.field: i for i in found.items if i.category == "relationships"}
        assert json.loads(fields["employer"].value) == {"companyId": company.id, "role": "CFO"}
        assert json.loads(fields["household"].value)["role"] == "MEMBER"

    async def test_unknown_id_is_not_found(self, graph: GraphClient) -> None:
        with pytest.raises(NotFound):
            await export(graph, str(uuid.uuid4()))


class TestErasure:
    async def test_no_personal_value_is_left_anywhere(
        self, graph: GraphClient, merge_path: str
    ) -> None:
        customer = Customer()
        survivor, merged_id, _ = await merged_pair(graph, customer, path=merge_path)
        assert await nodes_holding(graph, customer.values)

        done = await erase(graph, merged_id, "dsr-erase-1")

        assert done.person_ids == [survivor, merged_id]
        assert (done.removed_records, done.already_erased) == (2, False)
        assert done.suppression_entries == 5  # 2 records, name-birth, email-given, mobile-given
        assert await nodes_holding(graph, customer.values) == []

    async def test_tombstones_keep_the_ids_resolving(
        self, graph: GraphClient, merge_path: str
    ) -> None:
        survivor, merged_id, _ = await merged_pair(graph, Customer(), path=merge_path)
        await erase(graph, survivor, "dsr-erase-2")

        rows = await graph.read(lambda tx: tx.run(
            "test.tombstones", "UNWIND $ids AS id MATCH (p:Person {id: id}) "
            "OPTIONAL MATCH (p)-[:MERGED_INTO]->(s:Person) RETURN p {.*} AS p, s.id AS into",
            ids=[survivor, merged_id],
        ))  # fmt: skip
        assert {tuple(sorted(r["p"])) for r in rows} == {
            ("erasedAt", "erasureRequestId", "id", "status")
        }
        assert {r["p"]["status"] for r in rows} == {"ERASED"}
        assert {r["into"] for r in rows} == {None, survivor}
        people_store = await graph.read(lambda tx: GraphPersonStore(tx).get_many([merged_id]))
        assert people_store == {}
        erased = await graph.read(lambda tx: GraphPersonStore(tx).erased([survivor, merged_id]))
        assert erased == {survivor, merged_id}
        found = await export(graph, merged_id)
        assert (found.erased, found.items, found.person_ids) == (True, [], [survivor, merged_id])

    async def test_asking_again_writes_nothing(self, graph: GraphClient, merge_path: str) -> None:
        survivor, _, _ = await merged_pair(graph, Customer(), path=merge_path)
        await erase(graph, survivor, "dsr-erase-3")
        before = await graph.read(
            lambda tx: tx.run(
                "test.tombstone", "MATCH (p:Person {id: $id}) RETURN p {.*} AS p", id=survivor
            )
        )

        again = await erase(graph, survivor, "dsr-erase-3b")

        assert (again.already_erased, again.removed_records, again.suppression_entries) == (
            True, 0, 0)  # fmt: skip
        after = await graph.read(
            lambda tx: tx.run(
                "test.tombstone", "MATCH (p:Person {id: $id}) RETURN p {.*} AS p", id=survivor
            )
        )
        assert after == before

    async def test_suppression_entries_hold_hashes_only(self, graph: GraphClient) -> None:
        customer = Customer()
        [a] = (await ingest(graph, "crm", customer.raw())).outcomes
        await erase(graph, a.person_id, "dsr-erase-4")
        rows = await graph.read(lambda tx: tx.run(
            "test.suppression", "MATCH (s:Suppression {requestId: $r}) RETURN s {.*} AS s",
            r="dsr-erase-4"))  # fmt: skip
        assert sorted(r["s"]["kind"] for r in rows) == [
            "email-given", "mobile-given", "name-birth", "record"]  # fmt: skip
        assert all(set(r["s"]) == {"hash", "kind", "requestId", "createdAt"} for r in rows)
        assert all(len(r["s"]["hash"]) == 64 for r in rows)

    async def test_merges_keep_their_audit_but_cannot_be_undone(
        self, graph: GraphClient, merge_path: str
    ) -> None:
        customer = Customer()
        survivor, merged_id, record = await merged_pair(graph, customer, path=merge_path)
        await erase(graph, survivor, "dsr-erase-5")

        kept = await graph.read(lambda tx: GraphMergeStore(tx).get_merge(record.id))
        assert kept is not None
        assert (kept.survivor_id, kept.merged_id, kept.actor, kept.at) == (
            survivor, merged_id, "steward-7", record.at)  # fmt: skip
        assert (kept.reason, kept.survivor_before, kept.merged_before) == ("", None, None)
        with pytest.raises(Conflict) as refused:
            await graph.write(lambda tx: merging.unmerge(
                record.id, store=GraphMergeStore(tx), households=GraphHouseholdStore(tx),
                sources=SOURCES, rules=DEFAULT_RULES, events=Recorder(), now=T0,
            ))  # fmt: skip
        assert refused.value.details == {"reason": "ERASED"}

    async def test_an_erased_person_is_merged_and_employed_no_more(
        self, graph: GraphClient, merge_path: str
    ) -> None:
        [a] = (await ingest(graph, "crm", Customer().raw())).outcomes
        [b] = (await ingest(graph, "crm", Customer().raw())).outcomes
        await erase(graph, a.person_id, "dsr-erase-6")

        with pytest.raises(NotFound) as refused:
            await merge(graph, b.person_id, a.person_id, path=merge_path)
        assert (refused.value.field, refused.value.details) == ("mergedId", {"reason": "ERASED"})
        company = await graph.write(lambda tx: companies.create_company(
            name="Kontor " + tag(), registration_number=None, country=None,
            store=GraphCompanyStore(tx), events=Recorder(), now=T0,
        ))  # fmt: skip
        employed = await graph.write(
            lambda tx: GraphCompanyStore(tx).employ(a.person_id, company.id, "CFO")
        )
        assert employed is False

    async def test_shared_contact_points_and_households_stay_for_the_others(
        self, graph: GraphClient
    ) -> None:
        customer, partner = Customer(), Customer()
        landline = unique_landline()
        partner.family, partner.street, partner.postal_code = (
            customer.family, customer.street, customer.postal_code)  # fmt: skip
        [a] = (await ingest(graph, "crm", customer.raw(phone=landline))).outcomes
        [b] = (await ingest(graph, "crm", partner.raw(phone=landline))).outcomes
        household = await graph.read(
            lambda tx: GraphHouseholdStore(tx).household_of([a.person_id, b.person_id])
        )
        assert household[a.person_id] == household[b.person_id]

        await erase(graph, a.person_id, "dsr-erase-7")

        partner_now = await graph.read(lambda tx: GraphPersonStore(tx).get_many([b.person_id]))
        assert partner_now[b.person_id].address is not None
        assert await nodes_holding(graph, [customer.given, customer.email]) == []
        shared = await nodes_holding(graph, [customer.street])
        assert {tuple(n["labels"]) for n in shared} >= {("PostalAddress",), ("Household",)}

    async def test_an_emptied_household_goes(self, graph: GraphClient) -> None:
        customer, partner = Customer(), Customer()
        partner.family, partner.street, partner.postal_code = (
            customer.family, customer.street, customer.postal_code)  # fmt: skip
        [a] = (await ingest(graph, "crm", customer.raw())).outcomes
        [b] = (await ingest(graph, "crm", partner.raw())).outcomes
        await erase(graph, a.person_id, "dsr-erase-8a")
        await erase(graph, b.person_id, "dsr-erase-8b")
        assert await nodes_holding(graph, [customer.street, customer.family]) == []

    async def test_unknown_id_and_bad_request_id(self, graph: GraphClient) -> None:
        with pytest.raises(NotFound):
            await erase(graph, str(uuid.uuid4()))
        [a] = (await ingest(graph, "crm", Customer().raw())).outcomes
        with pytest.raises(InvalidInput) as bad:
            await erase(graph, a.person_id, "not a request id!")
        assert bad.value.field == "requestId"


class TestSuppression:
    async def test_the_same_record_again_is_not_stored(self, graph: GraphClient) -> None:
        customer = Customer()
        raw = customer.raw()
        [a] = (await ingest(graph, "crm", raw)).outcomes
        await erase(graph, a.person_id, "dsr-sup-1")

        again = await ingest(graph, "crm", raw)

        assert (again.outcomes, again.suppressed) == ([], [raw.source_id])
        assert await nodes_holding(graph, customer.values) == []

    async def test_same_email_and_given_name_from_another_source(self, graph: GraphClient) -> None:
        customer = Customer()
        [a] = (await ingest(graph, "crm", customer.raw())).outcomes
        await erase(graph, a.person_id, "dsr-sup-2")
        # Spelt in capitals, without phone, address or birth date: still the same person.
        raw = RawRecord(uuid.uuid4().hex, given_name=customer.given.upper(),
                        family_name="Anders", email=customer.email.upper())  # fmt: skip
        other = Customer().raw()

        batch = await ingest(graph, "shop", raw, other)

        assert batch.suppressed == [raw.source_id]
        assert [o.source_id for o in batch.outcomes] == [other.source_id]

    async def test_a_household_member_sharing_landline_and_address_is_stored(
        self, graph: GraphClient
    ) -> None:
        customer = Customer()
        landline = unique_landline()
        [a] = (await ingest(graph, "crm", customer.raw(phone=landline))).outcomes
        await erase(graph, a.person_id, "dsr-sup-3")
        member = customer.raw(given_name="Hannelore", phone=landline, email=None)

        stored = await ingest(graph, "crm", member)

        assert stored.suppressed == []
        assert [o.created for o in stored.outcomes] == [True]

    async def test_twins_with_one_birth_date_are_told_apart(self, graph: GraphClient) -> None:
        customer = Customer()
        [a] = (await ingest(graph, "crm", customer.raw(email=None, phone=None))).outcomes
        await erase(graph, a.person_id, "dsr-sup-4")

        twin = await ingest(graph, "crm", customer.raw(given_name="Gerlinde", email=None,
                                                      phone=None))  # fmt: skip
        same = await ingest(graph, "shop", customer.raw(given_name=customer.given.lower(),
                                                        email=None, phone=None))  # fmt: skip

        assert (twin.suppressed, len(twin.outcomes)) == ([], 1)
        assert len(same.suppressed) == 1


class TestRestriction:
    async def test_a_restricted_person_is_not_merged_until_lifted(
        self, graph: GraphClient, merge_path: str
    ) -> None:
        [a] = (await ingest(graph, "crm", Customer().raw())).outcomes
        [b] = (await ingest(graph, "crm", Customer().raw())).outcomes

        done = await restrict(graph, b.person_id)

        assert (done.person_ids, done.restricted) == ([b.person_id], True)
        found = await graph.read(lambda tx: GraphPersonStore(tx).get_many([b.person_id]))
        assert found[b.person_id].processing_restricted is True
        with pytest.raises(Conflict) as refused:
            await merge(graph, a.person_id, b.person_id, path=merge_path)
        assert (refused.value.field, refused.value.details) == (
            "mergedId", {"reason": "PROCESSING_RESTRICTED"})  # fmt: skip
        with pytest.raises(Conflict):
            await merge(graph, b.person_id, a.person_id, path=merge_path)

        await restrict(graph, b.person_id, restricted=False, request_id="dsr-2-lift")
        record = await merge(graph, a.person_id, b.person_id, path=merge_path)
        assert record.merged_id == b.person_id

    async def test_storage_goes_on_and_the_restriction_stays(self, graph: GraphClient) -> None:
        customer = Customer()
        raw = customer.raw()
        [a] = (await ingest(graph, "crm", raw)).outcomes
        await restrict(graph, a.person_id)

        changed = RawRecord(raw.source_id, given_name=customer.given, family_name="Neu" + tag())
        updated = await ingest(graph, "crm", changed, now=T0 + timedelta(hours=2))

        assert [o.person_id for o in updated.outcomes] == [a.person_id]
        found = await graph.read(lambda tx: GraphPersonStore(tx).get_many([a.person_id]))
        assert found[a.person_id].processing_restricted is True
        assert (await export(graph, a.person_id)).restricted is True

    async def test_unknown_and_erased_persons(self, graph: GraphClient) -> None:
        with pytest.raises(NotFound):
            await restrict(graph, str(uuid.uuid4()))
        [a] = (await ingest(graph, "crm", Customer().raw())).outcomes
        await erase(graph, a.person_id, "dsr-r-3")
        with pytest.raises(NotFound) as refused:
            await restrict(graph, a.person_id)
        assert refused.value.details == {"reason": "ERASED"}

    async def test_a_bad_request_id_changes_nothing(self, graph: GraphClient) -> None:
        [a] = (await ingest(graph, "crm", Customer().raw())).outcomes
        with pytest.raises(InvalidInput) as bad:
            await restrict(graph, a.person_id, request_id="")
        assert bad.value.field == "requestId"
        found = await graph.read(lambda tx: GraphPersonStore(tx).get_many([a.person_id]))
        assert found[a.person_id].processing_restricted is False
