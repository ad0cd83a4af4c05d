"""The read audit of profile and matching, through the gateway: every read of a person's
data leaves one record per request, which compliance finds per person and per reader."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest

from mdm_infra.client import GatewayClient, GraphQLError

from .test_profile_privacy import Customer, new_person, new_person_with

PERSON = "query StewardLooksUp($id: ID!) { person(id: $id) { id givenName email } }"
APP_READ = "query ShopProfile($id: ID!) { person(id: $id) { id familyName } }"
SEARCH = """query FindByMail($email: String!) {
  searchPersons(email: $email) { edges { node { id } } }
}"""
WITH_HOUSEHOLD = """query HouseholdCard($id: ID!) { person(id: $id) {
  id household { id members { personId } }
} }"""
FEATURES = "query MatchingFeatures($ids: [ID!]!) { personFeatures(ids: $ids) }"
DECISIONS = "query PairHistory($id: ID!) { matchDecisions(personId: $id) { id } }"
READ_FIELDS = "auditId personId reader roles operation fields at"
PROFILE_READS = f"""query ProfileReads($personId: ID, $reader: String) {{
  profileReads(personId: $personId, reader: $reader) {{ {READ_FIELDS} }}
}}"""
MATCHING_READS = f"""query MatchingReads($personId: ID, $reader: String) {{
  matchingReads(personId: $personId, reader: $reader) {{ {READ_FIELDS} }}
}}"""


@pytest.fixture
def reader_as(
    platform: Any, token_for: Callable[..., str]
) -> Callable[..., tuple[str, GatewayClient]]:
    """A client with its own token subject, so that the test finds its own reads."""
    clients: list[GatewayClient] = []

    def make(*roles: str) -> tuple[str, GatewayClient]:
        subject = f"{roles[0]}-{uuid.uuid4().hex[:10]}"
        client = GatewayClient(platform.config.gateway_url, token_for(*roles, subject=subject))
        clients.append(client)
        return subject, client

    yield make  # type: ignore[misc]
    for client in clients:
        client.close()


def reads(compliance: GatewayClient, query: str, **wanted: str) -> list[dict[str, Any]]:
    data = compliance.execute(query, wanted)
    return list(data[next(iter(data))])


class TestProfileReads:
    def test_a_stewards_read_is_found_per_person_and_per_reader(
        self, gateway: GatewayClient, reader_as: Callable[..., tuple[str, GatewayClient]]
    ) -> None:
        person_id = new_person(gateway, Customer())
        subject, steward = reader_as("steward")
        _, compliance = reader_as("compliance")

        steward.execute(PERSON, {"id": person_id})

        [by_person] = [
            r
            for r in reads(compliance, PROFILE_READS, personId=person_id)
            if r["reader"] == subject
        ]
        assert by_person["personId"] == person_id
        assert by_person["roles"] == ["steward"]
        assert by_person["operation"] == "StewardLooksUp"
        assert "person" in by_person["fields"]
        assert reads(compliance, PROFILE_READS, reader=subject) == [by_person]

    def test_an_apps_read_and_a_search_are_audited_one_record_per_request(
        self, gateway: GatewayClient, reader_as: Callable[..., tuple[str, GatewayClient]]
    ) -> None:
        customer = Customer()
        person_id = new_person(gateway, customer)
        subject, app = reader_as("app")
        _, compliance = reader_as("compliance")

        app.execute(APP_READ, {"id": person_id})
        app.execute(APP_READ, {"id": person_id})
        found = app.execute(SEARCH, {"email": customer.email})
        assert [e["node"]["id"] for e in found["searchPersons"]["edges"]] == [person_id]

        mine = reads(compliance, PROFILE_READS, reader=subject)
        assert [r["personId"] for r in mine] == [person_id] * 3
        assert len({r["auditId"] for r in mine}) == 3
        assert sorted(r["operation"] for r in mine) == ["FindByMail", "ShopProfile", "ShopProfile"]
        assert all(r["roles"] == ["app"] for r in mine)

    def test_a_read_with_the_household_names_every_member_once(
        self, gateway: GatewayClient, reader_as: Callable[..., tuple[str, GatewayClient]]
    ) -> None:
        customer, partner = Customer(), Customer()
        person_id = new_person(gateway, customer)
        # Another person of the same family at the same address: one household.
        partner_id = new_person_with(
            gateway,
            customer.record(
                givenName=partner.given,
                email=partner.email,
                phone=partner.mobile,
                birthDate=partner.birth_date,
            ),
        )
        subject, steward = reader_as("steward")
        _, compliance = reader_as("compliance")

        found = steward.execute(WITH_HOUSEHOLD, {"id": person_id})["person"]
        members = sorted(m["personId"] for m in found["household"]["members"])
        assert members == sorted([person_id, partner_id])

        mine = reads(compliance, PROFILE_READS, reader=subject)
        assert sorted(r["personId"] for r in mine) == members
        assert len({r["auditId"] for r in mine}) == 1

    def test_a_read_of_person_features_names_each_person_and_survivor(
        self, gateway: GatewayClient, reader_as: Callable[..., tuple[str, GatewayClient]]
    ) -> None:
        first, second = new_person(gateway, Customer()), new_person(gateway, Customer())
        subject, app = reader_as("app")
        _, compliance = reader_as("compliance")

        app.execute(FEATURES, {"ids": [first, second, str(uuid.uuid4())]})

        mine = reads(compliance, PROFILE_READS, reader=subject)
        assert sorted(r["personId"] for r in mine) == sorted([first, second])
        assert {(r["operation"], tuple(r["fields"])) for r in mine} == {
            ("MatchingFeatures", ("personFeatures",))
        }
        assert [r["reader"] for r in reads(compliance, PROFILE_READS, personId=first)].count(
            subject
        ) == 1

    def test_a_read_of_an_unknown_person_names_nobody(
        self, reader_as: Callable[..., tuple[str, GatewayClient]]
    ) -> None:
        subject, steward = reader_as("steward")
        _, compliance = reader_as("compliance")
        with pytest.raises(GraphQLError):
            steward.execute(PERSON, {"id": str(uuid.uuid4())})
        assert reads(compliance, PROFILE_READS, reader=subject) == []


class TestMatchingReads:
    def test_a_stewards_read_of_decisions_is_audited(
        self, gateway: GatewayClient, reader_as: Callable[..., tuple[str, GatewayClient]]
    ) -> None:
        person_id = new_person(gateway, Customer())
        subject, steward = reader_as("steward")
        _, compliance = reader_as("compliance")

        steward.execute(DECISIONS, {"id": person_id})

        [entry] = reads(compliance, MATCHING_READS, reader=subject)
        assert entry["personId"] == person_id
        assert entry["operation"] == "PairHistory"
        assert [
            r["auditId"]
            for r in reads(compliance, MATCHING_READS, personId=person_id)
            if r["reader"] == subject
        ] == [entry["auditId"]]


class TestAuditQueries:
    @pytest.mark.parametrize("query", [PROFILE_READS, MATCHING_READS])
    @pytest.mark.parametrize("role", ["steward", "app"])
    def test_need_compliance(
        self, query: str, role: str, reader_as: Callable[..., tuple[str, GatewayClient]]
    ) -> None:
        _, client = reader_as(role)
        with pytest.raises(GraphQLError) as refused:
            client.execute(query, {"reader": "anyone"})
        assert refused.value.codes == ["FORBIDDEN"]

    def test_ask_by_person_or_reader(
        self, reader_as: Callable[..., tuple[str, GatewayClient]]
    ) -> None:
        _, compliance = reader_as("compliance")
        with pytest.raises(GraphQLError) as refused:
            compliance.execute(PROFILE_READS, {})
        assert refused.value.codes == ["BAD_USER_INPUT"]
