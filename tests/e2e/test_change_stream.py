"""The change stream through the running platform: subscribers registered by an admin
read, from their Redis streams or at their webhooks, exactly what their purpose allows.

Every test registers a purpose of its own (consent-based: a purpose on another legal
basis would apply to every person of the shared suite), so that what a subscriber
receives depends on this module's persons alone.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import redis
from standardwebhooks.webhooks import Webhook

from mdm_infra import demo
from mdm_infra.client import GatewayClient
from mdm_infra.platform import Platform
from mdm_infra.testing import eventually

from .queries import INGEST, MERGE, RECORD_CONSENT, UNMERGE, unique_letters
from .test_data_subject_requests import CARRY_OUT, EXPORT, LIFT, submit

CATEGORIES = ["identity", "birth_date", "email", "phone", "postal_address", "language"]
NOTICE = "Ja, ruft mich mit Angeboten an."
REGISTER = """mutation($input: RegisterPurposeInput!) { registerPurpose(input: $input) { code } }"""
PUBLISH = """mutation($input: PublishNoticeInput!) { publishNotice(input: $input) { version } }"""
CREATE = """mutation($input: CreateSubscriberInput!) {
  createSubscriber(input: $input) { secret subscriber { id name delivery stream { key } } }
}"""
SUBSCRIBER = """query($id: ID!) { subscriber(id: $id) {
  id paused lag stream { length groups { name lag pending } }
  deadLetters { id }
} }"""
PAUSE = """mutation($id: ID!) { pauseSubscriber(id: $id) { paused } }"""
REMOVE = """mutation($id: ID!) { removeSubscriber(id: $id) { removedAt } }"""
RESUME = """mutation($id: ID!) { resumeSubscriber(id: $id) { paused } }"""
RECIPIENTS = """query($id: ID!) { distributionRecipients(personId: $id) {
  subscriberId receiving firstSentAt stoppedAt stopReason erasureNotifiedAt
} }"""
PERSONS = """query($ids: [ID!]!) { persons(ids: $ids) {
  id givenName familyName titles suffix salutation birthDate birthDatePartial
  email phone language address { street houseNumber postalCode city country }
} }"""
ERASE = """mutation($id: ID!, $requestId: ID!) {
  eraseProfileData(personId: $id, requestId: $requestId) { personIds }
}"""


def soon(probe: Callable[[], Any]) -> Any:
    """The probe's answer once truthy; the worker's queue may be long in a full run."""
    return eventually(probe, timeout_s=60)


@pytest.fixture
def admin(client_for: Callable[..., GatewayClient]) -> GatewayClient:
    return client_for("admin")


@pytest.fixture
def stream_of(platform: Platform) -> Iterator[Callable[[str], list[dict[str, Any]]]]:
    """A subscriber's stream from its start, as a consumer reads it (CloudEvents JSON)."""
    client = redis.Redis.from_url(platform.config.broker.url)

    def read(key: str) -> list[dict[str, Any]]:
        return [json.loads(fields[b"event"]) for _, fields in client.xrange(key, "-", "+")]

    yield read
    client.close()


def new_purpose(compliance: GatewayClient) -> str:
    code = "calls-" + uuid.uuid4().hex[:8]
    compliance.execute(
        REGISTER,
        {
            "input": {
                "code": code,
                "name": "Calls",
                "description": "Offers by phone.",
                "legalBasis": "CONSENT",
                "channels": ["PHONE", "POST"],
                "dataCategories": CATEGORIES,
                "retentionDays": 730,
                "directMarketing": True,
            }
        },
    )
    compliance.execute(PUBLISH, {"input": {"purpose": code, "language": "de", "text": NOTICE}})
    return code


def consent(client: GatewayClient, person_id: str, purpose: str, type_: str = "GRANTED") -> None:
    client.execute(
        RECORD_CONSENT,
        {
            "input": {
                "personId": person_id,
                "type": type_,
                "purpose": purpose,
                "channel": "PHONE",
                "noticeVersion": 1,
                "language": "de",
                "collectionPoint": "hotline",
                "method": "PHONE_CALL",
                "actor": "DATA_SUBJECT",
                "evidenceRef": f"call-{person_id}",
            }
        },
    )


def ingest(app: GatewayClient, source_id: str, **values: str) -> str:
    record = {"sourceId": source_id, "givenName": "Greta", "familyName": "Fröhlich"} | values
    done = app.execute(INGEST, {"source": "shop", "records": [record]})
    return str(done["ingestSourceRecords"]["records"][0]["personId"])


def subscribe(
    admin: GatewayClient, purpose: str, channel: str = "PHONE", **more: Any
) -> dict[str, Any]:
    name = f"{purpose}-{uuid.uuid4().hex[:6]}"
    found = admin.execute(
        CREATE,
        {
            "input": {
                "name": name,
                "purpose": purpose,
                "channel": channel,
                "categories": CATEGORIES,
            }
            | more
        },
    )["createSubscriber"]
    return dict(found)


def rebuilt(events: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """What a consumer holds after applying the stream in order."""
    held: dict[str, dict[str, Any]] = {}
    for event in events:
        data = event["data"]
        match event["type"]:
            case "mdm.person.created":
                held[data["personId"]] = dict(data["attributes"])
            case "mdm.person.updated":
                held[data["personId"]].update(data["changed"])
            case "mdm.person.merged":
                held.pop(data["mergedId"], None)
            case "mdm.person.stopped" | "mdm.person.erased":
                held.pop(data["personId"], None)
    return held


def stream_recipients_in_export(compliance: GatewayClient, person: str) -> list[dict[str, Any]]:
    """The change stream's subscribers an access export (Art. 15) names for the person."""
    request = submit(compliance, person)
    export = compliance.execute(EXPORT, {"id": request["id"], "format": "JSON"})
    document = json.loads(export["dataSubjectExport"]["content"])
    recipients = {r["category"]: r["recipients"] for r in document["recipients"]}
    found: list[dict[str, Any]] = recipients["CHANGE_STREAM_SUBSCRIBERS"]
    return found


def received_person(
    admin: GatewayClient,
    client_for: Callable[..., GatewayClient],
    stream_of: Callable[[str], list[dict[str, Any]]],
) -> tuple[str, str, str]:
    """A purpose of its own, a stream subscriber for it, and a person who consented,
    received by the subscriber: the purpose, the stream's key and the person."""
    app, compliance = client_for("app"), client_for("compliance")
    purpose = new_purpose(compliance)
    key = subscribe(admin, purpose)["subscriber"]["stream"]["key"]
    person = ingest(app, f"rp-{unique_letters()}", familyName="Kessel" + unique_letters())
    consent(app, person, purpose)
    assert soon(lambda: _has(stream_of(key), "mdm.person.created", person))
    return purpose, key, person


def golden(app: GatewayClient, ids: list[str]) -> dict[str, dict[str, Any]]:
    found = app.execute(PERSONS, {"ids": ids})["persons"]
    return {p["id"]: {k: v for k, v in p.items() if k != "id"} for p in found if p}


class TestTheStream:
    def test_a_consumer_rebuilds_the_golden_records_its_purpose_allows(
        self,
        admin: GatewayClient,
        client_for: Callable[..., GatewayClient],
        stream_of: Callable[[str], list[dict[str, Any]]],
    ) -> None:
        app, compliance, steward = (
            client_for("app"),
            client_for("compliance"),
            client_for("steward"),
        )
        purpose = new_purpose(compliance)
        subscriber = subscribe(admin, purpose)
        assert subscriber["secret"] is None  # a stream subscriber signs nothing
        key = subscriber["subscriber"]["stream"]["key"]
        tag = unique_letters()
        # Four people nothing but the test joins: names, e-mail addresses and phones of
        # their own (the matching worker would merge look-alikes on its own).
        family = {name: "Kessel" + unique_letters() for name in ("anna", "bernd", "carla", "dora")}
        ids = {
            name: ingest(
                app,
                f"cs-{tag}-{name}",
                givenName=name.title(),
                familyName=family[name],
                email=f"{name}.{tag}@example.org",
                phone=f"+49 30 {1000000 + number * 1234567}",
            )
            for number, name in enumerate(("anna", "bernd", "carla", "dora"))
        }
        for name in ("anna", "bernd", "carla"):
            consent(app, ids[name], purpose)
        # Changes of every kind: a new e-mail address, a merge and its undoing, a
        # withdrawal. Dora never consents: the subscriber must never hear of her.
        ingest(
            app,
            f"cs-{tag}-anna",
            givenName="Anna",
            familyName=family["anna"],
            email=f"neu.{tag}@example.org",
            city="Berlin",
            postalCode="10115",
            street="Hauptstraße 5",
        )
        # Both are the subscriber's before they are merged (else the merge is no news to it).
        for name in ("anna", "bernd"):
            assert soon(lambda name=name: _has(stream_of(key), "mdm.person.created", ids[name]))
        merged = steward.execute(
            MERGE, {"survivorId": ids["anna"], "mergedId": ids["bernd"], "reason": "same caller"}
        )["mergePersons"]["merge"]["id"]
        assert soon(lambda: _has(stream_of(key), "mdm.person.merged", ids["bernd"]))
        steward.execute(UNMERGE, {"mergeId": merged})
        consent(app, ids["carla"], purpose, "WITHDRAWN")

        expected = golden(app, [ids["anna"], ids["bernd"]])
        assert set(expected) == {ids["anna"], ids["bernd"]}
        assert soon(lambda: rebuilt(stream_of(key)) == expected)

        events = stream_of(key)
        assert all(e["specversion"] == "1.0" and e["purpose"] == purpose for e in events)
        assert ids["dora"] not in {e["subject"] for e in events}
        # Carla's values left the stream with the stop: a replay from the start does not
        # hand them on again. The news stays.
        carla = [e["type"] for e in events if e["subject"] == ids["carla"]]
        assert carla == ["mdm.consent.granted", "mdm.consent.withdrawn", "mdm.person.stopped"]
        for person in ids.values():  # each person's messages numbered in order
            numbers = [int(e["sequence"]) for e in events if e["subject"] == person]
            assert numbers == sorted(set(numbers))

    def test_a_newsletter_subscriber_never_receives_a_person_without_newsletter_consent(
        self,
        admin: GatewayClient,
        client_for: Callable[..., GatewayClient],
        stream_of: Callable[[str], list[dict[str, Any]]],
    ) -> None:
        app = client_for("app")
        subscriber = subscribe(
            admin, "newsletter", channel="EMAIL", categories=["identity", "email"]
        )
        name = subscriber["subscriber"]["name"]
        key = subscriber["subscriber"]["stream"]["key"]
        tag = unique_letters()
        reader = ingest(
            app,
            f"nl-{tag}-r",
            givenName="Rita",
            familyName="Kessel" + unique_letters(),
            email=f"r.{tag}@example.org",
        )
        asked = ingest(
            app,
            f"nl-{tag}-a",
            givenName="Arne",
            familyName="Kessel" + unique_letters(),
            email=f"a.{tag}@example.org",
        )
        demo.newsletter_opt_in(app, reader)
        # Asked, never confirmed: a pending double opt-in allows no newsletter.
        app.execute(
            RECORD_CONSENT, {"input": demo.newsletter_consent(asked, type="PENDING_DOUBLE_OPT_IN")}
        )

        def received(person: str) -> list[str]:
            return [e["type"] for e in stream_of(key) if e["subject"] == person]

        assert soon(lambda: "mdm.person.created" in received(reader))
        created = next(
            e for e in stream_of(key) if e["subject"] == reader and "attributes" in e["data"]
        )
        identity_and_email = {"givenName", "familyName", "titles", "suffix", "salutation", "email"}
        assert set(created["data"]["attributes"]) == identity_and_email
        withdrawal = demo.newsletter_consent(reader, type="WITHDRAWN", channel="EMAIL")
        app.execute(RECORD_CONSENT, {"input": withdrawal | {"noticeVersion": None}})
        assert soon(lambda: "mdm.person.stopped" in received(reader))
        assert received(reader)[-2:] == ["mdm.consent.withdrawn", "mdm.person.stopped"]
        assert received(asked) == []

        # The reader's access export names the subscriber, and when it was told to stop.
        compliance = client_for("compliance")
        (told,) = [r for r in stream_recipients_in_export(compliance, reader) if r["name"] == name]
        assert (told["name"], told["purpose"], told["stopReason"]) == (
            name,
            "newsletter",
            "WITHDRAWN",
        )
        assert told["firstSentAt"] <= told["stoppedAt"]
        assert [
            r for r in stream_recipients_in_export(compliance, asked) if r["name"] == name
        ] == []

    def test_an_erasure_reaches_every_subscriber_that_ever_received_the_person(
        self,
        admin: GatewayClient,
        client_for: Callable[..., GatewayClient],
        stream_of: Callable[[str], list[dict[str, Any]]],
    ) -> None:
        app, compliance = client_for("app"), client_for("compliance")
        purpose = new_purpose(compliance)
        calls = subscribe(admin, purpose)
        letters = subscribe(
            admin, purpose, channel="POST", categories=["identity", "postal_address"]
        )
        tag = unique_letters()
        person = ingest(
            app,
            f"er-{tag}",
            familyName=f"Kesselweg{tag}",
            city="Köln",
            postalCode="50667",
            street="Domkloster 4",
        )
        consent(app, person, purpose)
        app.execute(
            RECORD_CONSENT,
            {
                "input": {
                    "personId": person,
                    "type": "GRANTED",
                    "purpose": purpose,
                    "channel": "POST",
                    "noticeVersion": 1,
                    "language": "de",
                    "collectionPoint": "letter",
                    "method": "PAPER_FORM",
                    "actor": "DATA_SUBJECT",
                    "evidenceRef": f"letter-{person}",
                }
            },
        )
        keys = [s["subscriber"]["stream"]["key"] for s in (calls, letters)]
        for key in keys:
            assert soon(lambda key=key: _has(stream_of(key), "mdm.person.created", person))
        # The letters' purpose lapses first: it still hears of the erasure.
        consent(app, person, purpose, "WITHDRAWN")
        compliance.execute(ERASE, {"id": person, "requestId": f"dsr-{tag}"})
        for key in keys:
            assert soon(lambda key=key: _has(stream_of(key), "mdm.person.erased", person))
        told = compliance.execute(RECIPIENTS, {"id": person})["distributionRecipients"]
        assert {r["subscriberId"] for r in told} == {
            s["subscriber"]["id"] for s in (calls, letters)
        }
        assert all(r["erasureNotifiedAt"] and not r["receiving"] for r in told)

        # Removed, a subscriber's stream goes; the record of what it was told stays.
        gone = letters["subscriber"]["id"]
        assert admin.execute(REMOVE, {"id": gone})["removeSubscriber"]["removedAt"]
        assert stream_of(keys[1]) == []
        still = compliance.execute(RECIPIENTS, {"id": person})["distributionRecipients"]
        assert gone in {r["subscriberId"] for r in still}
        in_force = admin.execute("query { subscribers { id } }")["subscribers"]
        assert gone not in {s["id"] for s in in_force}

    def test_a_restriction_stops_the_subscribers_and_its_lifting_sends_the_person_again(
        self,
        admin: GatewayClient,
        client_for: Callable[..., GatewayClient],
        stream_of: Callable[[str], list[dict[str, Any]]],
    ) -> None:
        compliance = client_for("compliance")
        _, key, person = received_person(admin, client_for, stream_of)

        def told(type_: str) -> list[dict[str, Any]]:
            return [e for e in stream_of(key) if e["subject"] == person and e["type"] == type_]

        family = told("mdm.person.created")[-1]["data"]["attributes"]["familyName"]
        request = submit(compliance, person, "RESTRICTION")
        compliance.execute(CARRY_OUT, {"id": request["id"]})
        assert soon(lambda: told("mdm.person.stopped"))
        assert told("mdm.person.stopped")[-1]["data"]["reason"] == "PROCESSING_RESTRICTED"
        assert told("mdm.person.created") == []  # its values left the stream with the stop
        compliance.execute(LIFT, {"id": request["id"], "reason": "The claim was settled."})
        assert soon(lambda: told("mdm.person.created"))
        assert told("mdm.person.created")[-1]["data"]["attributes"]["familyName"] == family

    def test_a_material_notice_stops_the_subscribers_until_consent_is_renewed(
        self,
        admin: GatewayClient,
        client_for: Callable[..., GatewayClient],
        stream_of: Callable[[str], list[dict[str, Any]]],
    ) -> None:
        compliance = client_for("compliance")
        purpose, key, person = received_person(admin, client_for, stream_of)
        new_text = {
            "purpose": purpose,
            "language": "de",
            "text": "Neu: auch per SMS.",
            "material": True,
        }
        compliance.execute(PUBLISH, {"input": new_text})
        assert soon(lambda: _has(stream_of(key), "mdm.person.stopped", person))


class Receiver(BaseHTTPRequestHandler):
    """A webhook receiver: refuses the first delivery with 500, accepts the rest."""

    received: list[tuple[dict[str, str], bytes, int]]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        status = 500 if not self.received else 204
        self.received.append((dict(self.headers), body, status))
        self.send_response(status)
        self.end_headers()

    def log_message(self, *_: Any) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[tuple[str, type[Receiver]]]:
    handler = type("OneReceiver", (Receiver,), {"received": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook", handler
    server.shutdown()
    server.server_close()


class TestWebhooks:
    def test_a_receiver_gets_signed_events_and_a_retry_after_it_answered_500(
        self,
        admin: GatewayClient,
        client_for: Callable[..., GatewayClient],
        receiver: tuple[str, type[Receiver]],
    ) -> None:
        url, handler = receiver
        app, compliance = client_for("app"), client_for("compliance")
        purpose = new_purpose(compliance)
        created = subscribe(admin, purpose, webhookUrl=url)
        assert created["subscriber"]["delivery"] == "WEBHOOK"
        secret = created["secret"]
        assert secret.startswith("whsec_")
        tag = unique_letters()
        person = ingest(app, f"wh-{tag}", familyName=f"Kesselhaken{tag}")
        consent(app, person, purpose)

        def accepted() -> list[dict[str, Any]]:
            return [json.loads(body) for _, body, status in handler.received if status == 204]

        # The news of the grant and the record, in the order the worker heard of the
        # person and the consent (either may come first).
        assert soon(
            lambda: (
                sorted(e["type"] for e in accepted())
                == ["mdm.consent.granted", "mdm.person.created"]
            )
        )
        first_headers, first_body, first_status = handler.received[0]
        assert first_status == 500
        retried = handler.received[1]
        assert retried[0]["webhook-id"] == first_headers["webhook-id"]
        assert retried[1] == first_body  # the same event, byte for byte
        for headers, body, _ in handler.received:
            Webhook(secret).verify(body, headers)  # raises unless signed with the secret
            assert headers["content-type"] == "application/cloudevents+json"
        with pytest.raises(Exception, match="signature"):
            Webhook(created["secret"][:-4] + "AAA=").verify(first_body, first_headers)

        # Paused: nothing is pushed, the stream keeps it; resumed: delivered in order.
        subscriber_id = created["subscriber"]["id"]
        admin.execute(PAUSE, {"id": subscriber_id})
        ingest(app, f"wh-{tag}", familyName=f"Kesselhaken{tag}", email=f"neu.{tag}@example.org")
        assert soon(
            lambda: admin.execute(SUBSCRIBER, {"id": subscriber_id})["subscriber"]["lag"] == 1
        )
        assert len(accepted()) == 2
        admin.execute(RESUME, {"id": subscriber_id})
        assert soon(lambda: [e["type"] for e in accepted()][-1] == "mdm.person.updated")
        assert accepted()[-1]["data"]["changed"] == {"email": f"neu.{tag}@example.org"}
        assert soon(
            lambda: admin.execute(SUBSCRIBER, {"id": subscriber_id})["subscriber"]["lag"] == 0
        )


def _has(events: list[dict[str, Any]], type_: str, subject: str) -> bool:
    return any(e["type"] == type_ and e["subject"] == subject for e in events)
