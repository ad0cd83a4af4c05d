"""A steward decides a rectification (GDPR Art. 16, 19) in the browser: the queue,
the value asked for and the source systems to tell, a reason refused next to its
field, the approval and its outcome, and the corrected value in the person 360."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from playwright.sync_api import Page, expect

from mdm_infra.client import GatewayClient

INGEST = """mutation($source: String!, $records: [SourceRecordInput!]!) {
  ingestSourceRecords(source: $source, records: $records) { records { personId } } }"""
SUBMIT = """mutation($input: DataSubjectRequestInput!) {
  submitDataSubjectRequest(input: $input) { id } }"""
REASON = "The person sent a copy of the marriage certificate."


def _letters(prefix: str) -> str:
    return prefix + "".join(chr(ord("a") + int(c, 16) % 26) for c in uuid.uuid4().hex[:8])


def test_a_steward_approves_a_rectification_and_sees_its_outcome(
    sign_in: Callable[..., Page], app_gateway: GatewayClient, console_url: str, shoot
) -> None:
    old, new = _letters("Alt"), _letters("Neu")
    record = {"sourceId": "crm-" + uuid.uuid4().hex, "givenName": "Ida", "familyName": old}
    ingested = app_gateway.execute(INGEST, {"source": "crm", "records": [record]})
    person_id = ingested["ingestSourceRecords"]["records"][0]["personId"]
    asked = {
        "personId": person_id,
        "type": "RECTIFICATION",
        "receivedVia": "LETTER",
        "identityCheck": "ID_DOCUMENT",
        "rectification": {"field": "familyName", "value": new},
    }
    request_id = app_gateway.execute(SUBMIT, {"input": asked})["submitDataSubjectRequest"]["id"]

    page = sign_in("steward", name="Stefan")
    page.get_by_role("link", name="Rectifications").click()
    row = page.locator(f"tr[data-request='{request_id}']")
    expect(row).to_contain_text(f"Ida {old}")
    expect(row).to_contain_text("crm")
    shoot(page, "rectification-queue")
    row.get_by_role("link", name=f"Ida {old}").click()
    expect(page).to_have_url(f"{console_url}/rectifications/{request_id}")
    expect(page.locator(".asked-value")).to_have_text(new)
    expect(page.locator(".recipients")).to_contain_text("crm")

    # A reason of blanks only is refused by the consent service, next to the field.
    form = page.locator("form.decide-rectification")
    form.get_by_label("Approve: correct the value in the profile").check()
    form.get_by_label("Reason (10 to 2,000 characters)").fill(" " * 12)
    form.get_by_role("button", name="Record the decision").click()
    expect(form.locator(".field-error")).to_have_text("The reason needs 10 to 2,000 characters.")
    expect(form.get_by_label("Approve: correct the value in the profile")).to_be_checked()
    shoot(page, "rectification-request")

    form.get_by_label("Reason (10 to 2,000 characters)").fill(REASON)
    form.get_by_role("button", name="Record the decision").click()
    expect(page.get_by_text("The rectification was applied in the profile.")).to_be_visible()
    outcome = page.locator(".decision-outcome")
    expect(outcome.locator("h3")).to_have_text("Decision: Approved")
    expect(outcome).to_contain_text("Stefan")
    expect(outcome).to_contain_text(REASON)
    expect(page.locator("form.decide-rectification")).to_have_count(0)
    shoot(page, "rectification-decided")

    # Decided: no longer waiting; the person 360 shows the corrected name and its source.
    page.get_by_role("link", name="Rectifications").first.click()
    expect(page.locator(f"tr[data-request='{request_id}']")).to_have_count(0)
    page.goto(f"{console_url}/persons/{person_id}")
    expect(page.locator("h1")).to_contain_text(f"Ida {new}")
    expect(page.get_by_text(f"rectification {request_id}").first).to_be_visible()


def test_an_officer_records_a_rectification_and_a_bad_value_is_refused(
    sign_in: Callable[..., Page], app_gateway: GatewayClient, console_url: str
) -> None:
    record = {"sourceId": "crm-" + uuid.uuid4().hex, "givenName": "Ida", "familyName": "Post"}
    ingested = app_gateway.execute(INGEST, {"source": "crm", "records": [record]})
    person_id = ingested["ingestSourceRecords"]["records"][0]["personId"]
    page = sign_in("compliance")
    page.goto(f"{console_url}/requests?person={person_id}")
    form = page.locator("form.new-request")
    form.get_by_label("Type of request").select_option("RECTIFICATION")
    form.get_by_label("Field to correct").select_option("email")
    form.get_by_label("Correct value").fill("not an address")
    form.get_by_role("button", name="Record request").click()
    # The profile checks the value at once; the form keeps what was typed.
    expect(page.locator("form.new-request [role=alert]")).to_be_visible()
    expect(page.locator("form.new-request").get_by_label("Correct value")).to_have_value(
        "not an address"
    )

    page.locator("form.new-request").get_by_label("Correct value").fill("ida.post@example.org")
    page.locator("form.new-request").get_by_role("button", name="Record request").click()
    expect(page.get_by_role("heading", name="Rectification (Art. 16)")).to_be_visible()
    expect(page.locator(".asked-value")).to_have_text("ida.post@example.org")
    page.get_by_role("link", name="Decide the rectification").click()
    expect(page.locator("form.decide-rectification")).to_be_visible()
