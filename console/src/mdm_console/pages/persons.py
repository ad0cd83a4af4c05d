"""Person 360: golden values with their sources, source records, quality,
household, consent summary and the merge history with its evidence; also as the
profile was at a time (``?asOf=``)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mdm_common.auth import Role
from mdm_console import web
from mdm_console.client import GatewayError
from mdm_console.i18n import _
from mdm_console.pages.wording import guards_in_words

PERSON_ROLES = (Role.STEWARD, Role.COMPLIANCE)
MERGES = {"MERGE", "AUTO_MERGE"}
AS_OF_INPUT = "%Y-%m-%dT%H:%M:%S"  # what an <input type="datetime-local" step="1"> sends


@web.page(*PERSON_ROLES)
async def search(request: Request) -> Response:
    name = request.query_params.get("name", "").strip()[:80]
    email = request.query_params.get("email", "").strip()[:200]
    after = request.query_params.get("after") or None
    found = None
    if name or email:
        data = await web.ask(
            request,
            "FindPersons",
            name=name or None,
            email=email or None,
            first=web.console(request).settings.page_size,
            after=after,
        )
        found = data["searchPersons"]
    return web.render(
        request, "persons/search.html", {"name": name, "email": email, "found": found}
    )


@web.page(*PERSON_ROLES)
async def person_page(request: Request) -> Response:
    person_id = request.path_params["person_id"]
    me = web.user(request)
    as_of, flash = _as_of(request.query_params.get("asOf", ""))
    person = None
    if as_of is not None:
        try:
            person = (await web.ask(request, "PersonAsOf", id=person_id, at=as_of.isoformat()))[
                "person"
            ]
        except GatewayError as exc:
            if exc.field != "asOf":
                raise
            message = _("The profile did not exist yet at that time; this is how it is now.")
            as_of, flash = None, {"kind": "warning", "text": message}
    if person is None:
        person = (await web.ask(request, "Person", id=person_id))["person"]
    merges, contact = await asyncio.gather(
        _merge_history(request, person["id"]) if me.has_any({Role.STEWARD}) else _nothing(),
        _contact_summary(request, person["id"], as_of)
        if me.has_any({Role.COMPLIANCE})
        else _nothing(),
    )
    sources_by_attribute: dict[str, list[dict[str, Any]]] = {}
    for entry in person["lineage"]:
        sources_by_attribute.setdefault(entry["attribute"], []).append(entry)
    return web.render(
        request,
        "persons/person.html",
        {
            "person": person,
            "lineage": sources_by_attribute,
            "merges": merges,
            "contact": contact,
            "redirected_from": person_id if person_id != person["id"] else None,
            "asked_id": person_id,
            "as_of": as_of,
            "as_of_value": as_of.strftime(AS_OF_INPUT) if as_of else "",
            "flash": flash or web.session(request).pop("flash", None),
        },
    )


def _as_of(text: str) -> tuple[datetime | None, dict[str, str] | None]:
    """The time the page is asked for (the form's local date and time, read as UTC as
    the console shows every time), or a warning for one it cannot read."""
    text = text.strip()[:40]
    if not text:
        return None, None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None, {"kind": "warning", "text": _("That date and time could not be read.")}
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)), None


async def _nothing() -> None:
    return None


async def _merge_history(request: Request, person_id: str) -> list[dict[str, Any]]:
    found = await web.ask(request, "PersonMerges", id=person_id, allow_missing=True)
    decisions = found["matchDecisions"]
    undone = {d["mergeId"] for d in decisions if d["verdict"] == "UNMERGE"}
    history = []
    for d in reversed(decisions):  # newest first
        history.append(
            d
            | {
                "undoable": d["verdict"] in MERGES and d["mergeId"] and d["mergeId"] not in undone,
                "undone": d["verdict"] in MERGES and d["mergeId"] in undone,
                "guards": guards_in_words(d.get("conflicts") or [], d.get("explanation") or []),
            }
        )
    return history


async def _contact_summary(
    request: Request, person_id: str, at: datetime | None
) -> list[dict[str, Any]]:
    """The contact check per purpose and channel, now or at ``at``."""
    data = await web.ask(request, "PersonContactSummary", id=person_id)
    pairs = [(p, c) for p in data["purposes"] for c in p["channels"]]
    when = at.isoformat() if at else None
    answers = await asyncio.gather(
        *(
            web.ask(request, "ContactAnswer", id=person_id, purpose=p["code"], channel=c, at=when)
            for p, c in pairs
        )
    )
    return [
        {"purpose": p, "channel": c, "answer": a["contactCheck"]}
        for (p, c), a in zip(pairs, answers, strict=True)
    ]


@web.action(Role.STEWARD)
async def undo_merge(request: Request) -> Response:
    person_id = request.path_params["person_id"]
    note = (await web.form_value(request, "note"))[:2000]
    try:
        await web.ask(
            request, "UndoMerge", decisionId=request.path_params["decision_id"], note=note
        )
    except GatewayError as exc:
        if exc.code not in {"CONFLICT", "BAD_USER_INPUT"}:
            raise
        web.session(request)["flash"] = {"kind": "warning", "text": exc.message}
        return web.redirect(request, f"/persons/{person_id}")
    web.session(request)["flash"] = {
        "kind": "success",
        "text": _(
            "The merge was undone: both persons exist again, and the pair will not be "
            "proposed again."
        ),
    }
    return web.redirect(request, f"/persons/{person_id}")


routes = [
    Route("/persons", search),
    Route("/persons/{person_id}", person_page),
    Route("/persons/{person_id}/merges/{decision_id}/undo", undo_merge, methods=["POST"]),
]
