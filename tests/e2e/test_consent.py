"""Consent through the gateway with the roles in force: registry, history, contact check."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from mdm_infra.client import GatewayClient, GraphQLError

from .queries import CREATE_PERSON, RECORD_CONSENT, person_input

REGISTER = """
mutation Register($input: RegisterPurposeInput!) {
  registerPurpose(input: $input) { code legalBasis channels notices { version } }
}
"""
PUBLISH = """
mutation Publish($input: PublishNoticeInput!) {
  publishNotice(input: $input) { version sha256 material }
}
"""
CHECK = """
query Check($personId: ID!, $purpose: String!, $channel: Channel!, $at: DateTime) {
  contactCheck(personId: $personId, purpose: $purpose, channel: $channel, at: $at) {
    allowed reason legalBasis decidingEventId decidingEventType
  }
}
"""
BATCH = """
query Batch($ids: [ID!]!, $purpose: String!, $channel: Channel!) {
  contactCheckBatch(personIds: $ids, purpose: $purpose, channel: $channel) {
    personId allowed reason
  }
}
"""
HISTORY = """
query History($personId: ID!) {
  consentHistory(personId: $personId) {
    id type purpose channel noticeVersion noticeSha256 collectionPoint method actor
    language evidenceRef recordedBy occurredAt
  }
}
"""
READS = """
query Reads($personId: ID!) { consentReads(personId: $personId) { reader roles operation } }
"""
NOTICE = "Ja, ich möchte Angebote erhalten. Widerruf jederzeit möglich."
UPDATE = """
mutation Update($input: UpdatePurposeInput!) {
  updatePurpose(input: $input) { code channels dataCategories retentionDays revision }
}
"""
CHANGES = """
query Changes($code: String!) {
  purposeChanges(code: $code) { revision changedBy reason changes { field before after } }
}
"""
WHY = "The newsletter is no longer sent by phone."


def codes(error: pytest.ExceptionInfo[GraphQLError]) -> list[str]:
    return error.value.codes


@pytest.fixture
def compliance(client_for: Callable[..., GatewayClient]) -> GatewayClient:
    return client_for("compliance")


@pytest.fixture
def app(client_for: Callable[..., GatewayClient]) -> GatewayClient:
    return client_for("app")


def new_person(app: GatewayClient) -> str:
    return str(app.execute(CREATE_PERSON, {"input": person_input()})["createPerson"]["id"])


# A purpose on a basis other than consent applies to every person, and the suite shares
# one registry: such test purposes name a category the retention and export tests of
# other modules do not count on (the e-mail address is theirs).
BINDS_LITTLE = {"dataCategories": ["postal_address"]}


def new_purpose(compliance: GatewayClient, **overrides: object) -> str:
    code = "offers-" + uuid.uuid4().hex[:8]
    compliance.execute(REGISTER, {"input": {
        "code": code, "name": "Offers", "description": "Offers by e-mail and phone.",
        "legalBasis": "CONSENT", "channels": ["EMAIL", "PHONE", "POST"],
        "dataCategories": ["identity", "email"], "retentionDays": 730, "directMarketing": True,
    } | overrides})  # fmt: skip
    compliance.execute(PUBLISH, {"input": {"purpose": code, "language": "de", "text": NOTICE}})
    return code


def event(person_id: str, purpose: str | None, type_: str = "GRANTED", **overrides: object
          ) -> dict[str, object]:  # fmt: skip
    return {
        "personId": person_id, "type": type_, "purpose": purpose, "channel": "EMAIL",
        "noticeVersion": 1, "language": "de", "collectionPoint": "shop-newsletter-box",
        "method": "WEB_FORM", "actor": "DATA_SUBJECT", "evidenceRef": "submission-1",
    } | overrides  # fmt: skip


def record(client: GatewayClient, values: dict[str, object]) -> dict[str, str]:
    found: dict[str, str] = client.execute(RECORD_CONSENT, {"input": values})["recordConsentEvent"]
    return found


IMPORT = """mutation($input: ConsentImportInput!) {
  importConsentEvents(input: $input) { events { id } } }"""


def import_past(compliance: GatewayClient, *events: dict[str, object]) -> list[dict[str, str]]:
    """Events of the past, imported by a compliance officer with their evidence."""
    evidence = {"source": "legacy-crm", "reference": "export-1", "documentSha256": "0" * 64}
    done = compliance.execute(IMPORT, {"input": evidence | {"events": list(events)}})
    found: list[dict[str, str]] = done["importConsentEvents"]["events"]
    return found


def check(app: GatewayClient, person_id: str, purpose: str, channel: str = "EMAIL",
          at: datetime | None = None) -> dict[str, object]:  # fmt: skip
    variables = {"personId": person_id, "purpose": purpose, "channel": channel,
                 "at": at.isoformat() if at else None}  # fmt: skip
    found: dict[str, object] = app.execute(CHECK, variables)["contactCheck"]
    return found


class TestPurposeRegistry:
    def test_notice_texts_are_versioned_and_hashed(self, compliance: GatewayClient) -> None:
        code = new_purpose(compliance)
        second = compliance.execute(
            PUBLISH,
            {"input": {"purpose": code, "language": "de", "text": "Neu.", "material": True}},
        )["publishNotice"]
        assert second == {"version": 2, "sha256": hashlib.sha256(b"Neu.").hexdigest(),
                          "material": True}  # fmt: skip

    @pytest.mark.parametrize(
        ("change", "code", "field"),
        [({"text": "  "}, "BAD_USER_INPUT", "text"), ({"purpose": "unknown-purpose"},
         "NOT_FOUND", "purpose")],
    )  # fmt: skip
    def test_bad_notices(self, compliance: GatewayClient, change: dict[str, str], code: str,
                         field: str) -> None:  # fmt: skip
        purpose = new_purpose(compliance)
        body = compliance.post(
            PUBLISH, {"input": {"purpose": purpose, "language": "de", "text": "T"} | change}
        ).json()
        assert [e["extensions"]["code"] for e in body["errors"]] == [code]
        assert body["errors"][0]["extensions"]["field"] == field

    def test_a_duplicate_code_is_a_conflict(self, compliance: GatewayClient) -> None:
        code = new_purpose(compliance)
        with pytest.raises(GraphQLError) as raised:
            new_purpose(compliance, code=code)
        assert codes(raised) == ["CONFLICT"]
        assert raised.value.errors[0]["extensions"]["reason"] == "DUPLICATE_PURPOSE"

    def test_only_compliance_changes_the_registry(self, app: GatewayClient) -> None:
        with pytest.raises(GraphQLError) as raised:
            new_purpose(app)
        assert codes(raised) == ["FORBIDDEN"]
        with pytest.raises(GraphQLError) as raised:
            app.execute(UPDATE, {"input": {"code": "newsletter", "reason": WHY, "name": "x"}})
        assert codes(raised) == ["FORBIDDEN"]

    def test_a_change_is_kept_with_its_reason_and_takes_effect(
        self, compliance: GatewayClient, app: GatewayClient
    ) -> None:
        code = new_purpose(compliance)
        person = new_person(app)
        record(app, event(person, code, channel="PHONE"))
        assert check(app, person, code, "PHONE")["allowed"] is True
        changed = compliance.execute(UPDATE, {"input": {
            "code": code, "reason": WHY, "channels": ["EMAIL", "POST"],
            "dataCategories": ["email", "postal_address"], "retentionDays": 365,
        }})["updatePurpose"]  # fmt: skip
        assert (changed["channels"], changed["dataCategories"], changed["retentionDays"]) == (
            ["EMAIL", "POST"], ["email", "postal_address"], 365)  # fmt: skip
        assert check(app, person, code, "PHONE")["reason"] == "CHANNEL_NOT_COVERED"
        (change,) = compliance.execute(CHANGES, {"code": code})["purposeChanges"]
        assert (change["reason"], change["changedBy"], change["revision"]) == (
            WHY, "test-user", changed["revision"])  # fmt: skip
        assert {c["field"]: (c["before"], c["after"]) for c in change["changes"]} == {
            "channels": ('["EMAIL", "PHONE", "POST"]', '["EMAIL", "POST"]'),
            "dataCategories": ('["identity", "email"]', '["email", "postal_address"]'),
            "retentionDays": ("730", "365"),
        }
        same = compliance.execute(UPDATE, {"input": {"code": code, "reason": WHY,
                                                     "retentionDays": 365}})  # fmt: skip
        assert same["updatePurpose"]["revision"] == changed["revision"]  # nothing to change

    @pytest.mark.parametrize(
        ("change", "field"),
        [({"reason": "short"}, "reason"), ({"retentionDays": 0}, "retentionDays"),
         ({"dataCategories": ["Not A Code"]}, "dataCategories"), ({"code": "NOPE"}, "code"),
         ({"channels": []}, "channels"), ({"consentValidityDays": 0}, "consentValidityDays")],
    )  # fmt: skip
    def test_bad_changes_are_refused(
        self, compliance: GatewayClient, change: dict[str, object], field: str
    ) -> None:
        code = new_purpose(compliance)
        with pytest.raises(GraphQLError) as raised:
            compliance.execute(UPDATE, {"input": {"code": code, "reason": WHY, "name": "New"}
                                        | change})  # fmt: skip
        assert codes(raised) == ["BAD_USER_INPUT"]
        assert raised.value.errors[0]["extensions"]["field"] == field


class TestHistory:
    def test_missing_proof_is_refused_and_nothing_is_written(
        self, app: GatewayClient, compliance: GatewayClient
    ) -> None:
        purpose, person = new_purpose(compliance), new_person(app)
        body = app.post(RECORD_CONSENT, {"input": event(person, purpose, noticeVersion=None,
                                                        evidenceRef=" ")}).json()  # fmt: skip
        error = body["errors"][0]["extensions"]
        assert (error["code"], error["reason"]) == ("BAD_USER_INPUT", "PROOF_MISSING")
        assert error["missing"] == ["noticeVersion", "evidenceRef"]
        assert compliance.execute(HISTORY, {"personId": person})["consentHistory"] == []

    def test_an_unknown_person_or_notice_version_is_refused(
        self, app: GatewayClient, compliance: GatewayClient
    ) -> None:
        purpose, person = new_purpose(compliance), new_person(app)
        with pytest.raises(GraphQLError) as raised:
            record(app, event(str(uuid.uuid4()), purpose))
        assert codes(raised) == ["NOT_FOUND"]
        with pytest.raises(GraphQLError) as raised:
            record(app, event(person, purpose, noticeVersion=7))
        assert codes(raised) == ["NOT_FOUND"]
        assert raised.value.errors[0]["extensions"]["field"] == "noticeVersion"

    def test_history_has_the_proof_and_its_reads_are_audited(
        self, app: GatewayClient, client_for: Callable[..., GatewayClient],
        token_for: Callable[..., str],
    ) -> None:  # fmt: skip
        compliance = client_for("compliance")
        purpose, person = new_purpose(compliance), new_person(app)
        record(app, event(person, purpose, channel="PHONE"))
        officer = GatewayClient(compliance.url, token_for("compliance", subject="officer-7"))
        try:
            history = officer.execute(HISTORY, {"personId": person})["consentHistory"]
        finally:
            officer.close()
        (granted,) = history
        assert granted | {"id": None, "occurredAt": None} == {
            "id": None, "occurredAt": None, "type": "GRANTED", "purpose": purpose,
            "channel": "PHONE", "noticeVersion": 1,
            "noticeSha256": hashlib.sha256(NOTICE.encode()).hexdigest(),
            "collectionPoint": "shop-newsletter-box", "method": "WEB_FORM",
            "actor": "DATA_SUBJECT", "language": "de", "evidenceRef": "submission-1",
            "recordedBy": "test-user",
        }  # fmt: skip
        reads = compliance.execute(READS, {"personId": person})["consentReads"]
        assert {"reader": "officer-7", "roles": ["compliance"],
                "operation": "consent history"} in reads  # fmt: skip

    def test_app_may_not_read_records_or_audit(self, app: GatewayClient) -> None:
        person = new_person(app)
        for query in (HISTORY, READS):
            body = app.post(query, {"personId": person}).json()
            assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"]

    def test_steward_may_neither_record_nor_check(
        self, client_for: Callable[..., GatewayClient], compliance: GatewayClient,
        app: GatewayClient,
    ) -> None:  # fmt: skip
        steward = client_for("steward")
        purpose, person = new_purpose(compliance), new_person(app)
        with pytest.raises(GraphQLError) as raised:
            record(steward, event(person, purpose))
        assert codes(raised) == ["FORBIDDEN"]
        with pytest.raises(GraphQLError) as raised:
            check(steward, person, purpose)
        assert codes(raised) == ["FORBIDDEN"]


class TestContactCheck:
    def test_pending_double_opt_in_is_refused_and_email_opt_in_does_not_allow_phone(
        self, app: GatewayClient, compliance: GatewayClient
    ) -> None:
        purpose, person = new_purpose(compliance), new_person(app)
        pending = record(app, event(person, purpose, "PENDING_DOUBLE_OPT_IN"))
        assert check(app, person, purpose)["reason"] == "DOUBLE_OPT_IN_PENDING"
        confirmed = record(app, event(
            person, purpose, "CONFIRMED", confirms=pending["id"], channel=None,
            noticeVersion=None, method="EMAIL_LINK", confirmationToken="link-token-0123456789",
        ))  # fmt: skip
        assert confirmed["channel"] == "EMAIL"
        email = check(app, person, purpose)
        assert (email["allowed"], email["reason"], email["legalBasis"]) == (
            True, "CONSENT_GIVEN", "CONSENT",
        )  # fmt: skip
        assert (email["decidingEventId"], email["decidingEventType"]) == (confirmed["id"],
                                                                          "CONFIRMED")  # fmt: skip
        phone = check(app, person, purpose, "PHONE")
        assert (phone["allowed"], phone["reason"]) == (False, "NO_CONSENT")

    def test_withdrawal_at_t_is_refused_at_t_plus_one_second(
        self, app: GatewayClient, compliance: GatewayClient
    ) -> None:
        purpose, person = new_purpose(compliance), new_person(app)
        t = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
        import_past(
            compliance,
            event(
                person, purpose, method="EMAIL_LINK", occurredAt=(t - timedelta(days=1)).isoformat()
            ),
        )
        withdrawal = record(app, event(
            person, purpose, "WITHDRAWN", channel=None, noticeVersion=None, language=None,
            evidenceRef=None, method="PHONE_CALL", actor="STAFF", staffId="agent-12",
            occurredAt=t.isoformat(),
        ))  # fmt: skip
        assert check(app, person, purpose, at=t - timedelta(seconds=1))["allowed"] is True
        later = check(app, person, purpose, at=t + timedelta(seconds=1))
        assert (later["allowed"], later["reason"], later["decidingEventId"]) == (
            False, "WITHDRAWN", withdrawal["id"],
        )  # fmt: skip
        assert check(app, person, purpose)["allowed"] is False

    def test_an_objection_survives_a_later_grant_from_an_import(
        self, app: GatewayClient, compliance: GatewayClient
    ) -> None:
        purpose, person = new_purpose(compliance), new_person(app)
        other = new_purpose(compliance, legalBasis="LEGITIMATE_INTEREST", **BINDS_LITTLE)
        record(app, event(person, purpose, channel="PHONE"))
        record(app, event(person, None, "OBJECTED", channel=None, noticeVersion=None,
                          method="PAPER_FORM", evidenceRef="letter-2026-04"))  # fmt: skip
        import_past(
            compliance,
            event(
                person,
                purpose,
                actor="STAFF",
                staffId="migration",
                collectionPoint="legacy-crm",
                occurredAt=datetime.now(UTC).isoformat(),
            ),
        )
        for code, channel in ((purpose, "EMAIL"), (other, "POST")):
            found = check(app, person, code, channel)
            assert (found["allowed"], found["reason"], found["decidingEventType"]) == (
                False, "OBJECTED", "OBJECTED",
            )  # fmt: skip

    def test_consent_expires_with_the_purposes_validity(
        self, app: GatewayClient, compliance: GatewayClient
    ) -> None:
        purpose, person = new_purpose(compliance, consentValidityDays=30), new_person(app)
        granted_at = datetime.now(UTC) - timedelta(days=40)
        import_past(
            compliance,
            event(person, purpose, method="EMAIL_LINK", occurredAt=granted_at.isoformat()),
        )
        assert check(app, person, purpose, at=granted_at + timedelta(days=29))["allowed"]
        assert check(app, person, purpose)["reason"] == "CONSENT_EXPIRED"

    def test_a_material_notice_version_requires_renewed_consent(
        self, app: GatewayClient, compliance: GatewayClient
    ) -> None:
        purpose, person = new_purpose(compliance), new_person(app)
        record(app, event(person, purpose, channel="PHONE"))
        material = {"purpose": purpose, "language": "de", "text": "Neu.", "material": True}
        compliance.execute(PUBLISH, {"input": material})
        assert check(app, person, purpose, "PHONE")["reason"] == "RENEWAL_REQUIRED"
        record(app, event(person, purpose, channel="PHONE", noticeVersion=2))
        assert check(app, person, purpose, "PHONE")["allowed"] is True

    def test_existing_customer_email_exception_needs_a_recorded_sale(
        self, app: GatewayClient, compliance: GatewayClient
    ) -> None:
        purpose = new_purpose(
            compliance,
            legalBasis="LEGITIMATE_INTEREST",
            productCategories=["shoes"],
            **BINDS_LITTLE,
        )
        buyer, stranger = new_person(app), new_person(app)
        record(
            compliance,
            event(
                buyer,
                purpose,
                "SALE_RECORDED",
                channel=None,
                method="ORDER",
                evidenceRef="order-100234",
                productCategory="shoes",
            ),
        )
        found = check(app, buyer, purpose)
        assert (found["allowed"], found["reason"], found["legalBasis"]) == (
            True, "EXISTING_CUSTOMER", "LEGITIMATE_INTEREST",
        )  # fmt: skip
        assert check(app, buyer, purpose, "PHONE")["allowed"] is False
        assert check(app, stranger, purpose)["reason"] == "NO_CONSENT_OR_SALE"

    def test_under_16_needs_parental_authorisation(
        self, app: GatewayClient, compliance: GatewayClient
    ) -> None:
        purpose, person = new_purpose(compliance), new_person(app)
        birth = (datetime.now(UTC) - timedelta(days=365 * 14)).date()
        record(compliance, event(person, None, "AGE_EVIDENCE", channel=None, noticeVersion=None,
                          birthDate=birth.isoformat(), method="WEB_FORM"))  # fmt: skip
        record(app, event(person, purpose, channel="PHONE"))
        assert check(app, person, purpose, "PHONE")["reason"] == "PARENTAL_AUTHORISATION_REQUIRED"
        record(compliance, event(person, purpose, "PARENTAL_AUTHORISATION", channel=None,
                          actor="GUARDIAN", evidenceRef="signed-form-88"))  # fmt: skip
        assert check(app, person, purpose, "PHONE")["allowed"] is True

    def test_batch_for_a_campaign(self, app: GatewayClient, compliance: GatewayClient) -> None:
        purpose = new_purpose(compliance)
        yes, no = new_person(app), new_person(app)
        record(app, event(yes, purpose, channel="PHONE"))
        found = app.execute(BATCH, {"ids": [no, yes], "purpose": purpose, "channel": "PHONE"})
        assert found["contactCheckBatch"] == [
            {"personId": no, "allowed": False, "reason": "NO_CONSENT"},
            {"personId": yes, "allowed": True, "reason": "CONSENT_GIVEN"},
        ]

    def test_unknown_purpose_is_not_found(self, app: GatewayClient) -> None:
        with pytest.raises(GraphQLError) as raised:
            check(app, str(uuid.uuid4()), "no-such-purpose")
        assert codes(raised) == ["NOT_FOUND"]
