"""Customers and probes of the fault tests: records of a test's own, and what the
matching service knows about them, read from its graph."""

from __future__ import annotations

import random
import string
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from mdm_common.graph import GraphClient
from mdm_infra.client import GatewayClient
from mdm_infra.platform import Platform

INGEST = """
mutation Ingest($source: String!, $records: [SourceRecordInput!]!) {
  ingestSourceRecords(source: $source, records: $records) { records { sourceId personId } }
}
"""


def _word(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(string.ascii_lowercase) for _ in range(n))


def customers(count: int, *, twins: int = 0) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """``count`` distinct customers of a CRM, and ``twins`` of them once more from a
    shop with the same name, birth date, e-mail and address (merged on arrival)."""
    rng = random.Random(uuid.uuid4().int)  # noqa: S311 - made-up people, not secrets
    crm = []
    for n in range(count):
        family = "Fehler" + _word(rng, 8)
        crm.append(
            {
                "sourceId": f"crm-{uuid.uuid4().hex[:12]}",
                "givenName": rng.choice(["Jürgen", "Sabine", "Klaus", "Monika", "Uwe"]),
                "familyName": family.capitalize(),
                "birthDate": f"{1940 + n % 60}-{1 + n % 12:02d}-{1 + rng.randrange(28):02d}",
                "email": f"{family}@{_word(rng, 6)}.example",
                "street": f"{family.capitalize()}weg {1 + n}",
                "postalCode": str(10000 + rng.randrange(90000)),
                "city": "Berlin",
                "country": "DE",
            }
        )
    shop = [record | {"sourceId": f"shop-{uuid.uuid4().hex[:12]}"} for record in crm[:twins]]
    return crm, shop


def ingest(gateway: GatewayClient, source: str, records: list[dict[str, str]]) -> list[str]:
    """The person ids of the records, ingested in batches of 50."""
    ids: list[str] = []
    for start in range(0, len(records), 50):
        batch = records[start : start + 50]
        result = gateway.execute(INGEST, {"source": source, "records": batch})
        ids += [r["personId"] for r in result["ingestSourceRecords"]["records"]]
    return ids


async def registered(matching: GraphClient, person_ids: list[str]) -> int:
    """How many of the persons the matching service has registered (as a subject)."""
    rows = await matching.read(
        lambda tx: tx.run(
            "test.registered",
            "MATCH (s:MatchSubject) WHERE s.personId IN $ids RETURN count(s) AS n",
            ids=person_ids,
        )
    )
    return int(rows[0]["n"])


async def merges_of(profile: GraphClient, merged_ids: list[str]) -> dict[str, int]:
    """How often each of the persons was merged away."""
    rows = await profile.read(
        lambda tx: tx.run(
            "test.merges",
            "MATCH (m:Merge) WHERE m.mergedId IN $ids RETURN m.mergedId AS id, count(m) AS n",
            ids=merged_ids,
        )
    )
    return {row["id"]: int(row["n"]) for row in rows}


@contextmanager
def broker_stopped(platform: Platform) -> Iterator[None]:
    """The broker is down inside the block, and back (same port, same data) after."""
    with platform.stopped("broker"):
        yield


@contextmanager
def graph_paused(platform: Platform) -> Iterator[None]:
    """The graph server is stalled inside the block (SIGSTOP), as on a long GC pause
    or a full disk, and resumed after."""
    with platform.paused("graph"):
        yield


class WorkerLog:
    """What a service's worker logged since this object was made (its log file grows
    over the whole session; earlier tests' lines are left out)."""

    def __init__(self, platform: Platform, service: str) -> None:
        self.path = platform.config.log_dir / f"{service}-worker.log"
        self._start = self.path.stat().st_size if self.path.exists() else 0

    def text(self) -> str:
        with self.path.open("rb") as log:
            log.seek(self._start)
            return log.read().decode(errors="replace")

    def wait_for(self, probe: Callable[[str], bool], timeout_s: float = 30) -> bool:
        """Whether ``probe`` held for the log within ``timeout_s``, looked at every
        20 ms (a task of the matching worker runs 70 ms or more)."""
        deadline = time.monotonic() + timeout_s
        while not probe(self.text()):
            if time.monotonic() > deadline:
                return False
            time.sleep(0.02)
        return True


def running_a_task(log: str) -> bool:
    """Whether the worker's last task line says a task was received and not yet done
    (one pool process, one message at a time)."""
    lines = [line for line in log.splitlines() if "] Task " in line]
    return bool(lines) and lines[-1].endswith("] received")
