"""Data-subject requests (GDPR Art. 15, 16, 17, 18, 20): the list with due dates, a
request with its steps and deadline, its actions, and the export of an access or
portability request. A rectification is decided on its own page (pages/rectification.py)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mdm_common.auth import Role
from mdm_console import web
from mdm_console.client import GatewayError
from mdm_console.i18n import _
from mdm_console.pages.compliance import parse_moment, person_or_none, safe_file_part
from mdm_console.pages.rectification import asked

TYPES = ("ACCESS", "PORTABILITY", "ERASURE", "RESTRICTION", "RECTIFICATION", "OBJECTION")
# The golden fields a rectification may correct (the consent service's list).
RECTIFIABLE = (
    "givenName",
    "familyName",
    "salutation",
    "birthDate",
    "email",
    "phone",
    "address",
    "language",
)
STATUSES = ("OPEN", "IN_PROGRESS", "COMPLETED", "REJECTED")
RECEIVED_VIA = ("EMAIL", "LETTER", "WEB_FORM", "PHONE", "IN_PERSON")
IDENTITY_CHECKS = ("ACCOUNT_LOGIN", "ID_DOCUMENT", "CONFIRMED_CONTACT", "KNOWN_DETAILS")
EXPORTS = {"json": "JSON", "csv": "CSV"}
EXPECTED = {"BAD_USER_INPUT", "CONFLICT"}
MAX_TEXT = 2000
_FLASH = "flash"
PERSON_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@dataclass(frozen=True)
class RequestFilters:
    status: str = ""
    type: str = ""
    overdue: bool = False
    # One person's requests (an officer answering a letter looks the person up).
    person_id: str = ""
    after: str = ""

    @classmethod
    def of(cls, request: Request) -> RequestFilters:
        q = request.query_params
        person_id = q.get("personId", "").strip()
        return cls(
            status=q.get("status", "") if q.get("status") in STATUSES else "",
            type=q.get("type", "") if q.get("type") in TYPES else "",
            overdue=q.get("overdue") == "1",
            person_id=person_id if PERSON_ID.fullmatch(person_id) else "",
            after=q.get("after", "")[:80],
        )

    def query(self, **changes: Any) -> str:
        values = {
            "status": self.status,
            "type": self.type,
            "overdue": "1" if self.overdue else "",
            "personId": self.person_id,
            "after": "",
        } | changes
        pairs = [(k, v) for k, v in values.items() if v]
        return "/requests" + ("?" + urlencode(pairs) if pairs else "")


def _choices() -> dict[str, Any]:
    return {
        "types": TYPES,
        "statuses": STATUSES,
        "received_via": RECEIVED_VIA,
        "identity_checks": IDENTITY_CHECKS,
        "rectifiable": RECTIFIABLE,
    }


async def _list_context(request: Request) -> dict[str, Any]:
    filters = RequestFilters.of(request)
    data = await web.ask(
        request,
        "DataSubjectRequests",
        allow_missing=True,  # an erased person's request shows without a name
        status=filters.status or None,
        type=filters.type or None,
        overdueOnly=filters.overdue,
        personId=filters.person_id or None,
        first=web.console(request).settings.page_size,
        after=filters.after or None,
    )
    found = data["dataSubjectRequests"]
    return {"filters": filters, "page": found, "requests": found["requests"]} | _choices()


@web.page(Role.COMPLIANCE)
async def request_list(request: Request) -> Response:
    context = await _list_context(request)
    form = {"person": request.query_params.get("person", "").strip()[:80]}
    return web.render(
        request,
        "requests/list.html",
        context
        | {"form": form, "form_error": None, "flash": web.session(request).pop(_FLASH, None)},
    )


@web.action(Role.COMPLIANCE)
async def submit(request: Request) -> Response:
    form = {
        name: await web.form_value(request, name)
        for name in (
            "person",
            "type",
            "received_via",
            "identity_check",
            "received_at",
            "note",
            "field",
            "value",
        )
    }
    form["note"] = form["note"][:MAX_TEXT]
    form["value"] = form["value"][:MAX_TEXT]
    rectifying = form["type"] == "RECTIFICATION"
    problem = None
    moment = parse_moment(form["received_at"])
    if not form["person"]:
        problem = _("Enter the person id.")
    elif form["type"] not in TYPES:
        problem = _("Choose the type of request.")
    elif form["received_via"] not in RECEIVED_VIA:
        problem = _("Choose how the request was received.")
    elif form["identity_check"] not in IDENTITY_CHECKS:
        problem = _("Choose how the requester's identity was checked.")
    elif form["received_at"] and moment is None:
        problem = _("The time of receipt is not a date and time.")
    elif rectifying and (form["field"] not in RECTIFIABLE or not form["value"]):
        problem = _("A rectification names the field to correct and the correct value.")
    if problem is None:
        try:
            data = await web.ask(
                request,
                "SubmitDataSubjectRequest",
                input={
                    "personId": form["person"],
                    "type": form["type"],
                    "receivedVia": form["received_via"],
                    "identityCheck": form["identity_check"],
                    "receivedAt": moment.isoformat() if moment else None,
                    "note": form["note"] or None,
                    "rectification": {"field": form["field"], "value": form["value"]}
                    if rectifying
                    else None,
                },
            )
        except GatewayError as exc:
            if exc.code not in EXPECTED | {"NOT_FOUND"}:
                raise
            problem = exc.message
        else:
            web.session(request)[_FLASH] = {
                "kind": "success",
                "text": _("The request was recorded; it is due one calendar month after receipt."),
            }
            return web.redirect(request, f"/requests/{data['submitDataSubjectRequest']['id']}")
    context = await _list_context(request)
    return web.render(
        request,
        "requests/list.html",
        context | {"form": form, "form_error": problem, "flash": None},
        status=400,
    )


def erasure_answer(found: dict[str, Any]) -> dict[str, Any] | None:
    """What an erasure removed and what retention duties keep, restricted, instead
    (Art. 17(3)(b), (e)): per service the categories erased, and every held item with
    its duty and end, the one held longest last."""
    if found["type"] != "ERASURE" or not found["steps"]:
        return None
    erased = [(s["service"], s["erased"]) for s in found["steps"] if s["erased"]]
    kept = sorted(
        (r for s in found["steps"] for r in s["restricted"]),
        key=lambda r: (r["until"], r["service"], r["what"]),
    )
    return {"erased": erased, "restricted": kept, "held_until": kept[-1]["until"] if kept else None}


async def _detail_context(request: Request, request_id: str) -> dict[str, Any]:
    found = (await web.ask(request, "DataSubjectRequestDetail", id=request_id))[
        "dataSubjectRequest"
    ]
    person = await person_or_none(request, found["personId"])
    settled = found["status"] in {"COMPLETED", "REJECTED"}
    return {
        "dsr": found,
        "person": person,
        "asked": asked(found),
        "erasure": erasure_answer(found),
        "may_carry_out": found["type"] in {"ERASURE", "RESTRICTION"} and not settled,
        "may_extend": not settled and sum(e["months"] for e in found["extensions"]) < 2,
        "may_reject": not settled,
        "may_lift": found["type"] == "RESTRICTION"
        and found["status"] == "COMPLETED"
        and not found["liftedAt"],
        "may_export": found["type"] in {"ACCESS", "PORTABILITY"} and found["status"] != "REJECTED",
        "errors": {},
        "values": {},
        "flash": web.session(request).pop(_FLASH, None),
    }


@web.page(Role.COMPLIANCE)
async def request_page(request: Request) -> Response:
    context = await _detail_context(request, request.path_params["request_id"])
    return web.render(request, "requests/detail.html", context)


async def _act(
    request: Request, form: str, operation: str, done: str, **variables: Any
) -> Response:
    """Run one of a request's actions; an expected refusal is shown next to its form."""
    request_id = request.path_params["request_id"]
    try:
        await web.ask(request, operation, id=request_id, **variables)
    except GatewayError as exc:
        if exc.code not in EXPECTED:
            raise
        context = await _detail_context(request, request_id)
        context["errors"] = {form: exc.message}
        context["values"] = {form: variables}
        status = 409 if exc.code == "CONFLICT" else 400
        return web.render(request, "requests/detail.html", context, status=status)
    web.session(request)[_FLASH] = {"kind": "success", "text": done}
    return web.redirect(request, f"/requests/{request_id}")


@web.action(Role.COMPLIANCE)
async def carry_out(request: Request) -> Response:
    return await _act(
        request,
        "carry_out",
        "CarryOutDataSubjectRequest",
        _("The request was carried out in every service; the steps below are the proof."),
    )


@web.action(Role.COMPLIANCE)
async def extend(request: Request) -> Response:
    months_text = await web.form_value(request, "months")
    months = int(months_text) if months_text in {"1", "2"} else 0
    reason = (await web.form_value(request, "reason"))[:MAX_TEXT]
    return await _act(
        request,
        "extend",
        "ExtendDataSubjectRequest",
        _("The deadline was extended. Tell the person why, within the first month."),
        months=months,
        reason=reason,
    )


@web.action(Role.COMPLIANCE)
async def reject(request: Request) -> Response:
    reason = (await web.form_value(request, "reason"))[:MAX_TEXT]
    return await _act(
        request,
        "reject",
        "RejectDataSubjectRequest",
        _("The request was rejected with your reason."),
        reason=reason,
    )


@web.action(Role.COMPLIANCE)
async def lift(request: Request) -> Response:
    reason = (await web.form_value(request, "reason"))[:MAX_TEXT]
    return await _act(
        request,
        "lift",
        "LiftRestriction",
        _("The restriction was lifted."),
        reason=reason,
    )


@web.page(Role.COMPLIANCE)
async def export(request: Request) -> Response:
    """The export as a file download (audited by the gateway; the first one
    completes the request)."""
    request_id = request.path_params["request_id"]
    suffix = request.path_params["suffix"]
    if suffix not in EXPORTS:
        return web.error_page(
            request, code="NOT_FOUND", detail=_("There is no such page."), status=404
        )
    data = await web.ask(request, "DataSubjectExport", requestId=request_id, format=EXPORTS[suffix])
    found = data["dataSubjectExport"]
    media_type = found["mediaType"]
    if media_type.startswith("text/") and "charset" not in media_type:
        media_type += "; charset=utf-8"
    name = f"data-subject-request-{safe_file_part(found['requestId'])}.{suffix}"
    return Response(
        found["content"],
        media_type=media_type,
        headers={
            "content-disposition": f'attachment; filename="{name}"',
            "x-content-sha256": found["sha256"],
        },
    )


routes = [
    Route("/requests", request_list),
    Route("/requests", submit, methods=["POST"]),
    Route("/requests/{request_id}", request_page),
    Route("/requests/{request_id}/export.{suffix}", export),
    Route("/requests/{request_id}/carry-out", carry_out, methods=["POST"]),
    Route("/requests/{request_id}/extend", extend, methods=["POST"]),
    Route("/requests/{request_id}/reject", reject, methods=["POST"]),
    Route("/requests/{request_id}/lift", lift, methods=["POST"]),
]
