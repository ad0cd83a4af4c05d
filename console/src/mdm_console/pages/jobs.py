"""Background jobs: matching's re-match and training (stewards), and the consent
service's expiry runs (compliance: consents lapsed by their purpose's validity)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mdm_common.auth import Role
from mdm_console import web
from mdm_console.client import GatewayError
from mdm_console.i18n import _

RUNNING = {"QUEUED", "RUNNING"}


@web.page(Role.STEWARD, Role.COMPLIANCE)
async def jobs_page(request: Request) -> Response:
    return web.render(request, "jobs/jobs.html", await _jobs_context(request))


async def _jobs_context(request: Request) -> dict[str, Any]:
    """Each role sees its own jobs: matching's for stewards, expiry runs for compliance."""
    me = web.user(request)
    return {
        "running": RUNNING,
        "matching": await _matching(request) if me.has_any({Role.STEWARD}) else None,
        "expiry": await _expiry(request) if me.has_any({Role.COMPLIANCE}) else None,
    }


async def _matching(request: Request) -> dict[str, Any]:
    data = await web.ask(request, "Jobs")
    training_id = web.session(request).get("training_job")
    training = None
    if training_id:
        training = (await web.ask(request, "TrainingJob", id=training_id))["matchTrainingJob"]
    return {
        "jobs": data["rematchJobs"],
        "subjects": data["matchSubjectCount"],
        "training": training,
    }


async def _expiry(request: Request) -> dict[str, Any]:
    runs = (await web.ask(request, "ExpiryRuns"))["expiryRuns"]
    return {
        "runs": runs,
        "running": any(r["status"] == "RUNNING" for r in runs),
        "error": web.session(request).pop("expiry_error", None),
    }


@web.page(Role.STEWARD)
async def rematch_job(request: Request) -> Response:
    job = (await web.ask(request, "RematchJob", id=request.path_params["job_id"]))["rematchJob"]
    template = "jobs/_rematch.html" if web.is_htmx(request) else "jobs/rematch.html"
    return web.render(request, template, {"job": job, "running": RUNNING})


@web.page(Role.STEWARD)
async def training_job(request: Request) -> Response:
    job = await web.ask(request, "TrainingJob", id=request.path_params["job_id"])
    return web.render(
        request, "jobs/_training.html", {"training": job["matchTrainingJob"], "running": RUNNING}
    )


@web.action(Role.STEWARD)
async def start_rematch(request: Request) -> Response:
    raw = await web.form_value(request, "partitions", "4")
    if not raw.isdigit() or not 1 <= int(raw) <= 64:
        return web.error_page(
            request, code="BAD_USER_INPUT", detail=_("Partitions: a whole number from 1 to 64.")
        )
    job = (await web.ask(request, "StartRematch", partitions=int(raw)))["startRematch"]
    return web.redirect(request, f"/jobs/rematch/{job['id']}")


@web.action(Role.STEWARD)
async def start_training(request: Request) -> Response:
    job = (await web.ask(request, "StartTraining"))["startMatchTraining"]
    web.session(request)["training_job"] = job["id"]
    return web.redirect(request, "/jobs")


@web.page(Role.COMPLIANCE)
async def expiry_runs(request: Request) -> Response:
    """The expiry runs' fragment (a running run refreshes it every two seconds)."""
    return web.render(request, "jobs/_expiry.html", {"expiry": await _expiry(request)})


@web.action(Role.COMPLIANCE)
async def start_expiry(request: Request) -> Response:
    return await _expiry_action(request, "StartExpiryRun")


@web.action(Role.COMPLIANCE)
async def resume_expiry(request: Request) -> Response:
    return await _expiry_action(request, "ResumeExpiryRun", id=request.path_params["run_id"])


async def _expiry_action(request: Request, operation: str, **variables: Any) -> Response:
    """Start or resume a run; a run already running (or finished) is said in words."""
    try:
        await web.ask(request, operation, **variables)
    except GatewayError as exc:
        if exc.code != "CONFLICT":
            raise
        web.session(request)["expiry_error"] = {
            "RUN_IN_PROGRESS": _("An expiry run is running already; it goes on by itself."),
            "RUN_FINISHED": _("This run has finished; start a new one if needed."),
        }.get(exc.reason or "", exc.message)
    return web.redirect(request, "/jobs#expiry")


routes = [
    Route("/jobs", jobs_page),
    Route("/jobs/rematch", start_rematch, methods=["POST"]),
    Route("/jobs/rematch/{job_id}", rematch_job),
    Route("/jobs/training", start_training, methods=["POST"]),
    Route("/jobs/training/{job_id}", training_job),
    Route("/jobs/expiry", expiry_runs),
    Route("/jobs/expiry", start_expiry, methods=["POST"]),
    Route("/jobs/expiry/{run_id}/resume", resume_expiry, methods=["POST"]),
]
