"""``bench/households.py --graph``: the same detection, through a graph server.

Ingests the records with the profile's ``people.ingest`` (batches of 500, one write
transaction each, detection through ``GraphHouseholdStore`` as in production), merges
each real person's records into one person with ``merging.merge``, and reads back the
active households. Returns them as sets of real persons.
"""

from __future__ import annotations

import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

import matching_data
from households import raw_record

from mdm_common.graph import GraphClient
from mdm_infra.platform import Platform, PlatformConfig, Ports, Secrets
from mdm_profile.adapters import (
    company_store,
    graph_store,
    household_store,
    merge_store,
    privacy_store,
)
from mdm_profile.adapters.employment_store import GraphEmploymentStore
from mdm_profile.adapters.graph_store import GraphPersonStore
from mdm_profile.adapters.household_store import GraphHouseholdStore
from mdm_profile.adapters.merge_store import GraphMergeStore
from mdm_profile.adapters.privacy_store import GraphSuppressionList
from mdm_profile.domain import merging, people
from mdm_profile.domain.golden import DEFAULT_RULES
from mdm_profile.domain.sources import SourceRegistry
from mdm_profile.domain.suppression import Suppressor
from mdm_profile.settings import DEFAULT_SOURCES


class _NoEvents:
    def record(self, event: str, **ids: str) -> None:
        pass


def _progress(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


async def _ingest(graph: GraphClient, data: matching_data.DataSet) -> dict[str, list[str]]:
    """Real person -> its persons in the graph (one per record so far), CRM's first."""
    sources = SourceRegistry(DEFAULT_SOURCES)
    suppressor = Suppressor(b"bench-suppression-key")
    persons: dict[str, list[str]] = defaultdict(list)
    for source, rows in data.sources.items():
        for start in range(0, len(rows), 500):
            batch = rows[start : start + 500]
            ingestion = await graph.write(
                lambda tx, batch=batch, source=source: people.ingest(
                    source,
                    [raw_record(r) for r in batch],
                    store=GraphPersonStore(tx),
                    households=GraphHouseholdStore(tx),
                    employers=GraphEmploymentStore(tx),
                    sources=sources,
                    events=_NoEvents(),
                    suppressor=suppressor,
                    suppressions=GraphSuppressionList(tx),
                    now=datetime.now(UTC),
                )
            )
            truth_of = {r["sourceId"]: r["truth"] for r in batch}
            for outcome in ingestion.outcomes:
                persons[truth_of[outcome.source_id]].append(outcome.person_id)
        _progress(f"ingested {len(rows)} {source} records")
    return persons


async def _merge(graph: GraphClient, persons: dict[str, list[str]]) -> None:
    sources = SourceRegistry(DEFAULT_SOURCES)
    merges = 0
    for ids in persons.values():
        survivor = ids[0]
        for merged in dict.fromkeys(ids[1:]):
            if merged == survivor:
                continue
            await graph.write(
                lambda tx, merged=merged, survivor=survivor: merging.merge(
                    survivor,
                    merged,
                    store=GraphMergeStore(tx),
                    households=GraphHouseholdStore(tx),
                    sources=sources,
                    rules=DEFAULT_RULES,
                    events=_NoEvents(),
                    actor="bench",
                    reason="truth",
                    now=datetime.now(UTC),
                )
            )
            merges += 1
    _progress(f"{merges} merges")


async def _households(graph: GraphClient, truth_of: dict[str, str]) -> list[set[str]]:
    rows = await graph.read(
        lambda tx: tx.run(
            "bench.households",
            f"MATCH (p:{graph_store.PERSON})-[m:{household_store.MEMBER_OF}]->"
            f"(h:{household_store.HOUSEHOLD}) WHERE m.active AND p.status IS NULL "
            "RETURN h.id AS household, collect(p.id) AS members",
        )
    )
    return [{truth_of[p] for p in row["members"]} for row in rows if len(row["members"]) > 1]


async def detect_through_graph(data: matching_data.DataSet, tmp: Path) -> list[set[str]]:
    config = PlatformConfig(
        state_dir=tmp / "platform", ports=Ports.free(), secrets=Secrets.generate(), graph_heap="2g"
    )
    platform = Platform(config)
    platform.start_backing_servers()
    try:
        graph = GraphClient(
            uri=config.graph.bolt_uri,
            user="root",
            password=config.secrets.graph_password,
            database="profile",
            # Quality, not latency, is measured here: a slow moment of a shared
            # machine must not end the run.
            timeout_s=120,
        )
        try:
            await graph.apply_schema(
                (
                    *graph_store.SCHEMA,
                    *merge_store.SCHEMA,
                    *household_store.SCHEMA,
                    *company_store.SCHEMA,
                    *privacy_store.SCHEMA,
                )
            )
            persons = await _ingest(graph, data)
            await _merge(graph, persons)
            truth_of = {p: truth for truth, ids in persons.items() for p in ids}
            return await _households(graph, truth_of)
        finally:
            await graph.close()
    finally:
        platform.stop()
