"""Training the company model on the stored companies, as part of the training job.

As for persons, without labels: EM in sessions on the companies' own values
(``engine/companies/model.train``; merged-away companies included, they keep the
values their own records had and teach what a duplicate looks like). The model
replaces the current one, and every active company is matched again with it: an
ingest's companies were matched one after another with the model of that time, and a
duplicate that only the new model is sure of would otherwise stay apart until one of
the two changes. Below ``MIN_COMPANIES`` nothing is trained: EM on a few hundred
companies learns their accidents, and the default model's guesses serve better.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from mdm_matching.domain.company_matching import CompanyScorers, match_companies
from mdm_matching.domain.company_ports import CompanyProfiles
from mdm_matching.domain.engine.companies import blocking
from mdm_matching.domain.engine.companies.features import CompanyRecord
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


async def _records(transactions: Transactions, *, merged_away: bool) -> list[CompanyRecord]:
    found: list[CompanyRecord] = []
    while True:

        async def read(
            stores: Stores, after: str = found[-1].id if found else ""
        ) -> list[CompanyRecord]:
            return await stores.companies.records_page(
                after=after, limit=PAGE, merged_away=merged_away
            )

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
    records = await _records(transactions, merged_away=True)
    if len(records) < min_companies:
        return CompanyTraining(len(records), None)
    parameters = train(records, list(blocking.candidate_pairs(records, max_block=policy.max_block)))
    parameters.version, parameters.trained_on_companies = version, len(records)
    await transactions.write(lambda s: s.companies.save_model(parameters, at=now))
    active = [r.id for r in await _records(transactions, merged_away=False)]
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
