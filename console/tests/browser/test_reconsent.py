"""After a material change of a purpose's notice, the officer opens the re-consent
worklist from the purposes page and downloads it for the mailing system."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, expect

from mdm_infra import demo
from mdm_infra.client import GatewayClient


def _purpose_with_a_material_change(gateway: GatewayClient, persons: int) -> tuple[str, set[str]]:
    """A purpose of its own (other tests' newsletter consents stay valid), persons who
    agreed to notice version 1, then a material version 2."""
    code = "offers-" + uuid.uuid4().hex[:8]
    purpose = demo.NEWSLETTER | {"code": code, "name": f"Offers {code[-4:]}"}
    gateway.execute(demo.REGISTER_PURPOSE, {"input": purpose})
    notice = {"purpose": code, "language": "de", "text": demo.NEWSLETTER_NOTICE}
    gateway.execute(demo.PUBLISH_NOTICE, {"input": notice})
    ids = set()
    for _ in range(persons):
        created = gateway.execute(
            demo.CREATE_PERSON, {"input": {"givenName": "Rita", "familyName": "Neufrage"}}
        )
        person_id = created["createPerson"]["id"]
        demo.newsletter_opt_in(gateway, person_id, purpose=code)
        ids.add(person_id)
    changed = notice | {"text": demo.NEWSLETTER_NOTICE + " Neu: auch per SMS.", "material": True}
    gateway.execute(demo.PUBLISH_NOTICE, {"input": changed})
    return code, ids


def test_the_reconsent_worklist_lists_who_to_ask_again_and_downloads_as_csv(
    sign_in: Callable[..., Page], app_gateway: GatewayClient, console_url: str, shoot
) -> None:
    code, persons = _purpose_with_a_material_change(app_gateway, 3)
    page = sign_in("compliance")
    page.get_by_role("link", name="Purposes").click()
    page.locator(f"article[data-purpose='{code}']").get_by_role(
        "link", name="Re-consent worklist · E-mail"
    ).click()
    expect(page).to_have_url(f"{console_url}/purposes/{code}/reconsent/EMAIL")
    expect(page.locator(".total-count")).to_have_text("3")
    rows = page.locator("table.reconsent tbody tr")
    expect(rows).to_have_count(3)
    assert {r.get_attribute("data-person") for r in rows.all()} == persons
    expect(rows.first.locator(".agreed")).to_have_text("1")
    expect(rows.first.locator(".required")).to_have_text("2")
    shoot(page, "reconsent-worklist")

    with page.expect_download() as download:
        page.get_by_role("link", name="Download the whole list as CSV").click()
    assert download.value.suggested_filename.startswith(f"reconsent-{code}-email-")
    text = Path(download.value.path()).read_text()
    listed = list(csv.DictReader(io.StringIO(text)))
    assert {row["person_id"] for row in listed} == persons
    assert {(row["agreed_version"], row["required_version"]) for row in listed} == {("1", "2")}

    rows.first.get_by_role("link").first.click()
    expect(page.get_by_role("heading", name="Consent history")).to_be_visible()
