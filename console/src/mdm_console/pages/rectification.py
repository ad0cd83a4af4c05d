"""Rectification (GDPR Art. 16, 19) for stewards: the queue of requests waiting for a
decision, one request with the value the person asks for and the source systems to
tell, and the decision with its reason (the profile applies an approved value)."""

from __future__ import annotations

import json
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
from mdm_console.templating import code_words

ROLES = (Role.STEWARD, Role.COMPLIANCE)
STATUSES = ("OPEN", "IN_PROGRESS", "COMPLETED", "REJECTED")
ALL = "all"
DECISIONS = {"approve": True, "reject": False}
MAX_TEXT = 2000
# A steward may not read a request by id (dataSubjectRequest is compliance only); the
# request is looked up in the queue, waiting ones first, at most this many pages.
LOOKUP_PAGE = 200
LOOKUP_PAGES = 5
_FLASH = "flash"


@dataclass(frozen=True)
class QueueView:
    """The queue's status filter (OPEN by default: waiting for a decision) and page."""

    status: str = "OPEN"
    after: str = ""

    @classmethod
    def of(cls, request: Request) -> QueueView:
        q = request.query_params
        status = q.get("status", "OPEN")
        return cls(
            status=status if status in (*STATUSES, ALL) else "OPEN",
            after=q.get("after", "")[:80],
        )

    @property
    def variables(self) -> dict[str, Any]:
        return {
            "status": None if self.status == ALL else self.status,
            "after": self.after or None,
        }

    def query(self, **changes: str) -> str:
        values = {"status": self.status, "after": ""} | changes
        pairs = [(k, v) for k, v in values.items() if v and (k, v) != ("status", "OPEN")]
        return "/rectifications" + ("?" + urlencode(pairs) if pairs else "")


def asked(found: dict[str, Any]) -> dict[str, Any]:
    """What the person asks for, ready to show: an address (compact JSON) as its parts."""
    wanted = found.get("rectification") or {}
    value = wanted.get("value")
    address = None
    if wanted.get("field") == "address" and value:
        try:
            parsed = json.loads(value)
        except ValueError:
            parsed = None
        address = parsed if isinstance(parsed, dict) else None
    return {"field": wanted.get("field"), "value": value, "address": address}


def may_decide(found: dict[str, Any]) -> bool:
    """Open, or an approval still being applied (deciding to approve again resumes it)."""
    wanted = found.get("rectification") or {}
    if found["status"] == "OPEN":
        return True
    return found["status"] == "IN_PROGRESS" and wanted.get("value") is not None


def error_in_words(exc: GatewayError) -> tuple[str, str]:
    """The form field a refusal belongs to, and the message in the user's language."""
    if exc.field == "reason":
        return "reason", _("The reason needs 10 to 2,000 characters.")
    if exc.code == "BAD_USER_INPUT" and exc.field and exc.field != "id":
        # The profile refuses the value with its data-quality code.
        return "value", _(
            "The profile does not accept the value asked for ({reason}). Reject the "
            "request with the reason, and ask the person for the right value."
        ).format(reason=code_words(exc.reason) if exc.reason else exc.message)
    known = {
        "REQUEST_SETTLED": _("The request was decided meanwhile; its outcome is shown below."),
        "REQUEST_NOT_OPEN": _(
            "The approval is being applied; it cannot be rejected now. Approve again to finish it."
        ),
        "ERASED": _(
            "The person's data was erased; there is nothing to rectify. Reject the request "
            "with the reason."
        ),
    }
    return "decision", known.get(exc.reason or "", exc.message)


async def _queue_page(request: Request, view: QueueView, *, first: int) -> dict[str, Any]:
    data = await web.ask(
        request,
        "RectificationQueue",
        allow_missing=True,  # an erased person's request shows without a name
        first=first,
        **view.variables,
    )
    page: dict[str, Any] = data["rectificationRequests"]
    return page


async def find(request: Request, request_id: str) -> dict[str, Any]:
    """One rectification request: by id for compliance, from the queue for a steward."""
    if web.user(request).has_any({Role.COMPLIANCE}):
        data = await web.ask(request, "RectificationRequest", allow_missing=True, id=request_id)
        found: dict[str, Any] = data["dataSubjectRequest"]
        if found["type"] != "RECTIFICATION":
            raise GatewayError("NOT_FOUND", _("This request is not a rectification."))
        return found
    for status in STATUSES:  # waiting ones first: the steward's usual case
        after = None
        for _page in range(LOOKUP_PAGES):
            page = await _queue_page(
                request, QueueView(status=status, after=after or ""), first=LOOKUP_PAGE
            )
            for candidate in page["requests"]:
                if candidate["id"] == request_id:
                    return dict(candidate)
            if not page["hasNextPage"]:
                break
            after = page["endCursor"]
    raise GatewayError("NOT_FOUND", _("No rectification request with this id."))


@web.page(*ROLES)
async def queue(request: Request) -> Response:
    view = QueueView.of(request)
    page = await _queue_page(request, view, first=web.console(request).settings.page_size)
    rows = [r | {"asked": asked(r)} for r in page["requests"]]
    return web.render(
        request,
        "rectification/queue.html",
        {"view": view, "page": page, "rows": rows, "statuses": STATUSES, "all": ALL},
    )


def _detail(request: Request, found: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "dsr": found,
        "asked": asked(found),
        "may_decide": may_decide(found),
        "errors": {},
        "values": {},
        "flash": web.session(request).pop(_FLASH, None),
    } | extra


@web.page(*ROLES)
async def request_page(request: Request) -> Response:
    found = await find(request, request.path_params["request_id"])
    return web.render(request, "rectification/request.html", _detail(request, found))


@web.action(*ROLES)
async def decide(request: Request) -> Response:
    request_id = request.path_params["request_id"]
    choice = await web.form_value(request, "decision")
    reason = (await web.form_value(request, "reason"))[:MAX_TEXT]
    values = {"decision": choice, "reason": reason}
    status = 400
    if choice not in DECISIONS:
        problem = ("decision", _("Choose whether to approve or reject the rectification."))
    else:
        try:
            data = await web.ask(
                request,
                "DecideRectification",
                allow_missing=True,
                id=request_id,
                approve=DECISIONS[choice],
                reason=reason,
            )
        except GatewayError as exc:
            if exc.code not in {"BAD_USER_INPUT", "CONFLICT"}:
                raise
            problem = error_in_words(exc)
            status = 409 if exc.code == "CONFLICT" else 400
        else:
            decided = data["decideRectification"]["rectification"] or {}
            web.session(request)[_FLASH] = {
                "kind": "success",
                "text": _("The rectification was applied in the profile. Tell the recipients.")
                if decided.get("decision") == "APPROVED"
                else _("The rectification was rejected. Tell the person the reason."),
            }
            return web.redirect(request, f"/rectifications/{request_id}")
    found = await find(request, request_id)
    context = _detail(request, found, errors=dict([problem]), values=values)
    return web.render(request, "rectification/request.html", context, status=status)


routes = [
    Route("/rectifications", queue),
    Route("/rectifications/{request_id}", request_page),
    Route("/rectifications/{request_id}/decide", decide, methods=["POST"]),
]
