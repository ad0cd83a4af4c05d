"""A compliance officer's work in the browser: a consent history with the exact
notice text and its printable document, the contact check with its reason, an
access request and its export, an erasure and its proof, an overdue request, the
purposes and the records of processing; a hostile name stays text throughout."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from playwright.sync_api import Page, expect

from mdm_infra import demo
from mdm_infra.client import GatewayClient
from mdm_infra.platform import Platform

SUBMIT = """mutation($input: DataSubjectRequestInput!) {
  submitDataSubjectRequest(input: $input) { id } }"""
HOSTILE = "<script>alert(1)</script>"


def _letters(prefix: str) -> str:
    """A family name no other test uses (letters only: names are searched folded)."""
    return prefix + "".join(chr(ord("a") + int(c, 16) % 26) for c in uuid.uuid4().hex[:8])


def _person(gateway: GatewayClient, family: str, given: str = "Clara") -> str:
    created = gateway.execute(
        demo.CREATE_PERSON, {"input": {"givenName": given, "familyName": family}}
    )
    return str(created["createPerson"]["id"])


def _consent(gateway: GatewayClient, person_id: str, **overrides: object) -> str:
    """A confirmed newsletter opt-in; the confirmation's id."""
    return demo.newsletter_opt_in(gateway, person_id, **overrides)


def _request(gateway: GatewayClient, person_id: str, kind: str, **extra: object) -> str:
    data = {
        "personId": person_id,
        "type": kind,
        "receivedVia": "LETTER",
        "identityCheck": "ID_DOCUMENT",
    } | extra
    return str(gateway.execute(SUBMIT, {"input": data})["submitDataSubjectRequest"]["id"])


def _double_opt_in(gateway: GatewayClient, person_id: str) -> None:
    demo.newsletter_opt_in(gateway, person_id)


def test_an_officer_reads_a_consent_history_with_the_notice_text_and_prints_it(
    sign_in: Callable[..., Page], app_gateway: GatewayClient, console_url: str, shoot
) -> None:
    person_id = _person(app_gateway, _letters("Nachweis"))
    _double_opt_in(app_gateway, person_id)
    page = sign_in("compliance", name="Carla")
    # From the person 360 page, as an officer would come.
    page.goto(f"{console_url}/persons/{person_id}")
    page.get_by_role("link", name="Consent history with proof").click()
    expect(page).to_have_url(f"{console_url}/compliance/persons/{person_id}")
    expect(page.get_by_role("heading", name="Consent history")).to_be_visible()
    events = page.locator("article.consent-event")
    expect(events).to_have_count(2)
    newest, oldest = events.nth(0), events.nth(1)
    expect(newest.locator("h3")).to_contain_text("Confirmed · Newsletter · E-mail")
    expect(newest).to_contain_text(f"click-{person_id}")
    expect(oldest.locator(".doi")).to_contain_text("confirmed by the event of")
    expect(oldest.locator(".notice-text")).to_have_text(demo.NEWSLETTER_NOTICE)
    expect(oldest).to_contain_text("matches the text below")
    expect(oldest).to_contain_text("demo-signup-form")
    expect(page.get_by_text("No merge concerns this person's consent history.")).to_be_visible()
    shoot(page, "consent-history")

    page.get_by_role("link", name="Print as document").click()
    expect(page).to_have_url(f"{console_url}/compliance/persons/{person_id}/document")
    document = page.locator("pre.document")
    expect(document).to_contain_text(f"# Consent history of person {person_id}")
    expect(document).to_contain_text(demo.NEWSLETTER_NOTICE)
    page.emulate_media(media="print")
    expect(page.locator("header.top")).to_be_hidden()
    page.emulate_media(media="screen")
    shoot(page, "consent-document")


IMPORT = """mutation($input: ConsentImportInput!) {
  importConsentEvents(input: $input) { proof { importId } } }"""
EVIDENCE_SHA256 = hashlib.sha256(b"scanned paper forms, old CRM export 2003").hexdigest()


def test_an_imported_consent_shows_where_it_came_from(
    sign_in: Callable[..., Page],
    app_gateway: GatewayClient,
    platform: Platform,
    token_for: Callable[..., str],
    console_url: str,
) -> None:
    person_id = _person(app_gateway, _letters("Altbestand"))
    officer = GatewayClient(platform.config.gateway_url, token_for("compliance"))
    try:
        past = demo.newsletter_consent(person_id, occurredAt="2003-05-04T10:00:00+00:00")
        officer.execute(
            IMPORT,
            {
                "input": {
                    "source": "old-crm",
                    "reference": "export-2003-11",
                    "documentSha256": EVIDENCE_SHA256,
                    "events": [past],
                }
            },
        )
    finally:
        officer.close()
    page = sign_in("compliance", name="Carla")
    page.goto(f"{console_url}/compliance/persons/{person_id}")
    imported = page.locator("article.consent-event")
    expect(imported).to_have_count(1)
    expect(imported).to_contain_text("from old-crm, reference export-2003-11, by test-user")
    expect(imported).to_contain_text(EVIDENCE_SHA256)


def test_the_contact_check_answers_with_its_reason_and_deciding_event(
    sign_in: Callable[..., Page], app_gateway: GatewayClient, console_url: str, shoot
) -> None:
    family = _letters("Kontakt")
    person_id = _person(app_gateway, family, given="Konrad")
    grant = _consent(app_gateway, person_id)
    page = sign_in("compliance")
    page.goto(console_url + "/compliance")
    page.get_by_label("Family name").fill(family)
    page.get_by_label("Purpose").select_option("newsletter")
    page.get_by_label("Channel").select_option("EMAIL")
    page.get_by_role("button", name="Check").click()
    expect(page.locator(".check-person")).to_contain_text(f"Konrad {family}")
    answer = page.locator("section.answer")
    expect(answer.locator(".verdict")).to_have_text("Yes, allowed")
    expect(answer.locator(".reason-words")).to_have_text("Consent given")
    expect(answer).to_contain_text("Consent (Art. 6(1)(a))")
    shoot(page, "contact-check")

    # Before the grant: no consent, and no deciding event.
    page.get_by_label("At (UTC, empty: now)").fill("2020-01-01T08:00:00")
    page.get_by_role("button", name="Check").click()
    expect(answer.locator(".verdict")).to_have_text("No, not allowed")
    expect(answer.locator(".reason-words")).to_have_text("No consent")

    page.get_by_label("At (UTC, empty: now)").fill("")
    page.get_by_role("button", name="Check").click()
    answer.get_by_role("link", name="Confirmed").click()  # the double opt-in's confirmation
    expect(page).to_have_url(f"{console_url}/compliance/persons/{person_id}#event-{grant}")
    expect(page.locator(f"#event-{grant}")).to_contain_text("Confirmed")

    # The same answer in German.
    page.get_by_role("link", name="Deutsch").click()
    page.goto(f"{console_url}/compliance?person={person_id}&purpose=newsletter&channel=EMAIL")
    expect(page.locator("section.answer .verdict")).to_have_text("Ja, erlaubt")
    expect(page.locator("section.answer .reason-words")).to_have_text("Einwilligung liegt vor")
    page.get_by_role("link", name="English").click()


def test_an_access_request_is_recorded_and_its_export_downloaded(
    sign_in: Callable[..., Page], app_gateway: GatewayClient, console_url: str, tmp_path: Path
) -> None:
    person_id = _person(app_gateway, _letters("Auskunft"))
    _consent(app_gateway, person_id)
    page = sign_in("compliance")
    page.goto(console_url + "/requests")
    form = page.locator("form.new-request")
    form.get_by_label("Person id").fill(person_id)
    form.get_by_label("Type of request").select_option("ACCESS")
    form.get_by_label("Received via").select_option("EMAIL")
    form.get_by_label("Identity checked by").select_option("CONFIRMED_CONTACT")
    form.get_by_role("button", name="Record request").click()
    expect(page.get_by_text("The request was recorded")).to_be_visible()
    expect(page.get_by_role("heading", name="Access (Art. 15)")).to_be_visible()

    with page.expect_download() as download:
        page.get_by_role("link", name="Download as JSON").click()
    assert download.value.suggested_filename.endswith(".json")
    exported = json.loads(Path(download.value.path()).read_text())
    assert exported["personIds"] == [person_id]
    assert any(item["personId"] == person_id for item in exported["items"])

    with page.expect_download() as download:
        page.get_by_role("link", name="Download as CSV").click()
    rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text())))
    assert rows
    assert {row["personId"] for row in rows} == {person_id}

    # The first export completed the request.
    page.reload()
    expect(page.get_by_role("heading", name="Access (Art. 15)")).to_contain_text("Completed")
    expect(page.locator("dl.figures").first).to_contain_text("Exports so far")


def test_a_request_with_a_bad_person_id_is_refused_next_to_the_form(
    sign_in: Callable[..., Page], console_url: str
) -> None:
    page = sign_in("compliance")
    page.goto(console_url + "/requests")
    form = page.locator("form.new-request")
    form.get_by_label("Person id").fill("not-a-person")
    form.get_by_role("button", name="Record request").click()
    expect(page.locator("form.new-request [role=alert]")).to_be_visible()
    expect(page.locator("form.new-request").get_by_label("Person id")).to_have_value("not-a-person")


def test_an_erasure_carried_out_shows_its_proof(
    sign_in: Callable[..., Page], app_gateway: GatewayClient, console_url: str, shoot
) -> None:
    person_id = _person(app_gateway, _letters("Loeschung"))
    _consent(app_gateway, person_id)
    request_id = _request(app_gateway, person_id, "ERASURE")
    page = sign_in("compliance")
    page.goto(f"{console_url}/requests/{request_id}")
    expect(page.get_by_text("Not carried out yet")).to_be_visible()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Carry out").click()
    expect(page.get_by_role("heading", name="Proof of the erasure")).to_be_visible()
    for service in ("profile", "matching", "consent"):
        step = page.locator(f"tr[data-step={service}]")
        expect(step).to_be_visible()
        expect(step).to_contain_text(person_id)
    expect(page.locator("tr[data-step=profile] td.detail")).to_contain_text("removedRecords")
    expect(page.get_by_role("heading", name="Erasure (Art. 17)")).to_contain_text("Completed")
    shoot(page, "request-detail")

    # The contact check knows the person is erased.
    page.goto(f"{console_url}/compliance?person={person_id}&purpose=newsletter&channel=EMAIL")
    expect(page.locator("section.answer .reason-words")).to_have_text("Erased")


def test_an_overdue_request_is_highlighted(
    sign_in: Callable[..., Page], app_gateway: GatewayClient, console_url: str, shoot
) -> None:
    person_id = _person(app_gateway, _letters("Frist"))
    received = (datetime.now(UTC) - timedelta(days=70)).isoformat()
    late = _request(app_gateway, person_id, "ACCESS", receivedAt=received)
    on_time = _request(app_gateway, person_id, "RESTRICTION")
    page = sign_in("compliance")
    page.goto(console_url + "/requests")
    expect(page.locator(f"tr[data-request='{late}']")).to_have_class("overdue")
    expect(page.locator(f"tr[data-request='{late}']")).to_contain_text("overdue")
    shoot(page, "requests")
    # The list runs by due date; the suite's other requests may fill the first page.
    page.get_by_label("Person id").first.fill(person_id)
    page.get_by_role("button", name="Filter").click()
    expect(page.locator(f"tr[data-request='{on_time}']")).not_to_have_class("overdue")
    expect(page.locator("table.requests tbody tr")).to_have_count(2)
    page.goto(console_url + "/requests")
    page.get_by_label("Overdue only").check()
    page.get_by_role("button", name="Filter").click()
    expect(page.locator(f"tr[data-request='{late}']")).to_be_visible()
    expect(page.locator(f"tr[data-request='{on_time}']")).to_have_count(0)


def test_purposes_show_their_notice_texts_and_the_records_of_processing(
    sign_in: Callable[..., Page], console_url: str, shoot
) -> None:
    page = sign_in("compliance")
    page.get_by_role("link", name="Purposes").click()
    newsletter = page.locator("article[data-purpose=newsletter]")
    expect(newsletter.get_by_role("heading", name="Newsletter")).to_be_visible()
    expect(newsletter).to_contain_text("730 days")
    expect(newsletter.locator(".notice-text").first).to_have_text(demo.NEWSLETTER_NOTICE)
    shoot(page, "purposes")

    page.get_by_role("link", name="Records of processing (Art. 30)").click()
    newsletter_row = page.locator("tr[data-purpose=newsletter]")
    expect(newsletter_row).to_contain_text("Consent (Art. 6(1)(a))")
    expect(newsletter_row).to_contain_text("Newsletter-Versand GmbH")
    expect(page.locator("section.controller")).to_contain_text("Beispiel Handel GmbH")
    shoot(page, "records-of-processing")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download as CSV").click()
    rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text())))
    assert "newsletter" in {row["code"] for row in rows}


def test_a_script_in_a_name_is_shown_as_text(
    sign_in: Callable[..., Page], app_gateway: GatewayClient, console_url: str
) -> None:
    person_id = _person(app_gateway, HOSTILE, given="Eve")
    _consent(app_gateway, person_id, collectionPoint='<img src=x onerror="alert(2)">')
    request_id = _request(app_gateway, person_id, "RESTRICTION", note=HOSTILE)
    page = sign_in("compliance")
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    for path in (
        f"/compliance?person={person_id}&purpose=newsletter&channel=EMAIL",
        f"/compliance/persons/{person_id}",
        f"/requests/{request_id}",
    ):
        page.goto(console_url + path)
        expect(page.locator(".person-name").first).to_contain_text(HOSTILE)
    page.goto(f"{console_url}/compliance/persons/{person_id}")
    # The collection point is the request's (the form); the confirmation came by mail.
    request = page.locator("article.consent-event.type-pending_double_opt_in")
    expect(request).to_contain_text('<img src=x onerror="alert(2)">')
    expect(page.locator("article.consent-event img")).to_have_count(0)
    page.goto(f"{console_url}/requests/{request_id}")
    expect(page.locator("dd.note")).to_have_text(HOSTILE)
    page.goto(f"{console_url}/requests?personId={person_id}")
    expect(page.locator(f"tr[data-request='{request_id}']")).to_contain_text(HOSTILE)
    assert page.locator("script:not([src])").count() == 0
    assert dialogs == []


def test_a_steward_may_not_open_the_compliance_pages(
    sign_in: Callable[..., Page], console_url: str
) -> None:
    page = sign_in("steward")
    for path in ("/compliance", "/requests", "/purposes/records"):
        response = page.goto(console_url + path)
        assert response is not None
        assert response.status == 403
