"""The compliance officer's contact check and a person's consent history with its
proof (every event, the exact notice text agreed to, the merges), also as a
printable document."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mdm_common.auth import Role
from mdm_console import web
from mdm_console.client import GatewayError
from mdm_console.i18n import _

MAX_SEARCH = 10


async def person_or_none(request: Request, person_id: str) -> dict[str, Any] | None:
    """The person's golden record, or None if the profile no longer has it
    (erased) or never had it."""
    try:
        found: dict[str, Any] = (await web.ask(request, "CompliancePerson", id=person_id))["person"]
    except GatewayError as exc:
        if exc.code not in {"NOT_FOUND", "BAD_USER_INPUT"}:
            raise
        return None
    return found


def parse_moment(text: str) -> datetime | None:
    """A ``datetime-local`` value, read as UTC; None if empty or unreadable."""
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


# --- the contact check ----------------------------------------------------------


@web.page(Role.COMPLIANCE)
async def contact_check(request: Request) -> Response:
    q = request.query_params
    person_id = q.get("person", "").strip()[:80]
    name = q.get("name", "").strip()[:80]
    email = q.get("email", "").strip()[:200]
    at_text = q.get("at", "").strip()[:40]
    purposes = (await web.ask(request, "ContactCheckPurposes"))["purposes"]
    by_code = {p["code"]: p for p in purposes}
    purpose = by_code.get(q.get("purpose", "")) or (purposes[0] if purposes else None)
    channels = purpose["channels"] if purpose else []
    channel = q.get("channel", "") if q.get("channel") in channels else ""
    if not channel and channels:
        channel = channels[0]
    context: dict[str, Any] = {
        "purposes": purposes,
        "purpose": purpose,
        "channels": channels,
        "channel": channel,
        "person_id": person_id,
        "name": name,
        "email": email,
        "at": at_text,
        "found": None,
        "person": None,
        "answer": None,
        "problem": None,
    }
    if not person_id and (name or email):
        data = await web.ask(
            request,
            "ComplianceFindPersons",
            name=name or None,
            email=email or None,
            first=MAX_SEARCH,
        )
        found = [e["node"] for e in data["searchPersons"]["edges"]]
        context["found"] = found
        context["more_found"] = data["searchPersons"]["pageInfo"]["hasNextPage"]
        context["choose"] = {p["id"]: _check_url(p["id"], purpose, channel, at_text) for p in found}
        if len(found) == 1:
            # One person: answer for them, and show their id in the form instead.
            person_id = found[0]["id"]
            context |= {"name": "", "email": ""}
    moment = parse_moment(at_text)
    if at_text and moment is None:
        context["problem"] = _("The time is not a date and time.")
    elif person_id and purpose and channel:
        person, answer = await asyncio.gather(
            person_or_none(request, person_id),
            _answer(request, person_id, purpose["code"], channel, moment),
        )
        context |= {"person": person, "answer": answer["answer"], "problem": answer["problem"]}
        context["person_id"] = person_id
    elif person_id:
        context["person"] = await person_or_none(request, person_id)
        context["person_id"] = person_id
    return web.render(request, "compliance/contact_check.html", context)


async def _answer(
    request: Request, person_id: str, purpose: str, channel: str, at: datetime | None
) -> dict[str, Any]:
    try:
        data = await web.ask(
            request,
            "ContactCheckAnswer",
            id=person_id,
            purpose=purpose,
            channel=channel,
            at=at.isoformat() if at else None,
        )
    except GatewayError as exc:
        if exc.code not in {"BAD_USER_INPUT", "NOT_FOUND"}:
            raise
        return {"answer": None, "problem": exc.message}
    return {"answer": data["contactCheck"], "problem": None}


def _check_url(person_id: str, purpose: dict[str, Any] | None, channel: str, at: str) -> str:
    pairs = [("person", person_id)]
    if purpose:
        pairs.append(("purpose", purpose["code"]))
        pairs.append(("channel", channel))
    if at:
        pairs.append(("at", at))
    return "/compliance?" + urlencode(pairs)


@web.page(Role.COMPLIANCE)
async def channel_choice(request: Request) -> Response:
    """The channel select for the chosen purpose (htmx swaps it into the form)."""
    purposes = (await web.ask(request, "ContactCheckPurposes"))["purposes"]
    by_code = {p["code"]: p for p in purposes}
    purpose = by_code.get(request.query_params.get("purpose", ""))
    channels = purpose["channels"] if purpose else []
    return web.render(
        request,
        "compliance/_channels.html",
        {"channels": channels, "channel": ""},
    )


# --- the consent history with its proof -----------------------------------------


@web.page(Role.COMPLIANCE)
async def consent_history(request: Request) -> Response:
    person_id = request.path_params["person_id"]
    person, data = await asyncio.gather(
        person_or_none(request, person_id), web.ask(request, "ConsentProof", id=person_id)
    )
    events = data["consentHistory"]
    notices = {(p["code"], n["version"]): n for p in data["purposes"] for n in p["notices"]}
    names = {p["code"]: p["name"] for p in data["purposes"]}
    confirmed_by = {e["confirms"]: e for e in events if e["type"] == "CONFIRMED" and e["confirms"]}
    by_id = {e["id"]: e for e in events}
    rows = []
    for event in events:  # newest first, as the consent service gives them
        notice = notices.get((event["purpose"], event["noticeVersion"]))
        rows.append(
            {
                "event": event,
                "purpose_name": names.get(event["purpose"] or ""),
                "notice": notice,
                "notice_matches": notice is not None and notice["sha256"] == event["noticeSha256"],
                "double_opt_in": _double_opt_in(event, confirmed_by, by_id),
            }
        )
    return web.render(
        request,
        "compliance/history.html",
        {
            "person_id": person_id,
            "person": person,
            "rows": rows,
            "merges": data["consentMerges"],
            "uses": data["contactUses"],
            "uses_not_compliant": sum(u["compliance"] != "COMPLIANT" for u in data["contactUses"]),
            "phone_proofs": data["phoneConsentProofs"],
            "purpose_names": names,
        },
    )


def _double_opt_in(
    event: dict[str, Any], confirmed_by: dict[str, dict[str, Any]], by_id: dict[str, Any]
) -> dict[str, Any] | None:
    """The double opt-in state an event is part of: a sent opt-in is confirmed (by
    which event) or still pending; a confirmation names the opt-in it confirms."""
    if event["id"] in confirmed_by:
        return {"state": "confirmed", "other": confirmed_by[event["id"]]}
    if event["type"] == "PENDING_DOUBLE_OPT_IN":
        return {"state": "pending", "other": None}
    if event["type"] == "CONFIRMED" and event["confirms"]:
        return {"state": "confirms", "other": by_id.get(event["confirms"]), "id": event["confirms"]}
    return None


@web.page(Role.COMPLIANCE)
async def consent_document(request: Request) -> Response:
    person_id = request.path_params["person_id"]
    person, data = await asyncio.gather(
        person_or_none(request, person_id), web.ask(request, "ConsentDocument", id=person_id)
    )
    document = data["consentHistoryDocument"]
    if request.url.path.endswith(".md"):
        name = f"consent-history-{safe_file_part(person_id)}.md"
        return Response(
            document["text"],
            media_type="text/markdown; charset=utf-8",
            headers={"content-disposition": f'attachment; filename="{name}"'},
        )
    return web.render(
        request,
        "compliance/document.html",
        {"person_id": person_id, "person": person, "document": document},
    )


def safe_file_part(text: str) -> str:
    """A file name part: letters, digits and dashes only."""
    return "".join(c for c in text if c.isascii() and (c.isalnum() or c == "-"))[:80] or "x"


routes = [
    Route("/compliance", contact_check),
    Route("/compliance/channels", channel_choice),
    Route("/compliance/persons/{person_id}", consent_history),
    Route("/compliance/persons/{person_id}/document", consent_document),
    Route("/compliance/persons/{person_id}/document.md", consent_document),
]
