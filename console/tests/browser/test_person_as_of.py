"""A steward looks at a profile as it was before its e-mail address changed, and before
it existed; a compliance officer sees the contact check of that time."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from playwright.sync_api import Page, expect

from mdm_infra import demo
from mdm_infra.client import GatewayClient

INGEST = """mutation($source: String!, $records: [SourceRecordInput!]!) {
  ingestSourceRecords(source: $source, records: $records) { records { personId } } }"""


def _letters(prefix: str) -> str:
    return prefix + "".join(chr(ord("a") + int(c, 16) % 26) for c in uuid.uuid4().hex[:8])


def _moment() -> datetime:
    """A second between two writes (the form takes whole seconds)."""
    time.sleep(1.1)
    at = datetime.now(UTC).replace(microsecond=0)
    time.sleep(1.1)
    return at


def test_a_profile_as_it_was_on_a_day(
    sign_in: Callable[..., Page], app_gateway: GatewayClient, console_url: str, shoot
) -> None:
    family = _letters("Damals")
    old_mail, new_mail = f"{family.lower()}@alt.example", f"{family.lower()}@neu.example"
    before_it = _moment()
    record = {"sourceId": "crm-" + uuid.uuid4().hex, "givenName": "Hedda", "familyName": family}
    ingested = app_gateway.execute(
        INGEST, {"source": "crm", "records": [record | {"email": old_mail}]}
    )
    person_id = ingested["ingestSourceRecords"]["records"][0]["personId"]
    then = _moment()
    app_gateway.execute(INGEST, {"source": "crm", "records": [record | {"email": new_mail}]})

    page = sign_in("steward")
    page.goto(f"{console_url}/persons/{person_id}")
    expect(page.locator("table.golden")).to_contain_text(new_mail)
    form = page.locator("form.as-of")
    form.get_by_label("Show as it was on (UTC)").fill(then.strftime("%Y-%m-%dT%H:%M:%S"))
    form.get_by_role("button", name="Show").click()

    expect(page.locator(".as-of-banner")).to_be_visible()
    expect(page.locator("table.golden")).to_contain_text(old_mail)
    expect(page.locator("table.golden")).not_to_contain_text(new_mail)
    expect(page.get_by_text("Source records are kept as they are now")).to_be_visible()
    shoot(page, "person-as-of")

    page.get_by_role("link", name="Back to now").click()
    expect(page).to_have_url(f"{console_url}/persons/{person_id}")
    expect(page.locator("table.golden")).to_contain_text(new_mail)

    # Before the profile existed: a warning, and the profile as it is now.
    early = before_it.strftime("%Y-%m-%dT%H:%M:%S")
    page.goto(f"{console_url}/persons/{person_id}?asOf={early}")
    expect(page.get_by_text("The profile did not exist yet at that time")).to_be_visible()
    expect(page.locator("table.golden")).to_contain_text(new_mail)


def test_an_officer_sees_the_contact_check_of_that_time(
    sign_in: Callable[..., Page], app_gateway: GatewayClient, console_url: str, shoot
) -> None:
    record = {
        "sourceId": "crm-" + uuid.uuid4().hex,
        "givenName": "Ilse",
        "familyName": _letters("Frueher"),
        "email": f"{uuid.uuid4().hex[:10]}@x.example",
    }
    ingested = app_gateway.execute(INGEST, {"source": "crm", "records": [record]})
    person_id = ingested["ingestSourceRecords"]["records"][0]["personId"]
    then = _moment()
    demo.newsletter_opt_in(app_gateway, person_id)  # confirmed after `then`

    page = sign_in("compliance")
    newsletter = page.locator("tr[data-purpose=newsletter][data-channel=EMAIL]")
    page.goto(f"{console_url}/persons/{person_id}")
    expect(newsletter.locator("td.yes")).to_have_count(1)
    page.goto(f"{console_url}/persons/{person_id}?asOf={then.strftime('%Y-%m-%dT%H:%M:%S')}")
    expect(page.locator(".as-of-banner")).to_be_visible()
    expect(newsletter.locator("td.no")).to_have_count(1)
    shoot(page, "person-as-of-compliance")
    expect(page.locator("form.as-of").get_by_label("Show as it was on (UTC)")).to_have_value(
        then.strftime("%Y-%m-%dT%H:%M:%S")
    )
