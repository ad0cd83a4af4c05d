"""A steward's day in the browser: the queue, three tasks cleared by keyboard only,
the merge preview with its consent change, the merge history and its undo."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from playwright.sync_api import Page, expect

from mdm_infra import demo
from mdm_infra.client import GatewayClient
from mdm_infra.testing import eventually

# Pairs between the thresholds of the engine's documented defaults, whatever model
# an earlier test trained on the test data.
pytestmark = pytest.mark.usefixtures("default_model_sync")

TASKS = """query($name: String) { reviewTasks(name: $name, first: 20) {
  edges { node { id left { id } right { id } } } } }"""
REMATCH = "mutation($id: ID!) { rematchPerson(personId: $id) { reviewTaskIds } }"
PERSON = "query($id: ID!) { person(id: $id) { id mergedFrom } }"


def _ingest(gateway: GatewayClient, source: str, **fields: object) -> str:
    record = {"sourceId": uuid.uuid4().hex[:16]} | fields
    result = gateway.execute(demo.INGEST, {"source": source, "records": [record]})
    return str(result["ingestSourceRecords"]["records"][0]["personId"])


def _uncertain_pair(gateway: GatewayClient, family: str) -> tuple[str, str]:
    """Same name and postal code, nothing else known: a steward must decide."""
    place = {"postalCode": str(10000 + uuid.uuid4().int % 90000), "city": "Berlin"}
    first = _ingest(
        gateway, "crm", givenName="Jürgen", familyName=family, street="Gartenweg 2", **place
    )
    second = _ingest(
        gateway, "shop", givenName="Jürgen", familyName=family, street="Lindenstraße 9", **place
    )
    return first, second


def _tasks(gateway: GatewayClient, prefix: str) -> list[dict[str, Any]]:
    return [e["node"] for e in gateway.execute(TASKS, {"name": prefix})["reviewTasks"]["edges"]]


def _task_id(page: Page) -> str:
    return page.url.rsplit("/", 1)[-1]


def test_a_steward_clears_three_tasks_by_keyboard_and_undoes_the_merge(
    sign_in: Callable[..., Page], app_gateway: GatewayClient, console_url: str, shoot
) -> None:
    prefix = "Tastatur" + uuid.uuid4().hex[:6]
    pairs = [_uncertain_pair(app_gateway, f"{prefix}{suffix}") for suffix in ("a", "b", "c")]
    persons = {pid: pair for pair in pairs for pid in pair}
    assert eventually(lambda: len(_tasks(app_gateway, prefix)) == 3, timeout_s=40)
    # The person who would be merged away agreed to the newsletter; the survivor
    # (known longer) did not: whichever pair is merged, the preview must say so.
    for _, newer in pairs:
        demo.newsletter_opt_in(app_gateway, newer)

    page = sign_in("steward", name="Stefanie")
    page.goto(f"{console_url}/review?name={quote(prefix)}")
    expect(page.get_by_text("3 tasks match these filters")).to_be_visible()
    shoot(page, "review-queue")

    page.keyboard.press("j")  # opens the first task
    expect(page.get_by_role("heading", name="Review task")).to_be_visible()
    expect(page.get_by_text("What a merge would do")).to_be_visible()
    expect(page.locator(".consent-change")).to_contain_text("changes 1 contact permission")
    expect(page.locator("table.consent-preview tr.changes")).to_contain_text("Newsletter")
    shoot(page, "review-task")
    merged_task = _task_id(page)
    page.keyboard.press("m")
    page.wait_for_url(lambda url: not url.endswith(merged_task))
    rejected_task = _task_id(page)
    page.keyboard.press("n")
    page.wait_for_url(lambda url: not url.endswith(rejected_task))
    deferred_task = _task_id(page)
    page.keyboard.press("d")
    page.wait_for_url(lambda url: "/review?" in url)  # back to the queue view at its end
    assert len({merged_task, rejected_task, deferred_task}) == 3

    # The deferred task stays queued; the other two are gone from the queue.
    left = {t["id"] for t in _tasks(app_gateway, prefix)}
    assert left == {deferred_task}
    # Not a duplicate is remembered: matching the pair again proposes nothing.
    rejected_pair = next(
        pair
        for pair in pairs
        if any(e["id"] == rejected_task for e in _decided(app_gateway, pair[1]))
    )
    assert app_gateway.execute(REMATCH, {"id": rejected_pair[1]})["rematchPerson"] == {
        "reviewTaskIds": []
    }

    # The merge shows in the survivor's history with its evidence, and is undone there.
    merged_pair = next(
        pair
        for pair in pairs
        if any(e["id"] == merged_task for e in _decided(app_gateway, pair[1]))
    )
    survivor, gone = merged_pair
    assert app_gateway.execute(PERSON, {"id": gone})["person"]["id"] == survivor
    _employ(app_gateway, survivor, company="Bäckerei Nord GmbH", parent="Brot Holding AG")
    page.goto(f"{console_url}/persons/{survivor}")
    expect(page.locator("ul.employers")).to_contain_text("part of Brot Holding AG")
    history = page.locator("section.merges article.verdict-merge")
    expect(history).to_contain_text("merged by a steward")
    expect(history.locator("table.evidence")).to_contain_text("given name")
    shoot(page, "person-360")
    page.once("dialog", lambda dialog: dialog.accept())
    history.get_by_role("button", name="Undo merge").click()
    expect(page.get_by_text("The merge was undone")).to_be_visible()
    assert app_gateway.execute(PERSON, {"id": gone})["person"]["id"] == gone
    assert persons[gone] == merged_pair


COMPANY = "mutation($name: String!) { createCompany(name: $name) { id } }"
PARENT = "mutation($c: ID!, $p: ID) { setParentCompany(companyId: $c, parentId: $p) { id } }"
EMPLOY = "mutation($p: ID!, $c: ID!) { linkEmployee(personId: $p, companyId: $c) { id } }"


def _employ(gateway: GatewayClient, person_id: str, *, company: str, parent: str) -> None:
    child = gateway.execute(COMPANY, {"name": company})["createCompany"]["id"]
    top = gateway.execute(COMPANY, {"name": parent})["createCompany"]["id"]
    gateway.execute(PARENT, {"c": child, "p": top})
    gateway.execute(EMPLOY, {"p": person_id, "c": child})


DECISIONS = "query($id: ID!) { matchDecisions(personId: $id) { taskId verdict } }"


def _decided(gateway: GatewayClient, person_id: str) -> list[dict[str, str]]:
    return [
        {"id": d["taskId"], "verdict": d["verdict"]}
        for d in gateway.execute(DECISIONS, {"id": person_id})["matchDecisions"]
        if d["taskId"]
    ]


def test_a_task_decided_by_someone_else_says_so_and_reloads(
    sign_in: Callable[..., Page], app_gateway: GatewayClient, console_url: str
) -> None:
    prefix = "Zweit" + uuid.uuid4().hex[:6]
    _uncertain_pair(app_gateway, prefix)
    found = eventually(lambda: _tasks(app_gateway, prefix), timeout_s=40)
    task_id = found[0]["id"]
    page = sign_in("steward")
    page.goto(f"{console_url}/review/tasks/{task_id}")
    app_gateway.execute(
        "mutation($id: ID!) { decideReviewTask(id: $id, decision: NOT_A_MATCH) { id } }",
        {"id": task_id},
    )
    page.get_by_role("button", name="Merge").click()
    expect(page.locator(".flash.warning")).to_contain_text("decided already")
    expect(page.locator("form.decide")).to_have_count(0)  # reloaded: nothing left to decide
    expect(page.get_by_text("not a duplicate")).to_be_visible()


def test_a_steward_takes_a_task_and_finds_it_under_assigned_to_me(
    sign_in: Callable[..., Page], app_gateway: GatewayClient, console_url: str
) -> None:
    prefix = "Zuweisung" + uuid.uuid4().hex[:6]
    _uncertain_pair(app_gateway, prefix)
    task_id = eventually(lambda: _tasks(app_gateway, prefix), timeout_s=40)[0]["id"]
    page = sign_in("steward", name="Sven")
    page.goto(f"{console_url}/review?name={quote(prefix)}")
    row = page.locator(f"tr[data-task='{task_id}']")
    row.get_by_role("button", name="Assign to me").click()
    expect(row).to_contain_text("dev:Sven")
    page.get_by_label("Assigned to me").check()  # the table follows the filter at once
    expect(page).to_have_url(re.compile(r".*mine=1"))
    mine = page.locator(f"tr[data-task='{task_id}']")
    expect(mine.locator("input[name=back]")).to_have_value(re.compile(r".*mine=1"))
    expect(page.get_by_text("1 task matches these filters")).to_be_visible()
    mine.get_by_role("button", name="Release").click()
    expect(page.locator(f"tr[data-task='{task_id}']")).to_have_count(0)  # no longer mine


ERASE = "mutation($p: ID!, $r: ID!) { eraseProfileData(personId: $p, requestId: $r) { personIds } }"


def test_a_task_whose_person_was_erased_in_the_profile_stays_workable(
    sign_in: Callable[..., Page], app_gateway: GatewayClient, console_url: str
) -> None:
    """Erased in the profile before matching heard of it: the queue still loads, and
    the task says so and can be closed."""
    prefix = "Geloescht" + uuid.uuid4().hex[:6]
    _, newer = _uncertain_pair(app_gateway, prefix)
    task_id = eventually(lambda: _tasks(app_gateway, prefix), timeout_s=40)[0]["id"]
    app_gateway.execute(ERASE, {"p": newer, "r": str(uuid.uuid4())})
    page = sign_in("steward")
    page.goto(f"{console_url}/review?order=newest")
    expect(page.get_by_role("heading", name="Review queue")).to_be_visible()
    page.goto(f"{console_url}/review/tasks/{task_id}")
    expect(page.locator("table.compare thead")).to_contain_text("(no longer in the profile)")
    expect(page.locator("section.preview")).to_contain_text("nothing to merge")
    page.keyboard.press("n")
    page.wait_for_url(lambda url: not url.endswith(task_id))
    assert task_id not in {t["id"] for t in _tasks(app_gateway, prefix)}


def test_a_script_in_a_name_is_shown_as_text(
    sign_in: Callable[..., Page], app_gateway: GatewayClient, console_url: str
) -> None:
    hostile = "<script>alert(1)</script>"
    person = _ingest(
        app_gateway,
        "crm",
        givenName="<img src=x onerror=alert(2)>",
        familyName=hostile,
        postalCode="10115",
        city="Berlin",
    )
    page = sign_in("steward", "compliance")
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(f"{console_url}/persons/{person}")
    expect(page.get_by_role("heading", level=1)).to_contain_text(hostile)
    assert page.locator("main script").count() == 0
    assert page.locator("main img").count() == 0
    assert dialogs == []


def test_a_bad_value_shows_as_received_and_identifiers_with_their_source(
    sign_in: Callable[..., Page],
    app_gateway: GatewayClient,
    console_url: str,
    shoot: Callable[[Page, str], Path],
) -> None:
    person = _ingest(
        app_gateway,
        "crm",
        givenName="Rita",
        familyName="Rohwert",
        email="rita..rohwert@web.de",
        birthDate="1987-13-45",
        postalCode="10115",
        city="Berlin",
        identifiers=[{"scheme": "CUSTOMER_NUMBER", "value": "K-4711"}],
    )
    page = sign_in("steward")
    page.goto(f"{console_url}/persons/{person}")
    golden = page.locator("table.golden")
    expect(golden.locator("tr", has_text="Birth date")).to_contain_text("1987")
    expect(golden.locator("tr", has_text="E-mail")).not_to_contain_text("rita")
    expect(golden.locator("tr", has_text="Identifiers")).to_contain_text("K4711")
    kept = page.locator(".kept-raw")
    expect(kept).to_have_count(2)
    expect(kept.first).to_contain_text("1987-13-45")
    expect(kept.last).to_contain_text("rita..rohwert@web.de")
    shoot(page, "person-kept-raw")


def test_jobs_start_a_rematch_and_show_its_progress(
    sign_in: Callable[..., Page], console_url: str, shoot
) -> None:
    page = sign_in("steward")
    page.goto(f"{console_url}/jobs")
    page.get_by_label("Partitions").fill("2")
    page.get_by_role("button", name="Start re-match").click()
    expect(page.get_by_role("heading", name="Re-matching job")).to_be_visible()
    expect(page.locator("#job")).to_have_attribute("data-status", "DONE", timeout=60_000)
    shoot(page, "jobs-rematch")


INGEST_COMPANIES = """mutation($source: String!, $records: [CompanyRecordInput!]!) {
  ingestCompanyRecords(source: $source, records: $records) { results { companyId } } }"""
COMPANY_TASKS = """query($id: ID!) { reviewTasks(kind: COMPANY, companyId: $id, first: 5) {
  edges { node { id } } } }"""
RESOLVE_COMPANY = "query($id: ID!) { company(id: $id) { id } }"


def _company(gateway: GatewayClient, source: str, **fields: str) -> str:
    record = {"sourceId": uuid.uuid4().hex[:16]} | fields
    answer = gateway.execute(INGEST_COMPANIES, {"source": source, "records": [record]})
    return str(answer["ingestCompanyRecords"]["results"][0]["companyId"])


def test_a_steward_merges_two_companies_from_the_queue(
    sign_in: Callable[..., Page],
    app_gateway: GatewayClient,
    console_url: str,
    shoot: Callable[[Page, str], Path],
) -> None:
    """The same name and legal form, and nothing else to compare: the company engine
    asks a steward, in the same queue as persons."""
    name = f"Kessel{uuid.uuid4().hex[:6]} Anlagenbau GmbH"
    register = f"HRB {10000 + uuid.uuid4().int % 90000}"  # the test's own: a blocking key
    erp = _company(app_gateway, "erp", name=name, registryNumber=f"{register}, AG Köln")
    crm = _company(
        app_gateway,
        "crm",
        name=name,
        street="Domplatz 2",
        postalCode="50667",
        city="Köln",
        website="https://anlagenbau.example",
    )

    def tasks() -> list[dict[str, Any]]:
        edges = app_gateway.execute(COMPANY_TASKS, {"id": crm})["reviewTasks"]["edges"]
        return [edge["node"] for edge in edges]

    (task,) = eventually(tasks, timeout_s=40)
    page = sign_in("steward", name="Carla")
    page.goto(f"{console_url}/review?kind=companies&order=newest")
    row = page.locator(f"tr[data-task='{task['id']}']")
    expect(row).to_contain_text(name)
    expect(row).to_contain_text(f"Company · {register}, Köln")
    shoot(page, "review-queue-companies")

    row.get_by_role("link", name=name).click()
    compare = page.locator("table.compare")
    expect(compare.locator("thead")).to_contain_text("Company A")
    expect(compare.locator("tr", has_text="Register entry")).to_contain_text(f"{register}, Köln")
    expect(compare.locator("tr", has_text="Name")).to_contain_text("exact")
    # The ERP's company is known longer: it survives, whichever side it is shown on.
    erp_side = "A" if page.locator("section.side").first.text_content().count("erp") else "B"
    expect(page.locator("section.preview")).to_contain_text(
        f"Company {erp_side} survives (known longer)"
    )
    shoot(page, "review-task-companies")
    page.keyboard.press("m")
    page.wait_for_url(lambda url: not url.endswith(task["id"]))
    assert app_gateway.execute(RESOLVE_COMPANY, {"id": crm})["company"]["id"] == erp


def test_a_steward_chooses_a_persons_employer_among_a_head_office_and_its_branch(
    sign_in: Callable[..., Page],
    app_gateway: GatewayClient,
    console_url: str,
    shoot: Callable[[Page, str], Path],
) -> None:
    word = f"Kessel{uuid.uuid4().hex[:6]}"
    domain = f"{word.lower()}.example"
    _company(app_gateway, "erp", name=f"{word} Bau GmbH", website=f"https://{domain}")
    _company(
        app_gateway, "erp", name=f"{word} Bau GmbH Niederlassung Köln", email=f"koeln@{domain}"
    )
    person = _ingest(app_gateway, "crm", givenName="Anna", familyName=word, email=f"anna@{domain}")
    page = sign_in("steward", name="Carla")
    page.goto(f"{console_url}/employers")
    card = page.locator("form.proposal", has_text=f"Anna {word}")
    expect(card).to_contain_text(f"{word} Bau GmbH Niederlassung Köln")
    expect(card).to_contain_text("e-mail domain")
    shoot(page, "employers-to-confirm")
    card.get_by_label(f"{word} Bau GmbH Niederlassung Köln").check()
    card.get_by_role("button", name="Decide").click()
    expect(page.locator(".flash")).to_contain_text("works for the company chosen")
    expect(page.locator("form.proposal", has_text=f"Anna {word}")).to_have_count(0)
    page.goto(f"{console_url}/persons/{person}")
    employers = page.locator("ul.employers")
    expect(employers).to_contain_text(f"{word} Bau GmbH Niederlassung Köln")
    expect(employers).to_contain_text("from crm: a steward's decision")
