"""Training the company model on the stored companies, as part of the training job.

As for persons, without labels: EM in sessions (``engine/companies/model.train``) on
every company as it was first seen, merged-away ones included: a company's first
values are its first record's own, as a source sent it. Its values now are its golden
record, which after a merge holds both sources' values, so the pairs of a survivor
and a company merged into it would agree on nearly everything, and EM would learn that
duplicates agree exactly (measured in process on the German generator: the m of a name
one typo apart fell from 0.22 to 0.003, and such a pair from 0.9985 to 0.915; see
docs/benchmarks.md). The model replaces the current one, and every active company is
matched again with it: an ingest's companies were matched one after another with the
model of that time, and a duplicate that only the new model is sure of would
otherwise stay apart until one of the two changes. Below ``MIN_COMPANIES`` nothing is
trained: EM on a few hundred companies learns their accidents, and the default model's
guesses serve better.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from mdm_matching.domain.company_matching import CompanyScorers, match_companies
from mdm_matching.domain.company_ports import CompanyProfiles
from mdm_matching.domain.engine.companies import blocking
from mdm_matching.domain.engine.companies.model import train
from mdm_matching.domain.online import Policy
from mdm_matching.domain.stores import Stores, Transactions

MIN_COMPANIES = 1_000
PAGE = 5_000  # companies read in one transaction
REMATCH_PAGE = 500  # companies matched again in one pass


@dataclass(frozen=True)
class CompanyTraining:
    companies: int  # trained on (merged-away ones included)
    version: str | None  # None: too few companies, the model is unchanged
    rematched: int = 0


T = TypeVar("T")


async def _pages(
    transactions: Transactions,
    read_page: Callable[[Stores, str], Awaitable[list[T]]],
    key: Callable[[T], str],
) -> list[T]:
    found: list[T] = []
    while True:

        async def read(stores: Stores, after: str = key(found[-1]) if found else "") -> list[T]:
            return await read_page(stores, after)

        page = await transactions.read(read)
        found += page
        if len(page) < PAGE:
            return found


async def train_companies(
    *,
    profiles: CompanyProfiles,
    transactions: Transactions,
    policy: Policy,
    version: str,
    now: datetime,
    min_companies: int = MIN_COMPANIES,
) -> CompanyTraining:
    """Train, store, and match every active company again with the new model."""
    records = await _pages(
        transactions,
        lambda stores, after: stores.companies.first_seen_page(after=after, limit=PAGE),
        key=lambda record: record.id,
    )
    if len(records) < min_companies:
        return CompanyTraining(len(records), None)
    parameters = train(records, list(blocking.candidate_pairs(records, max_block=policy.max_block)))
    parameters.version, parameters.trained_on_companies = version, len(records)
    await transactions.write(lambda s: s.companies.save_model(parameters, at=now))
    active = await _pages(
        transactions,
        lambda stores, after: stores.companies.active_ids_page(after=after, limit=PAGE),
        key=lambda company_id: company_id,
    )
    scorers = CompanyScorers()
    for start in range(0, len(active), REMATCH_PAGE):
        await match_companies(
            active[start : start + REMATCH_PAGE],
            profiles=profiles,
            transactions=transactions,
            policy=policy,
            now=now,
            scorers=scorers,
        )
    return CompanyTraining(len(records), version, len(active))
