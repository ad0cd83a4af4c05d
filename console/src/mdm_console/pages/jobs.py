"""Matching's background jobs: start a re-match or a training, watch it run."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mdm_common.auth import Role
from mdm_console import web
from mdm_console.i18n import _

RUNNING = {"QUEUED", "RUNNING"}


@web.page(Role.STEWARD)
async def jobs_page(request: Request) -> Response:
    data = await web.ask(request, "Jobs")
    training_id = web.session(request).get("training_job")
    training = None
    if training_id:
        training = (await web.ask(request, "TrainingJob", id=training_id))["matchTrainingJob"]
    return web.render(
        request,
        "jobs/jobs.html",
        {
            "jobs": data["rematchJobs"],
            "subjects": data["matchSubjectCount"],
            "training": training,
            "running": RUNNING,
        },
    )


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


routes = [
    Route("/jobs", jobs_page),
    Route("/jobs/rematch", start_rematch, methods=["POST"]),
    Route("/jobs/rematch/{job_id}", rematch_job),
    Route("/jobs/training", start_training, methods=["POST"]),
    Route("/jobs/training/{job_id}", training_job),
]
