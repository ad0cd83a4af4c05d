"""Consent histories follow profile merges (the consent worker hears of them): the
stricter state wins, the merged-away id answers for the survivor, unmerge restores."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from mdm_infra.client import GatewayClient
from mdm_infra.testing import eventually

from .queries import CREATE_PERSON, MERGE, MERGE_BULK, RECORD_CONSENT, UNMERGE, person_input
from .test_consent import import_past

CHECK = """query($personId: ID!, $purpose: String!) {
  contactCheck(personId: $personId, purpose: $purpose, channel: PHONE) {
    answeredFor allowed reason decidingEventId } }"""
HISTORY = """query($personId: ID!) { consentHistory(personId: $personId) {
  id personId type purpose channel method actor occurredAt recordedAt collectionPoint } }"""
MERGES = """query($personId: ID!) { consentMerges(personId: $personId) {
  mergeId survivorId mergedId state linkedAt undoneAt } }"""


@pytest.fixture
def app(client_for: Callable[..., GatewayClient]) -> GatewayClient:
    return client_for("app")


@pytest.fixture
def compliance(client_for: Callable[..., GatewayClient]) -> GatewayClient:
    return client_for("compliance")


@pytest.fixture
def steward(client_for: Callable[..., GatewayClient]) -> GatewayClient:
    return client_for("steward")


@pytest.fixture
def purpose(compliance: GatewayClient) -> str:
    code = "merge-offers-" + uuid.uuid4().hex[:8]
    compliance.execute(
        "mutation($input: RegisterPurposeInput!) { registerPurpose(input: $input) { code } }",
        {"input": {
            "code": code, "name": "Offers", "description": "Offers by e-mail.",
            "legalBasis": "CONSENT", "channels": ["EMAIL", "PHONE"],
            "dataCategories": ["identity", "email"], "retentionDays": 730, "directMarketing": True,
        }},
    )  # fmt: skip
    compliance.execute(
        "mutation($input: PublishNoticeInput!) { publishNotice(input: $input) { version } }",
        {"input": {"purpose": code, "language": "de", "text": "Angebote per E-Mail."}},
    )
    return code


def new_person(app: GatewayClient) -> str:
    """A person of its own (unique names and e-mail: the matching worker leaves it alone)."""
    return str(app.execute(CREATE_PERSON, {"input": person_input()})["createPerson"]["id"])


def record(app: GatewayClient, person_id: str, purpose: str | None, type_: str,
           **overrides: object) -> str:  # fmt: skip
    values: dict[str, object] = {
        "personId": person_id, "type": type_, "purpose": purpose, "channel": "PHONE",
        "collectionPoint": "shop-newsletter-box", "method": "WEB_FORM", "actor": "DATA_SUBJECT",
    }  # fmt: skip
    if type_ == "GRANTED":
        values |= {"noticeVersion": 1, "language": "de", "evidenceRef": "submission-1"}
    found = app.execute(RECORD_CONSENT, {"input": values | overrides})["recordConsentEvent"]
    return str(found["id"])


def check(app: GatewayClient, person_id: str, purpose: str) -> dict[str, Any]:
    found: dict[str, Any] = app.execute(CHECK, {"personId": person_id, "purpose": purpose})[
        "contactCheck"
    ]
    return found


Merged = Callable[[str, str], str]


@pytest.fixture(params=["single", "bulk"])
def merged(
    request: pytest.FixtureRequest, steward: GatewayClient, compliance: GatewayClient
) -> Merged:
    """Merge through the profile service, one pair (``mergePersons``) or a batch of one
    (``mergePersonsBulk``, the batch job's way); wait until the consent worker linked it."""

    def run(survivor: str, merged_id: str) -> str:
        if request.param == "single":
            result = steward.execute(
                MERGE, {"survivorId": survivor, "mergedId": merged_id, "reason": ""}
            )
            merge_id = str(result["mergePersons"]["merge"]["id"])
        else:
            result = steward.execute(
                MERGE_BULK, {"merges": [{"survivorId": survivor, "mergedId": merged_id}]}
            )
            [item] = result["mergePersonsBulk"]["results"]
            assert item["status"] == "MERGED"
            merge_id = str(item["mergeId"])
        assert eventually(lambda: _merge_state(compliance, merged_id, merge_id) == "ACTIVE")
        return merge_id

    return run


def unmerged(steward: GatewayClient, compliance: GatewayClient, merge_id: str, merged_id: str
             ) -> None:  # fmt: skip
    steward.execute(UNMERGE, {"mergeId": merge_id})
    assert eventually(lambda: _merge_state(compliance, merged_id, merge_id) == "UNDONE")


def _merge_state(compliance: GatewayClient, person_id: str, merge_id: str) -> str | None:
    links = compliance.execute(MERGES, {"personId": person_id})["consentMerges"]
    return next((x["state"] for x in links if x["mergeId"] == merge_id), None)


def history(compliance: GatewayClient, person_id: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = compliance.execute(HISTORY, {"personId": person_id})[
        "consentHistory"
    ]
    return found


def test_a_withdrawal_on_the_merged_side_blocks_the_survivors_grant(
    app: GatewayClient,
    compliance: GatewayClient,
    steward: GatewayClient,
    purpose: str,
    merged: Merged,
) -> None:
    a, b = new_person(app), new_person(app)
    record(app, b, purpose, "GRANTED")
    withdrawal = record(app, b, purpose, "WITHDRAWN", channel=None)
    grant = record(app, a, purpose, "GRANTED")
    assert check(app, a, purpose)["allowed"]

    merged(a, b)
    assert check(app, a, purpose) == {"answeredFor": a, "allowed": False, "reason": "WITHDRAWN",
                                      "decidingEventId": withdrawal}  # fmt: skip
    assert check(app, b, purpose)["answeredFor"] == a
    # The survivor's history shows both persons' events under their own ids.
    events = history(compliance, a)
    assert [(e["id"], e["personId"]) for e in events] == [
        (grant, a), (withdrawal, b), (events[2]["id"], b),
    ]  # fmt: skip
    assert history(compliance, b) == events

    # The person consents again after the merge (an application still holds the old id).
    again = record(app, b, purpose, "GRANTED", method="PREFERENCE_CENTRE")
    newest = history(compliance, a)[0]
    assert (newest["id"], newest["personId"]) == (again, a)
    decision = check(app, a, purpose)
    assert (decision["allowed"], decision["reason"], decision["decidingEventId"]) == (
        True, "CONSENT_GIVEN", again,
    )  # fmt: skip


def test_an_objection_survives_the_merge_and_a_later_import(
    app: GatewayClient,
    compliance: GatewayClient,
    steward: GatewayClient,
    purpose: str,
    merged: Merged,
) -> None:
    a, b = new_person(app), new_person(app)
    record(app, a, purpose, "GRANTED")
    objection = record(app, b, None, "OBJECTED", channel=None)
    merged(a, b)
    grant = {
        "personId": a,
        "type": "GRANTED",
        "purpose": purpose,
        "channel": "PHONE",
        "collectionPoint": "crm-migration",
        "method": "WEB_FORM",
        "actor": "DATA_SUBJECT",
        "noticeVersion": 1,
        "language": "de",
        "evidenceRef": "submission-1",
        "occurredAt": datetime.now(UTC).isoformat(),
    }
    import_past(compliance, grant)
    decision = check(app, a, purpose)
    assert (decision["allowed"], decision["reason"], decision["decidingEventId"]) == (
        False, "OBJECTED", objection,
    )  # fmt: skip


def test_unmerge_restores_both_histories(
    app: GatewayClient,
    compliance: GatewayClient,
    steward: GatewayClient,
    purpose: str,
    merged: Merged,
) -> None:
    a, b = new_person(app), new_person(app)
    record(app, a, purpose, "GRANTED")
    record(app, b, purpose, "GRANTED")
    record(app, b, purpose, "WITHDRAWN", channel=None)
    before = {p: (history(compliance, p), check(app, p, purpose)) for p in (a, b)}

    merge_id = merged(a, b)
    assert not check(app, a, purpose)["allowed"]
    unmerged(steward, compliance, merge_id, b)

    after = {p: (history(compliance, p), check(app, p, purpose)) for p in (a, b)}
    assert after == before
    links = compliance.execute(MERGES, {"personId": a})["consentMerges"]
    assert [(x["survivorId"], x["mergedId"], x["state"]) for x in links] == [(a, b, "UNDONE")]


PREVIEW = """query($survivorId: ID!, $mergedId: ID!) {
  mergeContactPreview(survivorId: $survivorId, mergedId: $mergedId) {
    purpose purposeName channel allowedBefore allowedAfter reasonBefore reasonAfter
    mergedAllowedBefore
  }
}"""
READS = "query($personId: ID!) { consentReads(personId: $personId) { auditId } }"
OUTCOME = ("allowedBefore", "reasonBefore", "mergedAllowedBefore", "allowedAfter", "reasonAfter")


def preview_of(
    client: GatewayClient, survivor: str, merged_id: str, purpose: str
) -> list[dict[str, Any]]:
    found = client.execute(PREVIEW, {"survivorId": survivor, "mergedId": merged_id})
    return [row for row in found["mergeContactPreview"] if row["purpose"] == purpose]


def test_a_merge_contact_preview_is_what_the_check_says_after_the_merge(
    app: GatewayClient,
    compliance: GatewayClient,
    steward: GatewayClient,
    purpose: str,
    merged: Merged,
) -> None:
    a, b = new_person(app), new_person(app)
    record(app, b, purpose, "GRANTED")  # the merged person agreed to calls, the survivor not
    before = {p: (history(compliance, p), check(app, p, purpose)) for p in (a, b)}
    reads = {p: compliance.execute(READS, {"personId": p})["consentReads"] for p in (a, b)}

    rows = preview_of(steward, a, b, purpose)
    assert [(r["purposeName"], r["channel"]) for r in rows] == [
        ("Offers", "EMAIL"),
        ("Offers", "PHONE"),
    ]
    email, phone = (tuple(r[k] for k in OUTCOME) for r in rows)
    assert email == (False, "NO_CONSENT", False, False, "NO_CONSENT")
    assert phone == (False, "NO_CONSENT", True, True, "CONSENT_GIVEN")
    assert preview_of(compliance, a, b, purpose) == rows
    # A preview writes nothing and, like the contact check, leaves no read audit.
    assert {p: compliance.execute(READS, {"personId": p})["consentReads"] for p in (a, b)} == reads
    assert {p: (history(compliance, p), check(app, p, purpose)) for p in (a, b)} == before
    assert compliance.execute(MERGES, {"personId": a})["consentMerges"] == []

    merged(a, b)
    decision = check(app, a, purpose)
    assert (decision["allowed"], decision["reason"]) == (
        rows[1]["allowedAfter"],
        rows[1]["reasonAfter"],
    )


def test_merge_contact_previews_are_for_stewards_and_compliance(
    app: GatewayClient, steward: GatewayClient
) -> None:
    a, b = new_person(app), new_person(app)
    body = app.post(PREVIEW, {"survivorId": a, "mergedId": b}).json()
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    body = steward.post(PREVIEW, {"survivorId": a, "mergedId": a}).json()
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
