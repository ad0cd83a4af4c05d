"""The re-consent worklist (GDPR Art. 7(1), UWG §7(2)): after a material change of a
purpose's notice, who must be asked for consent again on a channel, a page at a
time, and the whole list as CSV for the mailing system."""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mdm_common.auth import Role
from mdm_console import web
from mdm_console.i18n import _
from mdm_console.pages.compliance import safe_file_part

CHANNELS = ("EMAIL", "PHONE", "SMS", "POST", "PERSONALISED_WEB")
CSV_PAGE = 500  # the consent service's largest page
CSV_PAGES = 200  # at most 100,000 persons in one download


def worklist_url(purpose: str, channel: str, *, after: str = "", suffix: str = "") -> str:
    path = f"/purposes/{purpose}/reconsent/{channel}{suffix}"
    return path + ("?" + urlencode({"after": after}) if after else "")


def joined_csv(pages: list[str]) -> str:
    """The pages' CSV as one file (RFC 4180, CRLF): the header row once."""
    lines: list[str] = []
    for page in pages:
        rows = [row for row in page.split("\r\n") if row]
        lines.extend(rows if not lines else rows[1:])
    return "".join(line + "\r\n" for line in lines)


def _no_such_channel(request: Request) -> Response:
    return web.error_page(request, code="NOT_FOUND", detail=_("There is no such page."), status=404)


@web.page(Role.COMPLIANCE)
async def worklist(request: Request) -> Response:
    purpose, channel = request.path_params["purpose"], request.path_params["channel"]
    if channel not in CHANNELS:
        return _no_such_channel(request)
    after = request.query_params.get("after", "")[:80]
    data = await web.ask(
        request,
        "ReconsentWorklist",
        purpose=purpose,
        channel=channel,
        first=web.console(request).settings.page_size,
        after=after or None,
    )
    found = data["reconsentWorklist"]
    return web.render(
        request,
        "reconsent/worklist.html",
        {
            "purpose": data["purpose"],
            "channel": channel,
            "found": found,
            "after": after,
            "first_page": worklist_url(purpose, channel),
            "next_page": worklist_url(purpose, channel, after=found["endCursor"] or "")
            if found["hasNextPage"]
            else None,
            "csv_url": worklist_url(purpose, channel, suffix=".csv"),
        },
    )


@web.page(Role.COMPLIANCE)
async def worklist_csv(request: Request) -> Response:
    """The whole list as one CSV file: the pages joined, the header row once."""
    purpose, channel = request.path_params["purpose"], request.path_params["channel"]
    if channel not in CHANNELS:
        return _no_such_channel(request)
    pages: list[str] = []
    after = None
    generated = ""
    for _page in range(CSV_PAGES):
        found = (
            await web.ask(
                request,
                "ReconsentWorklistCsv",
                purpose=purpose,
                channel=channel,
                first=CSV_PAGE,
                after=after,
            )
        )["reconsentWorklist"]
        generated = generated or str(found["generatedAt"])[:10]
        pages.append(found["csv"])
        if not found["hasNextPage"]:
            break
        after = found["endCursor"]
    parts = (purpose, channel.lower(), generated)
    name = "reconsent-" + "-".join(safe_file_part(p) for p in parts) + ".csv"
    return Response(
        joined_csv(pages),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="{name}"'},
    )


routes = [
    # The download first: "{channel}" would match "EMAIL.csv" too.
    Route("/purposes/{purpose}/reconsent/{channel}.csv", worklist_csv),
    Route("/purposes/{purpose}/reconsent/{channel}", worklist),
]
