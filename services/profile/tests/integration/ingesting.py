"""One source record through the profile's ingestion on the real graph, for tests that
need a stored person to work on."""

from __future__ import annotations

from datetime import datetime

from mdm_common.graph import GraphClient
from mdm_profile.adapters.employment_store import GraphEmploymentStore
from mdm_profile.adapters.graph_store import GraphPersonStore
from mdm_profile.adapters.household_store import GraphHouseholdStore
from mdm_profile.adapters.privacy_store import GraphSuppressionList
from mdm_profile.domain import people
from mdm_profile.domain.records import RawRecord
from mdm_profile.domain.sources import SourceRegistry

from .events import Recorder
from .suppression import SUPPRESSOR


async def ingest_one(
    graph: GraphClient, source: str, raw: RawRecord, *, sources: SourceRegistry, now: datetime
) -> str:
    """The id of the person ``raw`` was stored as (a refusal fails the test)."""
    ingestion = await graph.write(
        lambda tx: people.ingest(
            source,
            [raw],
            store=GraphPersonStore(tx),
            households=GraphHouseholdStore(tx),
            employers=GraphEmploymentStore(tx),
            sources=sources,
            events=Recorder(),
            suppressor=SUPPRESSOR,
            suppressions=GraphSuppressionList(tx),
            now=now,
        )
    )
    [outcome] = ingestion.outcomes
    return outcome.person_id
