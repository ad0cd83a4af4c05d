"""Training the match model on the data itself, as a job (no labels needed).

The model (m, u, prior, name frequencies) is estimated from the comparison
features of every subject, those merged away included (``subjects.
all_training_features``; ``engine.model.train``), and replaces the
current one; online matching uses it from its next decision on. A job is
idempotent: a redelivered job that finished does nothing; one that was
interrupted (worker killed) runs again from the start, which is safe because
training only reads until it stores the new model in one transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from mdm_common.contracts import Event
from mdm_matching.domain.company_ports import CompanyProfiles
from mdm_matching.domain.company_training import train_companies
from mdm_matching.domain.engine import blocking, model
from mdm_matching.domain.engine.batch_blocking import candidate_arrays
from mdm_matching.domain.engine.batch_comparisons import BatchComparisons
from mdm_matching.domain.engine.columns import RecordTable
from mdm_matching.domain.engine.features import MatchRecord
from mdm_matching.domain.engine.model import Parameters
from mdm_matching.domain.online import Policy
from mdm_matching.domain.stores import Stores, Transactions
from mdm_matching.domain.subjects import all_training_features


class JobStatus(StrEnum):
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    DONE = "DONE"
    FAILED = "FAILED"


@dataclass(frozen=True)
class TrainingJob:
    id: str
    status: JobStatus
    requested_by: str
    requested_at: datetime
    finished_at: datetime | None = None
    subjects: int = 0
    candidate_pairs: int = 0
    model_version: str | None = None
    error: str | None = None
    companies: int = 0  # the company model's training (company_training.py)
    company_model_version: str | None = None  # None: too few companies, not trained


async def request(job: TrainingJob, stores: Stores) -> None:
    """Queue a training job: stored and announced in one transaction."""
    await stores.subjects.create_job(job)
    stores.events.record(Event.MATCH_TRAINING_REQUESTED, job_id=job.id)


def train_on(
    records: Sequence[MatchRecord],
    *,
    max_block: int,
    version: str,
    now: datetime,
    keep_thresholds_of: Parameters | None = None,
) -> tuple[Parameters, int]:
    """A model trained on these records, and the number of candidate pairs it saw.

    Thresholds an admin calibrated for the model before (``keep_thresholds_of``)
    carry over: a retrained model must not drop them silently; the calibration of
    the new version shows whether they still fit (docs/matching.md).
    """
    comparisons = BatchComparisons(RecordTable.of(records))
    pairs = candidate_arrays(
        records, rules=blocking.RULES, max_block=max_block, rank=comparisons.table.rank
    )
    parameters = model.train(
        records,
        pairs,
        sessions=model.default_sessions(max_block=max_block),
        comparisons=comparisons,
    )
    parameters.version = version
    parameters.trained_on_subjects = len(records)
    parameters.trained_at = now.isoformat()
    if keep_thresholds_of is not None:
        parameters.review_at = keep_thresholds_of.review_at
        parameters.auto_merge_at = keep_thresholds_of.auto_merge_at
        parameters.unreviewed_guards = keep_thresholds_of.unreviewed_guards
    return parameters, len(pairs)


async def run_training(
    job_id: str,
    *,
    transactions: Transactions,
    profiles: CompanyProfiles,
    policy: Policy,
    now: datetime,
) -> TrainingJob | None:
    """The persons' model, then the companies' (stored, and every company matched
    again with it: ``company_training.py``)."""
    max_block = policy.max_block
    job = await transactions.read(lambda s: s.subjects.get_job(job_id))
    if job is None or job.status == JobStatus.DONE:
        return job
    await transactions.write(lambda s: s.subjects.update_job(job_id, status=JobStatus.RUNNING))
    records = await all_training_features(transactions)
    current = await transactions.read(lambda s: s.subjects.load_model())
    parameters, pairs = train_on(
        records, max_block=max_block, version=f"{now.isoformat()}/{job_id}", now=now,
        keep_thresholds_of=current,
    )  # fmt: skip

    await transactions.write(lambda s: s.subjects.save_model(parameters, at=now))
    companies = await train_companies(
        profiles=profiles,
        transactions=transactions,
        policy=policy,
        version=f"company/{now.isoformat()}/{job_id}",
        now=now,
    )

    async def store(stores: Stores) -> TrainingJob | None:
        await stores.subjects.update_job(
            job_id, status=JobStatus.DONE, finished_at=now, subjects=len(records),
            candidate_pairs=pairs, model_version=parameters.version,
            companies=companies.companies, company_model_version=companies.version,
        )  # fmt: skip
        return await stores.subjects.get_job(job_id)

    return await transactions.write(store)
