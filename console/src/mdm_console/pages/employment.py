"""People at companies for stewards: the person records whose employer is unsure (a
head office and its branches share a domain, two firms a name), and the steward's
choice of one company, or of none (the profile links the person)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mdm_common.auth import Role
from mdm_console import web
from mdm_console.client import GatewayError
from mdm_console.i18n import _

PAGE = 100
NONE = "none"
MAX_NOTE = 2000
_FLASH = "employment_flash"


@web.page(Role.STEWARD)
async def proposals_page(request: Request) -> Response:
    data = await web.ask(request, "EmploymentProposals", allow_missing=True, first=PAGE)
    return web.render(
        request,
        "employment/proposals.html",
        {
            "proposals": data["employmentProposals"],
            "flash": web.session(request).pop(_FLASH, None),
            "page_size": PAGE,
        },
    )


@web.action(Role.STEWARD)
async def decide(request: Request) -> Response:
    proposal_id = request.path_params["proposal_id"]
    chosen = await web.form_value(request, "company")
    note = (await web.form_value(request, "note"))[:MAX_NOTE]
    if not chosen:
        return web.error_page(
            request, code="BAD_USER_INPUT", detail=_("Choose a company, or none of them.")
        )
    company_id = None if chosen == NONE else chosen
    try:
        await web.ask(
            request,
            "DecideEmploymentProposal",
            id=proposal_id,
            companyId=company_id,
            noneOfThem=company_id is None,
            note=note,
        )
    except GatewayError as exc:
        if exc.code != "CONFLICT":
            raise
        # Another steward was faster: say so, the list shows what is left.
        web.session(request)[_FLASH] = {"kind": "warning", "text": exc.message}
        return web.redirect(request, "/employers")
    text = (
        _("The person now works for the company chosen.")
        if company_id
        else _("Noted: none of these companies. The record is not proposed again with them.")
    )
    web.session(request)[_FLASH] = {"kind": "ok", "text": text}
    return web.redirect(request, "/employers")


routes = [
    Route("/employers", proposals_page),
    Route("/employers/{proposal_id}/decision", decide, methods=["POST"]),
]
