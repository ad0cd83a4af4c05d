"""The purpose registry with every notice version's exact text, the records of
processing (GDPR Art. 30) as a table, as CSV and as JSON, and the retention duties
an erasure respects (Art. 17(3))."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mdm_common.auth import Role
from mdm_console import web
from mdm_console.pages.compliance import safe_file_part


@web.page(Role.COMPLIANCE)
async def purpose_list(request: Request) -> Response:
    purposes = (await web.ask(request, "PurposeRegistry"))["purposes"]
    for purpose in purposes:
        # Newest version first: the one a form shows today.
        purpose["notices_newest_first"] = list(reversed(purpose["notices"]))
    return web.render(request, "purposes/list.html", {"purposes": purposes})


@web.page(Role.COMPLIANCE)
async def records(request: Request) -> Response:
    found = (await web.ask(request, "RecordsOfProcessing"))["recordsOfProcessing"]
    return web.render(request, "purposes/records.html", {"found": found})


@web.page(Role.COMPLIANCE)
async def duties(request: Request) -> Response:
    found = (await web.ask(request, "RetentionDuties"))["retentionDuties"]
    return web.render(request, "purposes/duties.html", {"duties": found})


@web.page(Role.COMPLIANCE)
async def records_csv(request: Request) -> Response:
    found = (await web.ask(request, "RecordsOfProcessingCsv"))["recordsOfProcessing"]
    return _download(found, found["csv"], "csv", "text/csv; charset=utf-8")


@web.page(Role.COMPLIANCE)
async def records_json(request: Request) -> Response:
    found = (await web.ask(request, "RecordsOfProcessingJson"))["recordsOfProcessing"]
    return _download(found, found["json"], "json", "application/json")


def _download(found: dict[str, str], content: str, suffix: str, media_type: str) -> Response:
    day = safe_file_part(str(found["generatedAt"])[:10])
    name = f"records-of-processing-{day}.{suffix}"
    return Response(
        content,
        media_type=media_type,
        headers={"content-disposition": f'attachment; filename="{name}"'},
    )


routes = [
    Route("/purposes", purpose_list),
    Route("/purposes/records", records),
    Route("/purposes/records.csv", records_csv),
    Route("/purposes/records.json", records_json),
    Route("/purposes/duties", duties),
]
