"""Batch re-matching through the gateway, with the real worker killed mid-job.

The persons here arrive while the matching worker is stopped and their events are
purged from the queue: online matching never sees them, as when someone empties the
broker's queues. Only the batch job can find their duplicates.
"""

from __future__ import annotations

import os
import signal
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis

from mdm_common.events import make_celery
from mdm_common.graph import GraphClient
from mdm_infra.client import GatewayClient, GraphQLError
from mdm_infra.platform import Platform
from mdm_infra.testing import eventually

from .matching_support import birth_date, family_name, phone, place
from .queries import INGEST

JOB_FIELDS = """id status phase progress partitions partitionsDone syncedPersons subjects
  scoredPairs proposals plannedMerges mergesDone mergesSkipped reviewTasks error
  modelVersion modelTrained modelReason"""
START = f"mutation($n: Int!) {{ startRematch(partitions: $n) {{ {JOB_FIELDS} }} }}"
RESUME = f"mutation($id: ID!) {{ resumeRematch(id: $id) {{ {JOB_FIELDS} }} }}"
JOB = f"query($id: ID!) {{ rematchJob(id: $id) {{ {JOB_FIELDS} }} }}"
JOBS = "query { rematchJobs(first: 5) { id status } }"
PERSON = "query($id: ID!) { person(id: $id) { id mergedFrom } }"
DECISIONS = "query($id: ID!) { matchDecisions(personId: $id) { verdict actor mergeId note } }"
PAIRS = 30  # enough merges that the merge phase lasts long enough to be killed in


# The default model's weights, whatever an earlier test trained (see conftest).
pytestmark = pytest.mark.usefixtures("default_model")


@pytest.fixture
def worker_stopped(platform: Platform) -> Iterator[Callable[[int], None]]:
    """Stop the matching worker; the test calls the result to purge its queue (events
    lost) once it holds the number of messages given, and start a fresh worker. The
    worker runs again after the test either way."""
    platform.stop_worker("matching")
    started = False

    def lose_events_and_restart(messages: int) -> None:
        nonlocal started
        # The outbox relay sends in the background: wait until every message is in
        # the queue, then lose them all.
        queue = redis.Redis.from_url(platform.config.broker.url)
        assert eventually(lambda: queue.llen("matching") >= messages), queue.llen("matching")
        queue.close()
        app = make_celery("matching", platform.config.broker.url)
        try:
            with app.connection_for_write() as connection:
                connection.default_channel.queue_purge("matching")
        finally:
            app.close()
        # Small merge slices, so that the job hands its merges on several times.
        platform.start_worker("matching", env={"MATCHING_REMATCH_MERGES_PER_TASK": "7"})
        started = True

    yield lose_events_and_restart
    if not started:
        platform.start_worker("matching")


def ingest_unmatched(gateway: GatewayClient) -> list[tuple[str, str, str]]:
    """PAIRS persons, each with a typo'd duplicate and a spouse at the same address.

    Returns (original, duplicate, spouse) ids.
    """
    crm, shop, expected = [], [], []
    for n in range(PAIRS):
        # Nothing but the given name shared between families: a year of birth each,
        # and street, e-mail and landline of their own.
        family, here, landline = family_name(), place(), phone()
        _, month, day = (int(p) for p in birth_date().split("-"))
        born, street, email = (
            f"{1940 + n}-{month:02d}-{day:02d}",
            f"{family}weg 3",
            f"j.{family}@mail.example",
        )
        crm.append({"sourceId": f"o-{family}", "givenName": "Jürgen", "familyName": family,
                    "birthDate": born, "email": email, "street": street,
                    "phone": landline, **here})  # fmt: skip
        shop.append({"sourceId": f"d-{family}", "givenName": "Juergen", "familyName": family[:-1],
                     "birthDate": ".".join(reversed(born.split("-"))), "street": street,
                     "email": email, **here})  # fmt: skip
        shop.append({"sourceId": f"s-{family}", "givenName": "Sabine", "familyName": family,
                     "birthDate": f"{1929 + n}-{month % 12 + 1:02d}-{day:02d}", "street": street,
                     "phone": landline, **here})  # fmt: skip
    ids = {}
    for source, records in (("crm", crm), ("shop", shop)):
        result = gateway.execute(INGEST, {"source": source, "records": records})
        ids |= {r["sourceId"]: r["personId"] for r in result["ingestSourceRecords"]["records"]}
    for record in crm:
        family = record["sourceId"].removeprefix("o-")
        expected.append((ids[f"o-{family}"], ids[f"d-{family}"], ids[f"s-{family}"]))
    return expected


def job_of(gateway: GatewayClient, job_id: str) -> dict[str, Any]:
    return dict(gateway.execute(JOB, {"id": job_id})["rematchJob"])


def kill_pool_process_mid_merging(platform: Platform, gateway: GatewayClient,
                                  job_id: str) -> dict[str, Any]:  # fmt: skip
    """SIGKILL the worker's pool process (as the OOM killer would) while merges are
    being applied; return the job as it was seen just before."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        job = job_of(gateway, job_id)
        if job["phase"] == "MERGING" and 0 < job["mergesDone"] < job["plannedMerges"]:
            for pid in platform.processes["matching-worker"].children():
                os.kill(pid, signal.SIGKILL)
            return job
        assert job["status"] != "DONE", f"the job finished before it could be killed: {job}"
        time.sleep(0.02)
    raise AssertionError(f"the job never reached its merges: {job_of(gateway, job_id)}")


async def merges_of(profile_graph: GraphClient, merged_ids: list[str]) -> dict[str, int]:
    rows = await profile_graph.read(lambda tx: tx.run(
        "test.merges", "MATCH (m:Merge) WHERE m.mergedId IN $ids "
        "RETURN m.mergedId AS id, count(m) AS n", ids=merged_ids))  # fmt: skip
    return {row["id"]: int(row["n"]) for row in rows}


async def test_batch_rematch_merges_what_online_matching_missed_once_despite_a_killed_worker(
    platform: Platform, gateway: GatewayClient, worker_stopped: Callable[[int], None],
    graph_for: Callable[[str], GraphClient],
) -> None:  # fmt: skip
    expected = ingest_unmatched(gateway)
    worker_stopped(3 * PAIRS)  # their person_created events are lost
    for original, duplicate, _ in expected[:3]:
        assert gateway.execute(PERSON, {"id": duplicate})["person"]["id"] == duplicate
        assert gateway.execute(DECISIONS, {"id": original})["matchDecisions"] == []

    job = gateway.execute(START, {"n": 3})["startRematch"]
    assert (job["status"], job["phase"], job["partitions"]) == ("QUEUED", "SYNCING", 3)
    seen = kill_pool_process_mid_merging(platform, gateway, job["id"])
    done = eventually(lambda: (j := job_of(gateway, job["id"]))["status"] == "DONE" and j, 120)
    assert done, job_of(gateway, job["id"])
    assert "SIGKILL" in (platform.config.log_dir / "matching-worker.log").read_text(
        errors="replace"
    )  # the kill did hit the worker's pool process

    assert done["phase"] == "DONE"
    assert done["progress"] == 1.0
    assert done["partitionsDone"] == 3
    assert done["syncedPersons"] >= 3 * PAIRS  # the persons whose events were lost
    assert done["mergesDone"] >= PAIRS > seen["mergesDone"]
    assert done["mergesDone"] + done["mergesSkipped"] == done["plannedMerges"]
    # No trained model was there (see default_model): the job trained one and says so.
    assert done["modelTrained"] is True
    assert done["modelVersion"].endswith(f"/rematch/{job['id']}")
    assert "no trained model" in done["modelReason"]
    for original, duplicate, spouse in expected:
        # Both were registered by the same sync; the profile created first survives
        # (the CRM's records were ingested before the shop's).
        survivor, merged = original, duplicate
        for person_id in (original, duplicate):
            assert gateway.execute(PERSON, {"id": person_id})["person"]["id"] == survivor
        assert gateway.execute(PERSON, {"id": survivor})["person"]["mergedFrom"] == [merged]
        assert gateway.execute(PERSON, {"id": spouse})["person"]["id"] == spouse
        audit = gateway.execute(DECISIONS, {"id": survivor})["matchDecisions"]
        assert [(d["verdict"], d["actor"]) for d in audit] == [
            ("AUTO_MERGE", "service:matching-engine")], audit  # fmt: skip
        assert audit[0]["mergeId"]
        assert job["id"] in audit[0]["note"]
        assert done["modelVersion"] in audit[0]["note"]  # which model decided
    # No pair was merged twice: one merge per pair in the profile service.
    counts = await merges_of(graph_for("profile"), [i for o, d, _ in expected for i in (o, d)])
    assert sorted(counts.values()) == [1] * PAIRS


def test_a_job_whose_messages_were_lost_is_resumed(
    gateway: GatewayClient, worker_stopped: Callable[[int], None],
    client_for: Callable[..., GatewayClient],
) -> None:  # fmt: skip
    family, here, born = family_name(), place(), birth_date()
    records = [{"sourceId": f"{side}-{family}", "givenName": "Jürgen", "familyName": family,
                "birthDate": born, "email": f"j@{family}.example", **here}
               for side in ("a", "b")]  # fmt: skip
    persons = [gateway.execute(INGEST, {"source": source, "records": [record]})
               ["ingestSourceRecords"]["records"][0]["personId"]
               for source, record in zip(("crm", "shop"), records, strict=True)]  # fmt: skip
    job = gateway.execute(START, {"n": 2})["startRematch"]
    with pytest.raises(GraphQLError) as running:
        gateway.execute(START, {"n": 2})
    assert running.value.codes == ["CONFLICT"]
    assert job["id"] in str(running.value)

    worker_stopped(3)  # the job's first message is lost with the events: nothing happens
    time.sleep(1.0)
    assert (job_of(gateway, job["id"])["status"], job_of(gateway, job["id"])["phase"]) == (
        "QUEUED", "SYNCING")  # fmt: skip
    with pytest.raises(GraphQLError) as forbidden:
        client_for("app").execute(RESUME, {"id": job["id"]})
    assert forbidden.value.codes == ["FORBIDDEN"]
    resumed = gateway.execute(RESUME, {"id": job["id"]})["resumeRematch"]
    assert resumed["status"] == "RUNNING"
    assert eventually(lambda: job_of(gateway, job["id"])["status"] == "DONE", 120)
    survivor = persons[0]  # created first (the CRM's record was ingested first)
    assert [gateway.execute(PERSON, {"id": p})["person"]["id"] for p in persons] == [survivor] * 2
    assert gateway.execute(JOBS)["rematchJobs"][0] == {"id": job["id"], "status": "DONE"}

    with pytest.raises(GraphQLError) as finished:
        gateway.execute(RESUME, {"id": job["id"]})
    assert finished.value.codes == ["CONFLICT"]


@pytest.mark.parametrize(
    ("query", "variables", "code"),
    [
        (START, {"n": 0}, "BAD_USER_INPUT"),
        (START, {"n": 65}, "BAD_USER_INPUT"),
        (RESUME, {"id": "no-such-job"}, "NOT_FOUND"),
        (JOB, {"id": str(uuid.uuid4())}, "NOT_FOUND"),
    ],
)
def test_bad_requests_get_typed_errors(
    gateway: GatewayClient, query: str, variables: dict[str, Any], code: str
) -> None:
    with pytest.raises(GraphQLError) as error:
        gateway.execute(query, variables)
    assert error.value.codes == [code]
