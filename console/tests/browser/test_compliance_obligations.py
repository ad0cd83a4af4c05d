"""A compliance officer reads a person's contact uses with the UWG §7a phone proof,
then carries out their erasure and reads what was erased and what the law keeps,
restricted, until when; the contact check names the condition of the existing-customer
exception (UWG §7(3))."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from playwright.sync_api import Page, expect

from mdm_infra import demo
from mdm_infra.client import GatewayClient

INGEST = """mutation($source: String!, $records: [SourceRecordInput!]!) {
  ingestSourceRecords(source: $source, records: $records) { records { personId } } }"""
RECORD_USE = """mutation($input: ContactUseInput!) { recordContactUse(input: $input) { id } }"""
SUBMIT = """mutation($input: DataSubjectRequestInput!) {
  submitDataSubjectRequest(input: $input) { id } }"""


def _called_customer(gateway: GatewayClient) -> tuple[str, str]:
    """A person with a phone consent for a purpose of its own, used once by phone
    (compliant) and once by e-mail without consent (recorded as not allowed)."""
    code = "calls-" + uuid.uuid4().hex[:8]
    purpose = demo.NEWSLETTER | {
        "code": code,
        "name": f"Calls {code[-4:]}",
        "channels": ["PHONE", "EMAIL"],
        "dataCategories": ["phone"],
    }
    gateway.execute(demo.REGISTER_PURPOSE, {"input": purpose})
    notice = {"purpose": code, "language": "de", "text": "Ja, ruft mich mit Angeboten an."}
    gateway.execute(demo.PUBLISH_NOTICE, {"input": notice})
    record = {
        "sourceId": uuid.uuid4().hex[:16],
        "givenName": "Ilse",
        "familyName": "Anruf",
        "phone": f"+49 151 {10_000_000 + uuid.uuid4().int % 80_000_000}",
    }
    ingested = gateway.execute(INGEST, {"source": "shop", "records": [record]})
    person_id = ingested["ingestSourceRecords"]["records"][0]["personId"]
    consent = demo.newsletter_consent(person_id, purpose=code, channel="PHONE")
    gateway.execute(demo.RECORD_CONSENT, {"input": consent})
    for channel, campaign in (("PHONE", "spring-calls"), ("EMAIL", "spring-mail")):
        use = {"personId": person_id, "purpose": code, "channel": channel, "campaign": campaign}
        gateway.execute(RECORD_USE, {"input": use})
    return person_id, code


def test_contact_uses_the_phone_proof_and_what_an_erasure_keeps(
    sign_in: Callable[..., Page], app_gateway: GatewayClient, console_url: str, shoot
) -> None:
    person_id, _code = _called_customer(app_gateway)
    page = sign_in("compliance")
    page.goto(f"{console_url}/compliance/persons/{person_id}")
    uses = page.locator("table.uses tbody tr")
    expect(uses).to_have_count(2)
    refused = page.locator("tr[data-compliance=NOT_ALLOWED]")
    expect(refused).to_have_class("not-compliant")
    expect(refused).to_contain_text("spring-mail")
    expect(refused.locator(".compliance")).to_have_text("not allowed")
    expect(page.locator("tr[data-compliance=COMPLIANT]")).to_contain_text("spring-calls")
    expect(page.locator(".contact-uses [role=alert]")).to_contain_text(
        "Not compliant: 1 of 2 uses."
    )
    keep_until = page.locator("table.phone-proofs .keep-until")
    expect(keep_until).to_have_count(1)
    shoot(page, "contact-uses")

    request = {
        "personId": person_id,
        "type": "ERASURE",
        "receivedVia": "EMAIL",
        "identityCheck": "CONFIRMED_CONTACT",
    }
    request_id = app_gateway.execute(SUBMIT, {"input": request})["submitDataSubjectRequest"]["id"]
    page.goto(f"{console_url}/requests/{request_id}")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Carry out").click()
    answer = page.locator("section.erasure-answer")
    expect(answer.get_by_role("heading", name="What was erased, and what is kept")).to_be_visible()
    expect(answer.locator(".erased")).to_contain_text("name and salutation")
    holds = answer.locator("tr[data-hold=UWG_7A]")
    expect(holds).to_have_count(2)  # the phone number in the profile, the consent events
    expect(answer).to_contain_text("consent events")
    expect(holds.first).to_contain_text("UWG §7a (proof of a phone consent)")
    expect(answer.locator(".restricted")).to_contain_text(
        "erased by itself when the last duty ends"
    )
    shoot(page, "erasure-answer")


def test_the_contact_check_names_the_existing_customer_obligation(
    sign_in: Callable[..., Page], app_gateway: GatewayClient, console_url: str, shoot
) -> None:
    code = "shop-mail-" + uuid.uuid4().hex[:8]
    purpose = demo.NEWSLETTER | {
        "code": code,
        "name": f"Shop mail {code[-4:]}",
        "legalBasis": "LEGITIMATE_INTEREST",
        "productCategories": ["shoes"],
    }
    app_gateway.execute(demo.REGISTER_PURPOSE, {"input": purpose})
    notice = {"purpose": code, "language": "de", "text": demo.NEWSLETTER_NOTICE}
    app_gateway.execute(demo.PUBLISH_NOTICE, {"input": notice})
    created = app_gateway.execute(
        demo.CREATE_PERSON, {"input": {"givenName": "Kurt", "familyName": "Kaeufer"}}
    )
    person_id = created["createPerson"]["id"]
    sale = demo.newsletter_consent(
        person_id,
        type="SALE_RECORDED",
        purpose=code,
        channel=None,
        language=None,
        method="ORDER",
        productCategory="shoes",
    )
    app_gateway.execute(demo.RECORD_CONSENT, {"input": sale})

    page = sign_in("compliance")
    page.goto(f"{console_url}/compliance?person={person_id}&purpose={code}&channel=EMAIL")
    answer = page.locator("section.answer")
    expect(answer.locator(".reason-words")).to_have_text(
        "Existing customer (sale recorded, no objection)"
    )
    obligation = answer.locator("[data-obligation=OPT_OUT_NOTICE_IN_EVERY_MESSAGE]")
    expect(obligation).to_contain_text("in every message")
    shoot(page, "contact-check-obligation")


REGISTER_DUTY = """mutation($input: RetentionDutyInput!) {
  registerRetentionDuty(input: $input) { code } }"""


def test_an_officer_starts_an_expiry_run_and_reads_the_retention_duties(
    sign_in: Callable[..., Page], app_gateway: GatewayClient, console_url: str, shoot
) -> None:
    duty = {
        "code": "invoices-" + uuid.uuid4().hex[:8],
        "name": "Invoices and contracts",
        "legalReference": "HGB_257",
        "periodYears": 10,
        "sourceSystems": ["erp"],
    }
    app_gateway.execute(REGISTER_DUTY, {"input": duty})
    officer = "Erna-" + uuid.uuid4().hex[:6]
    page = sign_in("compliance", name=officer)
    page.get_by_role("link", name="Jobs").click()
    expiry = page.locator("section.expiry")
    expiry.get_by_role("button", name="Start an expiry run").click()
    expect(expiry.locator("tbody tr[data-run]").first).to_contain_text(officer)
    shoot(page, "jobs-expiry")

    page.get_by_role("link", name="Purposes").click()
    page.get_by_role("link", name="Retention duties (Art. 17(3))").click()
    row = page.locator(f"tr[data-duty='{duty['code']}']")
    expect(row).to_contain_text("HGB §257 (commercial records and business letters)")
    expect(row).to_contain_text("whole records of erp")
    expect(row).to_contain_text("10 years")
    shoot(page, "retention-duties")
