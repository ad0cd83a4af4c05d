"""An erasure's answer as the officer reads it, and the re-consent worklist's addresses."""

from __future__ import annotations

from typing import Any

from mdm_console.pages.reconsent import joined_csv, worklist_url
from mdm_console.pages.requests import erasure_answer


def step(service: str, erased: list[str], *held: dict[str, Any]) -> dict[str, Any]:
    return {"service": service, "erased": erased, "restricted": list(held)}


def hold(what: str, until: str, reference: str = "HGB_257") -> dict[str, Any]:
    return {"service": "profile", "what": what, "until": until, "legalReference": reference}


def test_an_erasure_lists_what_went_and_what_is_kept_until_the_last_end() -> None:
    found = {
        "type": "ERASURE",
        "steps": [
            step("profile", ["email", "source_record"], hold("erp record 1", "2036-12-31")),
            step("matching", []),
            step("consent", [], hold("consent events", "2031-05-01", "UWG_7A")),
        ],
    }
    answer = erasure_answer(found)
    assert answer is not None
    assert answer["erased"] == [("profile", ["email", "source_record"])]
    assert [r["what"] for r in answer["restricted"]] == ["consent events", "erp record 1"]
    assert answer["held_until"] == "2036-12-31"


def test_nothing_held_and_other_requests() -> None:
    answer = erasure_answer({"type": "ERASURE", "steps": [step("profile", ["identity"])]})
    assert answer is not None
    assert (answer["restricted"], answer["held_until"]) == ([], None)
    assert erasure_answer({"type": "ERASURE", "steps": []}) is None
    assert erasure_answer({"type": "RESTRICTION", "steps": [step("profile", [])]}) is None


def test_worklist_addresses() -> None:
    assert worklist_url("newsletter", "EMAIL") == "/purposes/newsletter/reconsent/EMAIL"
    assert (
        worklist_url("newsletter", "SMS", after="c1")
        == "/purposes/newsletter/reconsent/SMS?after=c1"
    )
    assert worklist_url("newsletter", "SMS", suffix=".csv").endswith("/SMS.csv")


def test_the_worklist_pages_become_one_csv_with_one_header() -> None:
    header = "person_id,purpose,channel"
    first = f"{header}\r\na,newsletter,EMAIL\r\nb,newsletter,EMAIL\r\n"
    second = f"{header}\r\nc,newsletter,EMAIL\r\n"
    assert joined_csv([first, second]) == (
        f"{header}\r\na,newsletter,EMAIL\r\nb,newsletter,EMAIL\r\nc,newsletter,EMAIL\r\n"
    )
    assert joined_csv([f"{header}\r\n"]) == f"{header}\r\n"
