"""The steward's review queue and the task page: fetch, decide, render."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mdm_common.auth import Role
from mdm_console import web
from mdm_console.client import GatewayError
from mdm_console.i18n import _
from mdm_console.pages.wording import guards_in_words
from mdm_console.templating import day, one_line

REASONS = ("UNCERTAIN", "GUARDED", "AMBIGUOUS")
# Score bands a steward filters by: name -> (lowest, highest), both inclusive.
BANDS = {"high": (0.9, 1.0), "middle": (0.7, 0.9), "low": (0.0, 0.7)}
# Ages: name -> (at least, at most) days since the task was opened.
AGES = {"today": (None, 1), "week": (None, 7), "month": (None, 30), "older": (30, None)}
ORDERS = {
    "score": "PROBABILITY_DESC",
    "score_asc": "PROBABILITY_ASC",
    "oldest": "OLDEST_FIRST",
    "newest": "NEWEST_FIRST",
}
# What a pair is made of: name in the address bar -> the gateway's MatchSubjectKind.
KINDS = {"persons": "PERSON", "companies": "COMPANY"}
DECISIONS = {"MERGE", "NOT_A_MATCH", "DEFER"}
MAX_NOTE = 2000
_QUEUE_IDS = "queue_ids"
_QUEUE_URL = "queue_url"
_FLASH = "flash"


@dataclass(frozen=True)
class QueueFilters:
    """The queue's filters as the steward set them in the address bar."""

    reasons: tuple[str, ...] = ()
    band: str = ""
    age: str = ""
    source: str = ""
    mine: bool = False
    deferred: bool = False
    name: str = ""
    order: str = "score"
    after: str = ""
    kind: str = ""

    @classmethod
    def of(cls, request: Request) -> QueueFilters:
        q = request.query_params
        return cls(
            reasons=tuple(r for r in q.getlist("reason") if r in REASONS),
            band=q.get("band", "") if q.get("band") in BANDS else "",
            age=q.get("age", "") if q.get("age") in AGES else "",
            source=q.get("source", "").strip()[:80],
            mine=q.get("mine") == "1",
            deferred=q.get("deferred") == "1",
            name=q.get("name", "").strip()[:80],
            order=q.get("order", "score") if q.get("order") in ORDERS else "score",
            after=q.get("after", "")[:200],
            kind=q.get("kind", "") if q.get("kind") in KINDS else "",
        )

    @property
    def narrowed(self) -> bool:
        """Whether the view shows fewer tasks than its status holds."""
        return bool(
            self.reasons
            or self.band
            or self.age
            or self.source
            or self.mine
            or self.name
            or self.kind
        )

    def variables(self, *, me: str, first: int, now: datetime) -> dict[str, Any]:
        low, high = BANDS.get(self.band, (0.0, 1.0))
        min_days, max_days = AGES.get(self.age, (None, None))
        return {
            "reasons": list(self.reasons) or None,
            "statuses": ["DEFERRED"] if self.deferred else ["OPEN"],
            "minProbability": low,
            "maxProbability": high,
            "createdAfter": (now - timedelta(days=max_days)).isoformat() if max_days else None,
            "createdBefore": (now - timedelta(days=min_days)).isoformat() if min_days else None,
            "source": self.source or None,
            "assignedTo": me if self.mine else None,
            "name": self.name or None,
            "orderBy": ORDERS[self.order],
            "first": first,
            "after": self.after or None,
            "kind": KINDS.get(self.kind),
        }

    def query(self, **changes: Any) -> str:
        """The address of this queue view with some filters changed (paging reset)."""
        values: dict[str, Any] = {
            "reason": list(self.reasons),
            "band": self.band,
            "age": self.age,
            "source": self.source,
            "mine": "1" if self.mine else "",
            "deferred": "1" if self.deferred else "",
            "name": self.name,
            "order": "" if self.order == "score" else self.order,
            "kind": self.kind,
            "after": "",
        } | changes
        pairs = [
            (k, v) for k, vs in values.items() for v in (vs if isinstance(vs, list) else [vs]) if v
        ]
        return "/review" + ("?" + urlencode(pairs) if pairs else "")


@web.page(Role.STEWARD)
async def queue(request: Request) -> Response:
    me = web.user(request)
    filters = QueueFilters.of(request)
    settings = web.console(request).settings
    # A filter change swaps only the table: the counts by reason stay as they are.
    table_only = web.is_htmx(request) and request.headers.get("hx-target") == "queue-table"
    data = await web.ask(
        request,
        "ReviewQueue",
        allow_missing=True,
        **filters.variables(me=me.subject, first=settings.page_size, now=datetime.now(UTC)),
        withSummary=not table_only,
        withTotal=table_only or filters.narrowed,
    )
    page = data["reviewTasks"]
    summary = data.get("reviewQueueSummary")
    if "totalCount" not in page and summary is not None:
        page["totalCount"] = summary["deferred"] if filters.deferred else summary["open"]
    tasks = [with_both_sides(edge["node"]) for edge in page["edges"]]
    session = web.session(request)
    session[_QUEUE_IDS] = [t["id"] for t in tasks]
    session[_QUEUE_URL] = filters.query(after=filters.after)
    context = {
        "filters": filters,
        "tasks": tasks,
        "page": page,
        "summary": summary,
        "counts": {c["reason"]: c["count"] for c in summary["byReason"]} if summary else {},
        "reasons": REASONS,
        "queue_url": filters.query(),
    }
    template = "review/_queue_table.html" if table_only else "review/queue.html"
    return web.render(request, template, context)


async def _task_context(request: Request, task_id: str) -> dict[str, Any]:
    data = await web.ask(request, "ReviewTask", id=task_id, allow_missing=True)
    task = with_both_sides(data["reviewTask"])
    ids: list[str] = web.session(request).get(_QUEUE_IDS, [])
    position = ids.index(task_id) if task_id in ids else None
    previous_id = ids[position - 1] if position else None
    next_id = ids[position + 1] if position is not None and position + 1 < len(ids) else None
    a, b = (
        (_("Company A"), _("Company B"))
        if task["left"]["company"]
        else (_("Person A"), _("Person B"))
    )
    return {
        "task": task,
        "labels": [(task["left"], a), (task["right"], b)],
        "rows": comparison_rows(task),
        "guards": guards_in_words(task["conflicts"], task["explanation"]),
        "previous_id": previous_id,
        "next_id": next_id,
        "flash": web.session(request).pop(_FLASH, None),
        "me": web.user(request).subject,
    }


@web.page(Role.STEWARD)
async def task_page(request: Request) -> Response:
    context = await _task_context(request, request.path_params["task_id"])
    return web.render(request, "review/task.html", context)


@web.page(Role.STEWARD)
async def merge_preview(request: Request) -> Response:
    """What a merge of the pair would do (loaded into the task page)."""
    task = with_both_sides(
        (
            await web.ask(
                request, "ReviewPair", id=request.path_params["task_id"], allow_missing=True
            )
        )["reviewTask"]
    )
    if task["left"]["company"]:
        # The profile service has no field-by-field preview of a company merge: the
        # page says what the merge does, and which company survives.
        survivor, merged = survivor_first(task["left"], task["right"])
        return web.render(
            request,
            "review/_preview.html",
            {
                "company_merge": True,
                "survivor_label": _("Company A") if survivor is task["left"] else _("Company B"),
                "merged_label": _("Company A") if merged is task["left"] else _("Company B"),
            },
        )
    if task["left"]["missing"] or task["right"]["missing"]:
        return web.render(
            request,
            "review/_preview.html",
            {
                "preview_error": _(
                    "A person of this pair is no longer in the profile (erased): "
                    "there is nothing to merge. Close the task as not a duplicate."
                ),
            },
        )
    survivor, merged = survivor_first(task["left"], task["right"])
    try:
        data = await web.ask(
            request, "MergePreview", survivorId=survivor["id"], mergedId=merged["id"]
        )
    except GatewayError as exc:
        return web.render(request, "review/_preview.html", {"preview_error": exc.message})
    changes = data["mergeContactPreview"]
    return web.render(
        request,
        "review/_preview.html",
        {
            "preview": data["mergePreview"],
            "contact_changes": changes,
            "contact_changed": [c for c in changes if c["allowedBefore"] != c["allowedAfter"]],
            "survivor_label": _("Person A") if survivor is task["left"] else _("Person B"),
            "merged_label": _("Person A") if merged is task["left"] else _("Person B"),
        },
    )


# The fields a page reads of a person, for a side the profile no longer holds.
_NOBODY: dict[str, Any] = {
    "givenName": None,
    "familyName": None,
    "titles": [],
    "salutation": None,
    "birthDate": None,
    "email": None,
    "phone": None,
    "language": None,
    "createdAt": None,
    "address": None,
    "processingRestricted": False,
    "sourceRecords": [],
    "household": None,
    "employers": [],
}


# The fields a page reads of a company, for a side the profile does not know.
_NO_COMPANY: dict[str, Any] = {
    "name": None,
    "legalForm": None,
    "registrationNumber": None,
    "vatId": None,
    "lei": None,
    "domains": [],
    "phone": None,
    "email": None,
    "industryCode": None,
    "createdAt": None,
    "sources": [],
    "address": None,
    "parent": None,
}


def with_both_sides(task: dict[str, Any]) -> dict[str, Any]:
    """``left`` and ``right`` are the pair's two persons, or its two companies (kind
    COMPANY, marked ``company``). A side the profile no longer holds (an erased
    person) keeps its id, marked missing, so the pages show the pair and the steward
    can close it."""
    company = task.get("kind") == "COMPANY"
    for side in ("left", "right"):
        found = task.get(side + "Company") if company else task[side]
        blank = _NO_COMPANY if company else _NOBODY
        marks = {"company": company}
        task[side] = (
            found | marks | {"missing": False}
            if found is not None
            else blank | marks | {"id": task[side + "Id"], "missing": True}
        )
    return task


def survivor_first(
    left: dict[str, Any], right: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The profile created first survives (as matching decides a steward's merge)."""
    if (right["createdAt"], right["id"]) < (left["createdAt"], left["id"]):
        return right, left
    return left, right


@web.action(Role.STEWARD)
async def decide(request: Request) -> Response:
    task_id = request.path_params["task_id"]
    decision = await web.form_value(request, "decision")
    note = (await web.form_value(request, "note"))[:MAX_NOTE]
    if decision not in DECISIONS:
        return web.error_page(
            request, code="BAD_USER_INPUT", detail=_("Choose merge, not a duplicate or defer.")
        )
    try:
        await web.ask(request, "DecideReviewTask", id=task_id, decision=decision, note=note)
    except GatewayError as exc:
        if exc.code != "CONFLICT":
            raise
        # Another steward was faster, or the pair changed: say so and show the task
        # as it stands now.
        web.session(request)[_FLASH] = {"kind": "warning", "text": exc.message}
        return web.redirect(request, f"/review/tasks/{task_id}")
    return web.redirect(request, await _next_task_url(request, task_id))


async def _next_task_url(request: Request, done_id: str) -> str:
    """The next task of the steward's queue view; back to that view at its end. A
    task opened from elsewhere is followed by the first open task of the queue."""
    session = web.session(request)
    ids: list[str] = session.get(_QUEUE_IDS, [])
    if done_id in ids:
        rest = ids[ids.index(done_id) + 1 :]
        session[_QUEUE_IDS] = [i for i in ids if i != done_id]
        return f"/review/tasks/{rest[0]}" if rest else session.get(_QUEUE_URL, "/review")
    data = await web.ask(request, "NextReviewTasks", first=2)
    following = [
        e["node"]["id"] for e in data["reviewTasks"]["edges"] if e["node"]["id"] != done_id
    ]
    return f"/review/tasks/{following[0]}" if following else "/review"


@web.action(Role.STEWARD)
async def assign(request: Request) -> Response:
    await web.ask(request, "AssignReviewTask", id=request.path_params["task_id"])
    return web.redirect(request, await _back(request))


@web.action(Role.STEWARD)
async def release(request: Request) -> Response:
    await web.ask(request, "ReleaseReviewTask", id=request.path_params["task_id"])
    return web.redirect(request, await _back(request))


async def _back(request: Request) -> str:
    back = await web.form_value(request, "back")
    return back if back.startswith("/review") else "/review"


def comparison_rows(task: dict[str, Any]) -> list[dict[str, Any]]:
    """The two golden records field by field, each with its comparison's level and
    weight where the engine compared that field."""
    left, right = task["left"], task["right"]
    if left["company"]:
        return _company_rows(task)
    explained = {c["comparison"]: c for c in task["explanation"]}

    def row(label: str, comparison: str | None, a: Any, b: Any) -> dict[str, Any]:
        return _row(explained, label, comparison, a, b)

    return [
        row(_("Given name"), "givenName", left["givenName"], right["givenName"]),
        row(_("Family name"), "familyName", left["familyName"], right["familyName"]),
        row(_("Titles"), None, " ".join(left["titles"]), " ".join(right["titles"])),
        row(_("Birth date"), "birthDate", day(left["birthDate"]), day(right["birthDate"])),
        row(_("E-mail"), "email", left["email"], right["email"]),
        row(_("Phone"), "phone", left["phone"], right["phone"]),
        row(_("Address"), "address", one_line(left["address"]), one_line(right["address"])),
        row(_("Language"), None, left["language"], right["language"]),
    ]


def _row(
    explained: dict[str, dict[str, Any]], label: str, comparison: str | None, a: Any, b: Any
) -> dict[str, Any]:
    found = explained.get(comparison or "")
    return {
        "label": label,
        "left": a,
        "right": b,
        "level": found and found["level"],
        "weight": found["weight"] if found else None,
        "compared": found is not None,
    }


def _company_rows(task: dict[str, Any]) -> list[dict[str, Any]]:
    """The two companies' golden records, by what the company engine compares."""
    left, right = task["left"], task["right"]
    explained = {c["comparison"]: c for c in task["explanation"]}

    def row(label: str, comparison: str | None, field: str) -> dict[str, Any]:
        a, b = left[field], right[field]
        if isinstance(a, list) or isinstance(b, list):
            a, b = ", ".join(a or []), ", ".join(b or [])
        return _row(explained, label, comparison, a, b)

    return [
        row(_("Name"), "name", "name"),
        row(_("Legal form"), "legalForm", "legalForm"),
        row(_("Register entry"), "registerEntry", "registrationNumber"),
        row(_("VAT id"), "vatId", "vatId"),
        row(_("LEI"), "lei", "lei"),
        row(_("Web domains"), "domain", "domains"),
        _row(
            explained,
            _("Address"),
            "address",
            one_line(left["address"]),
            one_line(right["address"]),
        ),
        row(_("Phone"), None, "phone"),
        row(_("E-mail"), None, "email"),
        row(_("Industry"), None, "industryCode"),
    ]


routes = [
    Route("/review", queue),
    Route("/review/tasks/{task_id}", task_page),
    Route("/review/tasks/{task_id}/preview", merge_preview),
    Route("/review/tasks/{task_id}/decision", decide, methods=["POST"]),
    Route("/review/tasks/{task_id}/assign", assign, methods=["POST"]),
    Route("/review/tasks/{task_id}/release", release, methods=["POST"]),
]
