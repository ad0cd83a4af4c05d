"""The queue's filters: from the address bar to the gateway's variables and back."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

from starlette.requests import Request

from mdm_console.pages.review import QueueFilters

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)


def filters(query: str) -> QueueFilters:
    return QueueFilters.of(Request({"type": "http", "query_string": query.encode(), "headers": []}))


def test_the_default_view_is_the_open_queue_by_score() -> None:
    default = filters("")
    assert not default.narrowed
    variables = default.variables(me="dev:ann", first=25, now=NOW)
    assert variables["statuses"] == ["OPEN"]
    assert variables["orderBy"] == "PROBABILITY_DESC"
    assert (variables["minProbability"], variables["maxProbability"]) == (0.0, 1.0)
    assert variables["assignedTo"] is None
    assert default.query() == "/review"


def test_filters_become_variables() -> None:
    chosen = filters("reason=GUARDED&band=high&age=week&mine=1&name=M%C3%BCl&order=oldest")
    assert chosen.narrowed
    variables = chosen.variables(me="dev:ann", first=25, now=NOW)
    assert variables["reasons"] == ["GUARDED"]
    assert (variables["minProbability"], variables["maxProbability"]) == (0.9, 1.0)
    assert variables["createdAfter"] == "2026-11-28T12:00:00+00:00"  # at most a week old
    assert variables["createdBefore"] is None
    older = filters("age=older").variables(me="dev:ann", first=25, now=NOW)
    assert (older["createdAfter"], older["createdBefore"]) == (None, "2026-11-05T12:00:00+00:00")
    assert variables["assignedTo"] == "dev:ann"
    assert variables["name"] == "Mül"
    assert variables["orderBy"] == "OLDEST_FIRST"
    assert variables["kind"] is None
    companies = filters("kind=companies")
    assert companies.narrowed
    assert companies.variables(me="dev:ann", first=25, now=NOW)["kind"] == "COMPANY"
    assert companies.query(band="high") == "/review?band=high&kind=companies"


def test_unknown_values_are_dropped_not_passed_on() -> None:
    odd = filters("reason=EVIL&band=all&age=forever&order=random&mine=yes&kind=animals")
    assert odd == filters("")


def test_the_address_keeps_the_filters_and_changes_one() -> None:
    chosen = filters("reason=UNCERTAIN&band=low&name=Kessel&after=abc")
    moved = parse_qs(urlsplit(chosen.query(band="high")).query)
    assert moved == {"reason": ["UNCERTAIN"], "band": ["high"], "name": ["Kessel"]}
    assert parse_qs(urlsplit(chosen.query(after="xyz")).query)["after"] == ["xyz"]
