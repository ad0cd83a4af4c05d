"""One customer through all three subgraphs, read back in one federated query."""

from __future__ import annotations

import time
from datetime import datetime

from mdm_infra.client import GatewayClient

from .queries import (
    CREATE_PERSON,
    MATCHING_STATE,
    PERSON_360,
    RECORD_CONSENT,
    consent_input,
    person_input,
    unique_letters,
)


def wait_until_registered(gateway: GatewayClient, person_id: str, timeout_s: float = 20) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        data = gateway.execute(MATCHING_STATE, {"id": person_id})
        if data["person"]["matching"]["registered"]:
            return
        time.sleep(0.1)
    raise AssertionError("the matching worker never registered the person")


class TestPersonWithConsentsAndMatching:
    def test_create_record_and_read_back_through_gateway(self, gateway: GatewayClient) -> None:
        family = "Fröhlich" + unique_letters()
        created = gateway.execute(
            CREATE_PERSON,
            {"input": person_input(givenName="  Greta ", familyName=family,
                                   email=f"Greta.{family[-8:]}@Example.org")},
        )["createPerson"]  # fmt: skip
        person_id = created["id"]
        assert created["givenName"] == "Greta"  # whitespace trimmed
        # Domain normalised, local part kept.
        assert created["email"] == f"Greta.{family[-8:]}@example.org"
        assert datetime.fromisoformat(created["createdAt"]).utcoffset() is not None

        gateway.execute(RECORD_CONSENT, {"input": consent_input(person_id)})
        gateway.execute(
            RECORD_CONSENT,
            {
                "input": consent_input(
                    person_id,
                    type="WITHDRAWN",
                    collectionPoint="preference-center",
                    method="PREFERENCE_CENTRE",
                )
            },
        )
        # The person.created event reaches the matching worker through the broker.
        wait_until_registered(gateway, person_id)

        person = gateway.execute(PERSON_360, {"id": person_id})["person"]

        assert person["id"] == person_id
        assert (person["givenName"], person["familyName"]) == ("Greta", family)
        assert [(c["type"], c["collectionPoint"]) for c in person["consents"]] == [
            ("WITHDRAWN", "preference-center"),
            ("GRANTED", "shop-checkout"),
        ]
        assert person["matching"]["registered"] is True
        assert datetime.fromisoformat(person["matching"]["registeredAt"]).utcoffset() is not None
        assert person["matchCandidates"] == []

    def test_consents_of_two_persons_do_not_mix(self, gateway: GatewayClient) -> None:
        first = gateway.execute(CREATE_PERSON, {"input": person_input()})["createPerson"]["id"]
        second = gateway.execute(CREATE_PERSON, {"input": person_input()})["createPerson"]["id"]
        gateway.execute(
            RECORD_CONSENT,
            {"input": consent_input(first, purpose="profiling", channel="PERSONALISED_WEB")},
        )

        query = """query Two($a: ID!, $b: ID!) {
          a: person(id: $a) { consents { purpose } }
          b: person(id: $b) { consents { purpose } }
        }"""
        data = gateway.execute(query, {"a": first, "b": second})

        assert data["a"]["consents"] == [{"purpose": "profiling"}]
        assert data["b"]["consents"] == []
