"""Celery tasks of the matching service: thin wrappers that call the domain.

Run a worker with ``celery -A mdm_matching.tasks worker -Q matching``. Task
arguments are ids only, never personal data.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from datetime import UTC, datetime
from itertools import groupby

from mdm_common.errors import Unavailable
from mdm_common.events import make_celery
from mdm_common.inbox import once_each
from mdm_common.subgraph_client import SubgraphClient
from mdm_common.worker import (
    RELIABLE_TASK,
    WorkerGraph,
    instrument_worker,
    message_id,
    run,
)
from mdm_matching.adapters.profile_client import ProfileClient
from mdm_matching.adapters.transactions import SCHEMA, GraphTransactions
from mdm_matching.adapters.waiting_events import (
    COMPANY_EVENT,
    COMPANY_MERGE_EVENT,
    MERGE_EVENT,
    matching_events,
)
from mdm_matching.domain import (
    company_matching,
    online,
    online_batch,
    rematch,
    subjects,
    training,
)
from mdm_matching.domain import rematch_sync as syncing
from mdm_matching.domain.rematch_merge import merge_phase
from mdm_matching.domain.stores import Stores
from mdm_matching.settings import MatchingSettings

log = logging.getLogger(__name__)

# Celery discovers the app at import (`celery -A mdm_matching.tasks`), so the
# settings are read here, once per worker process.
settings = MatchingSettings()
celery = make_celery(
    "matching",
    settings.broker_url,
    visibility_timeout_s=settings.broker_visibility_timeout_s,
    restore_interval_s=settings.broker_restore_interval_s,
)
instrument_worker(celery, service_name="matching-worker")


class _Worker:
    """Clients of one worker process, created on first use (inside its event loop)."""

    profiles: ProfileClient | None = None
    scorers = online.ScorerCache()
    company_scorers = company_matching.CompanyScorers()
    waiting = matching_events(celery, "matching")

    async def transactions(self) -> GraphTransactions:
        return GraphTransactions(await _graph.connect(), after_commit=_graph.after_commit)

    def profile_client(self) -> ProfileClient:
        if self.profiles is None:
            secret = settings.gateway_secret.get_secret_value().encode()
            self.profiles = ProfileClient(SubgraphClient(settings.profile_url, secret=secret))
        return self.profiles


_graph = WorkerGraph(settings, celery, SCHEMA)
_worker = _Worker()

# Every task here is idempotent: redelivery (late acks) changes nothing.
_RELIABLE = RELIABLE_TASK


@celery.task(name="matching.on_person_updated", **_RELIABLE)
def on_person_updated(person_id: str) -> None:
    """A person's records changed: match it again (rejected pairs stay rejected
    unless the change was material)."""
    _pass("matching.on_person_updated", {"person_id": person_id})


@celery.task(name="matching.on_person_created", **_RELIABLE)
def on_person_created(person_id: str) -> None:
    """Match a new person against the existing profiles and apply the decision."""
    _pass("matching.on_person_created", {"person_id": person_id})


@celery.task(name="matching.on_person_merged", **_RELIABLE)
def on_person_merged(survivor_id: str, merged_id: str, merge_id: str) -> None:
    """A person was merged away: it leaves the candidates; the survivor is re-read."""
    ids = {"survivor_id": survivor_id, "merged_id": merged_id, "merge_id": merge_id}
    _pass(MERGE_EVENT, ids)


def _pass(task: str, ids: dict[str, str]) -> None:
    """Handle this task's event together with the person and company events waiting
    behind it (``mdm_common.waiting_events``), in their order, each message once (the
    inbox)."""
    waiting = _worker.waiting.take(
        settings.online_batch - 1, apart_limit=settings.merge_events_per_pass
    )
    events = [(message_id(), task, ids), *((e.message_id, e.task, e.ids) for e in waiting)]

    async def handle() -> None:
        async def work(fresh: set[str]) -> None:
            # A message without an id (a direct call) is always fresh.
            todo = [(name, ids) for mid, name, ids in events if mid is None or mid in fresh]
            await _handle_in_order(todo)

        known = [mid for mid, _, _ in events if mid is not None]
        await once_each(await _graph.connect(), known, work)

    try:
        run(handle())
    except BaseException:
        _worker.waiting.give_back(waiting)
        raise
    _worker.waiting.done(waiting)


async def _handle_in_order(events: list[tuple[str, dict[str, str]]]) -> None:
    """Runs of one kind are handled together, in their order: persons created or
    updated are matched together, companies too; a merge between them is taken into
    account in its place."""
    for task, run_of in groupby(events, key=lambda event: _KIND.get(event[0], event[0])):
        group = [ids for _, ids in run_of]
        if task == MERGE_EVENT:
            await subjects.on_persons_merged(
                [(ids["merged_id"], ids["survivor_id"]) for ids in group],
                profiles=_worker.profile_client(),
                transactions=await _worker.transactions(),
                now=_now(),
            )
        elif task == COMPANY_MERGE_EVENT:
            await company_matching.on_companies_merged(
                [(ids["merged_id"], ids["survivor_id"]) for ids in group],
                profiles=_worker.profile_client(),
                transactions=await _worker.transactions(),
                now=_now(),
            )
        elif task == COMPANY_EVENT:
            await _match_companies([ids["company_id"] for ids in group])
        else:
            await _match_persons([ids["person_id"] for ids in group])


# Person creations and updates are one kind of run: both are matched.
_KIND = {"matching.on_person_updated": "matching.on_person_created"}


async def _match_persons(person_ids: list[str]) -> None:
    outcomes = await online_batch.match_persons(
        person_ids,
        profiles=_worker.profile_client(),
        transactions=await _worker.transactions(),
        policy=settings.policy,
        scorers=_worker.scorers,
        clock=_now,
    )
    log.info(
        "matched %d persons: %d merged, %d review tasks, slowest decision %.1f ms",
        len(outcomes),
        sum(1 for o in outcomes if o.merged_into is not None),
        sum(len(o.review_tasks) for o in outcomes),
        max((o.decision_ms for o in outcomes), default=0.0),
    )


async def _match_companies(company_ids: list[str]) -> None:
    outcomes = await company_matching.match_companies(
        company_ids,
        profiles=_worker.profile_client(),
        transactions=await _worker.transactions(),
        policy=settings.policy,
        now=_now(),
        scorers=_worker.company_scorers,
    )
    log.info(
        "matched %d companies: %d merged, %d review tasks",
        len(outcomes),
        sum(1 for o in outcomes if o.merged_into is not None),
        sum(len(o.review_tasks) for o in outcomes),
    )


@celery.task(name="matching.on_person_unmerged", **_RELIABLE)
def on_person_unmerged(survivor_id: str, merged_id: str, merge_id: str) -> None:
    """A merge was undone: both persons are subjects of their own again."""

    async def handle() -> None:
        await subjects.on_person_unmerged(
            survivor_id, merged_id, profiles=_worker.profile_client(),
            transactions=await _worker.transactions(), now=datetime.now(UTC),
        )  # fmt: skip

    run(_graph.once(handle))


@celery.task(name="matching.on_company_changed", **_RELIABLE)
def on_company_changed(company_id: str) -> None:
    """A company was created or its records changed: match it (``company_matching``),
    with the events waiting behind it."""
    _pass(COMPANY_EVENT, {"company_id": company_id})


@celery.task(name="matching.on_company_merged", **_RELIABLE)
def on_company_merged(survivor_id: str, merged_id: str, merge_id: str) -> None:
    """A company was merged away: it leaves the candidates; the survivor is re-read."""
    ids = {"survivor_id": survivor_id, "merged_id": merged_id, "merge_id": merge_id}
    _pass(COMPANY_MERGE_EVENT, ids)


@celery.task(name="matching.on_company_unmerged", **_RELIABLE)
def on_company_unmerged(survivor_id: str, merged_id: str, merge_id: str) -> None:
    """A company merge was undone: both are companies of their own again."""

    async def handle() -> None:
        await company_matching.on_company_unmerged(
            survivor_id,
            merged_id,
            profiles=_worker.profile_client(),
            transactions=await _worker.transactions(),
            now=_now(),
        )

    run(_graph.once(handle))


@celery.task(name="matching.train_model", **_RELIABLE)
def train_model(job_id: str) -> None:
    """Train the match model on all active subjects and make it the current one."""

    async def handle() -> None:
        transactions = await _worker.transactions()
        try:
            job = await training.run_training(
                job_id, transactions=transactions, profiles=_worker.profile_client(),
                policy=settings.policy, now=datetime.now(UTC),
            )  # fmt: skip
        except Unavailable:
            raise
        except Exception as exc:
            error = type(exc).__name__  # the type only: messages may quote data
            await transactions.write(lambda s: s.subjects.update_job(
                job_id, status=training.JobStatus.FAILED, error=error))  # fmt: skip
            raise
        if job is not None:
            log.info("training job %s: %s, %d subjects, %d pairs", job_id, job.status,
                     job.subjects, job.candidate_pairs)  # fmt: skip

    run(_graph.once(handle))


async def _guarded(
    job_id: str, work: Awaitable[rematch.RematchJob | None]
) -> rematch.RematchJob | None:
    """Run one step of a re-matching job; an unexpected error fails the job, which
    then waits for a steward's resume."""
    try:
        job = await work
    except Unavailable:
        raise  # retried by Celery
    except Exception as exc:
        error = type(exc).__name__  # the type only: messages may quote data
        await rematch.fail(job_id, error, transactions=await _worker.transactions())
        raise
    if job is not None:
        log.info("re-matching job %s: %s, %s, %.0f %%", job_id, job.status, job.phase,
                 job.progress * 100)  # fmt: skip
    return job


async def _hand_on(work: rematch.NextWork) -> None:
    """Queue what continues the job: announced in a transaction of its own, after the
    step that made it due committed (a step redelivered after a crash announces again;
    the job's own state makes the repeated step a no-op)."""

    async def announce(stores: Stores) -> None:
        work.announce(stores.events)

    await (await _worker.transactions()).write(announce)


@celery.task(name="matching.rematch_sync", **_RELIABLE)
def rematch_sync(job_id: str) -> None:
    """Phases 1 and 2 of a re-matching job: reconcile subjects, choose (or train) the
    model, then queue the partitions."""

    async def handle() -> None:
        transactions = await _worker.transactions()
        job = await _guarded(job_id, syncing.sync(
            job_id, profiles=_worker.profile_client(), transactions=transactions, now=_now(),
        ))  # fmt: skip
        if job is not None and job.phase == rematch.RematchPhase.TRAINING:
            job = await _guarded(
                job_id,
                rematch.choose_model(
                    job_id,
                    transactions=transactions,
                    rule=settings.model_rule,
                    max_block=settings.max_block,
                    now=_now(),
                ),
            )
        if job is None:
            return
        work = await transactions.read(lambda s: rematch.next_work(s, job))
        if not work.sync:
            await _hand_on(work)

    run(_graph.once(handle))


@celery.task(name="matching.rematch_partition", **_RELIABLE)
def rematch_partition(job_id: str, partition: str) -> None:
    """Phase 2: score one partition. Each scored partition asks for the merge phase,
    which goes ahead once all are scored (two partitions finishing at the same
    time could each miss the other's commit; the merge phase cannot)."""

    async def handle() -> None:
        job = await _guarded(job_id, rematch.score_partition(
            job_id, int(partition), transactions=await _worker.transactions(),
            policy=settings.policy, scorers=_worker.scorers,
        ))  # fmt: skip
        if job is not None and job.active and job.phase != rematch.RematchPhase.SYNCING:
            await _hand_on(rematch.NextWork(job, merge=True))

    run(_graph.once(handle))


@celery.task(name="matching.rematch_merge", **_RELIABLE)
def rematch_merge(job_id: str) -> None:
    """Phase 3: plan and apply the merges (waits until every partition is scored), a
    slice at a time: the rest is queued again behind the events that arrived meanwhile."""

    async def handle() -> None:
        job = await _guarded(job_id, merge_phase(
            job_id, profiles=_worker.profile_client(), transactions=await _worker.transactions(),
            policy=settings.policy, scorers=_worker.scorers, now=_now(),
            max_steps=settings.rematch_merges_per_task,
        ))  # fmt: skip
        if job is not None and job.active and job.phase == rematch.RematchPhase.MERGING:
            await _hand_on(rematch.NextWork(job, merge=True))

    run(_graph.once(handle))


def _now() -> datetime:
    return datetime.now(UTC)
