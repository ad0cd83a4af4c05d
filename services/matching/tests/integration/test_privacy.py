"""Export, erasure and restriction against the real graph server (the matching
database other tests use as well: every test works on ids and values of its own)."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from mdm_common.errors import InvalidInput
from mdm_common.graph import GraphClient
from mdm_matching.adapters.graph_store import BLOCK_KEY, DECISION, REVIEW_TASK, SUBJECT
from mdm_matching.adapters.rematch_store import PROPOSAL, STEP
from mdm_matching.adapters.transactions import SCHEMA, GraphTransactions
from mdm_matching.domain import privacy, subjects
from mdm_matching.domain.engine import blocking
from mdm_matching.domain.engine.features import MatchRecord, fingerprint, make_record
from mdm_matching.domain.engine.model import Scorer, default_parameters
from mdm_matching.domain.models import Decision, ReviewTask, TaskReason, TaskStatus, Verdict
from mdm_matching.domain.online import evidence_of
from mdm_matching.domain.ports import ProfileView
from mdm_matching.domain.rematch import MergeStep, StepStatus
from mdm_matching.domain.stores import Stores

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


async def _transactions(graph_for: Callable[[str], GraphClient]) -> GraphTransactions:
    graph = graph_for("matching")
    await graph.apply_schema(SCHEMA)
    return GraphTransactions(graph)


def _people() -> tuple[MatchRecord, MatchRecord, MatchRecord, str, str]:
    """Two similar persons sharing an e-mail address, and a third with a phone of its
    own; all values unique to this test."""
    tag = uuid.uuid4().hex[:10]
    email, phone = f"anna.{tag}@example.org", f"+4930{uuid.uuid4().int % 10**8:08d}"
    a = make_record(str(uuid.uuid4()), given="Anna", family=f"Weber{tag}", email=email,
                    birth="19700101", postal_code="10115")  # fmt: skip
    b = make_record(str(uuid.uuid4()), given="Anne", family=f"Weber{tag}", email=email,
                    postal_code="10115")  # fmt: skip
    c = make_record(str(uuid.uuid4()), given="Anna", family=f"Weber{tag}", phone=phone)
    return a, b, c, email, phone


async def _save(stores: Stores, record: MatchRecord) -> None:
    await subjects.save_view(stores, ProfileView(record.id, record), NOW)


async def _raw(tx: Any, query: str, **params: Any) -> list[dict[str, Any]]:
    return list(await tx.run("test.raw", query, **params))


@dataclass(frozen=True)
class _Held:
    task: ReviewTask
    decision: Decision
    job: str


async def _hold_everything(
    transactions: GraphTransactions, a: MatchRecord, b: MatchRecord, c: MatchRecord
) -> _Held:
    """Subjects a and b with a deferred review task, a decision, a re-matching proposal
    and step on their pair; c merged into a."""
    for record in (a, b, c):
        await transactions.write(lambda s, r=record: _save(s, r))
    await transactions.write(lambda s: subjects.mark_merged(s, c.id, a.id, NOW))
    score = Scorer(default_parameters()).score(a, b)
    evidence = evidence_of(score, {a.id: fingerprint(a), b.id: fingerprint(b)})
    task = await transactions.write(lambda s: s.reviews.open_task(
        str(uuid.uuid4()), evidence, reason=TaskReason.UNCERTAIN, at=NOW))  # fmt: skip
    await transactions.write(lambda s: s.reviews.set_status(
        task.id, TaskStatus.DEFERRED, note="she called from Lisbon", at=NOW))  # fmt: skip
    decision = Decision.about(evidence, Verdict.NOT_A_MATCH, actor="steward-7", at=NOW,
                              note="she called from Lisbon", task_id=task.id)  # fmt: skip
    await transactions.write(lambda s: s.reviews.record_decision(decision))
    job = str(uuid.uuid4())
    await transactions.write(lambda s: s.rematch.save_proposals(job, [evidence]))
    await transactions.write(lambda s: s.rematch.save_steps(
        [MergeStep(job, 0, evidence.left_id, evidence.right_id, evidence)]))  # fmt: skip
    return _Held(task, decision, job)


async def test_export_erase_and_erase_again(graph_for: Callable[[str], GraphClient]) -> None:
    transactions = await _transactions(graph_for)
    a, b, c, email, phone = _people()
    setup = await _hold_everything(transactions, a, b, c)
    task, decision, job = setup.task, setup.decision, setup.job

    held = await transactions.read(lambda s: privacy.export([a.id, b.id, c.id], s))
    assert held.person_ids == (a.id, b.id, c.id)
    assert not held.restricted
    by_field = {(i.person_id, i.field): i for i in held.items}
    assert by_field[(a.id, "email")].value == email
    assert by_field[(a.id, "email")].category == "email"
    assert by_field[(a.id, "familyName")].category == "identity"
    assert by_field[(a.id, "birthDate")].category == "birth_date"
    assert by_field[(a.id, "postalCode")].category == "postal_address"
    assert by_field[(c.id, "phone")].category == "phone"
    assert by_field[(c.id, "mergedInto")].value == a.id
    assert by_field[(a.id, "blockingKeys")].category == "matching"
    origins = {i.origin for i in held.items}
    assert {"reviewTask", "decision", "rematchProposal", "rematchStep"} <= origins
    assert any("Lisbon" in i.value for i in held.items if i.origin == "reviewTask")

    ids = [a.id, b.id, c.id]
    phone_key = next(k for k in blocking.keys_of(c) if k.endswith(phone))
    graph = graph_for("matching")
    keys = await graph.read(lambda tx: _raw(
        tx, f"MATCH (k:{BLOCK_KEY} {{key: $key}}) RETURN k.size AS n", key=phone_key))  # fmt: skip
    assert keys == []  # the merge left c's phone key empty: deleted at once
    # As earlier versions left it: an empty key still holding c's phone.
    await graph.write(lambda tx: _raw(
        tx, f"CREATE (k:{BLOCK_KEY} {{key: $key, size: 0}})", key=phone_key))  # fmt: skip
    erased = await transactions.write(lambda s: privacy.erase(ids, "req-1", s, now=NOW))
    assert (erased.removed_subjects, erased.removed_tasks) == (3, 1)

    async def leftovers(tx: Any) -> dict[str, list[dict[str, Any]]]:
        return {
            "subjects": await _raw(tx, f"MATCH (s:{SUBJECT}) WHERE s.personId IN $ids "
                                   "RETURN s.personId AS id", ids=ids),
            "keys": await _raw(tx, f"MATCH (k:{BLOCK_KEY}) WHERE k.key ENDS WITH $email "
                               "OR k.key ENDS WITH $phone OR k.key CONTAINS $family "
                               "RETURN k.key AS key", email=email, phone=phone,
                               family=a.family),
            "tasks": await _raw(tx, f"MATCH (t:{REVIEW_TASK} {{id: $id}}) RETURN t.id AS id",
                                id=task.id),
            "decisions": await _raw(tx, f"MATCH (d:{DECISION} {{id: $id}}) RETURN d {{.*}} AS d",
                                    id=decision.id),
            "proposals": await _raw(tx, f"MATCH (p:{PROPOSAL}) WHERE p.jobId = $job "
                                    "RETURN p.key AS key", job=job),
            "steps": await _raw(tx, f"MATCH (s:{STEP}) WHERE s.jobId = $job RETURN s {{.*}} AS s",
                                job=job),
        }  # fmt: skip

    left = await graph.read(leftovers)
    assert left["subjects"] == left["keys"] == left["tasks"] == left["proposals"] == []
    kept = left["decisions"][0]["d"]  # the audit trail: who decided what, when
    assert (kept["verdict"], kept["actor"], kept["pairKey"]) == (
        "NOT_A_MATCH", "steward-7", decision.pair_key)  # fmt: skip
    assert kept["note"] == kept["leftFingerprint"] == kept["rightFingerprint"] == ""
    step = left["steps"][0]["s"]
    assert step["status"] == StepStatus.SKIPPED.value
    assert step["leftFingerprint"] == step["rightFingerprint"] == ""

    again = await transactions.write(lambda s: privacy.erase(ids, "req-2", s, now=NOW))
    assert (again.removed_subjects, again.removed_tasks) == (0, 0)
    after = await transactions.read(lambda s: privacy.export(ids, s))
    assert {i.origin for i in after.items} == {"decision", "rematchStep", "erasure"}
    tombstones = [i for i in after.items if i.origin == "erasure"]
    assert len(tombstones) == 3
    assert all('"requestId":"req-1"' in i.value for i in tombstones)  # the first erasure


async def test_an_erased_person_is_never_registered_again(
    graph_for: Callable[[str], GraphClient],
) -> None:
    transactions = await _transactions(graph_for)
    a, b, _, _, _ = _people()
    await transactions.write(lambda s: privacy.erase([a.id], "req-late", s, now=NOW))
    assert await transactions.read(lambda s: s.subjects.erased([a.id, b.id])) == {a.id}
    later = NOW + timedelta(hours=1)
    # A late person_created / person_updated, the batch job's sync, a merge event.
    assert await transactions.write(lambda s: s.subjects.register(a.id, at=later)) is None
    await transactions.write(lambda s: _save(s, a))
    await transactions.write(lambda s: subjects.mark_merged(s, a.id, b.id, later))
    # Restricting an erased id does not bring it back either.
    await transactions.write(
        lambda s: privacy.restrict([a.id], "req-r", s, restricted=True, now=later)
    )
    found = await transactions.read(lambda s: s.subjects.get_many([a.id]))
    assert found == {}
    held = await transactions.read(lambda s: privacy.export([a.id], s))
    assert [i.origin for i in held.items] == ["erasure"]


async def test_a_restricted_subject_is_no_candidate_until_lifted(
    graph_for: Callable[[str], GraphClient],
) -> None:
    transactions = await _transactions(graph_for)
    a, b, _, _, _ = _people()
    for record in (a, b):
        await transactions.write(lambda s, r=record: _save(s, r))

    async def seen(stores: Stores) -> tuple[set[str], set[str], set[str]]:
        sharing = await stores.subjects.sharing_keys(
            b.id, blocking.keys_of(b), max_block=200, limit=50
        )
        features = await stores.subjects.features([a.id, b.id])
        active = await stores.subjects.active_features(after="", limit=1_000_000)
        return ({r.id for r in sharing}, set(features),
                {r.id for r in active} & {a.id, b.id})  # fmt: skip

    assert await transactions.read(seen) == ({a.id}, {a.id, b.id}, {a.id, b.id})
    await transactions.write(
        lambda s: privacy.restrict([a.id], "req-r", s, restricted=True, now=NOW)
    )
    assert await transactions.read(seen) == (set(), {b.id}, {b.id})
    registered = await transactions.write(lambda s: s.subjects.register(a.id, at=NOW))
    assert registered is not None
    assert registered.restricted
    held = await transactions.read(lambda s: privacy.export([a.id, b.id], s))
    assert held.restricted
    assert any(i.field == "restriction" and "req-r" in i.value for i in held.items)
    # Restricting again keeps the first restriction's time and request.
    later = NOW + timedelta(days=1)
    await transactions.write(
        lambda s: privacy.restrict([a.id], "req-r2", s, restricted=True, now=later)
    )
    held = await transactions.read(lambda s: privacy.export([a.id], s))
    assert any(i.field == "restriction" and 'req-r"' in i.value for i in held.items)

    await transactions.write(
        lambda s: privacy.restrict([a.id], "req-l", s, restricted=False, now=later)
    )
    assert await transactions.read(seen) == ({a.id}, {a.id, b.id}, {a.id, b.id})
    assert not (await transactions.read(lambda s: privacy.export([a.id], s))).restricted


async def test_restricting_an_unknown_person_registers_it_restricted(
    graph_for: Callable[[str], GraphClient],
) -> None:
    """Restricted before its person_created event arrived: matching must not take it up."""
    transactions = await _transactions(graph_for)
    a, _, _, _, _ = _people()
    await transactions.write(
        lambda s: privacy.restrict([a.id], "req-r", s, restricted=True, now=NOW)
    )
    registered = await transactions.write(lambda s: s.subjects.register(a.id, at=NOW))
    assert registered is not None
    assert registered.restricted
    assert registered.registered_at == NOW


async def test_unknown_ids_hold_nothing_and_erase_nothing(
    graph_for: Callable[[str], GraphClient],
) -> None:
    transactions = await _transactions(graph_for)
    unknown = [str(uuid.uuid4()), str(uuid.uuid4())]
    held = await transactions.read(lambda s: privacy.export(unknown, s))
    assert (held.items, held.restricted) == ((), False)
    lifted = await transactions.write(
        lambda s: privacy.restrict(unknown, "req", s, restricted=False, now=NOW)
    )
    assert not lifted.restricted
    erased = await transactions.write(lambda s: privacy.erase(unknown, "req", s, now=NOW))
    assert (erased.removed_subjects, erased.removed_tasks) == (0, 0)


async def test_bad_input_writes_nothing(graph_for: Callable[[str], GraphClient]) -> None:
    transactions = await _transactions(graph_for)
    a, _, _, _, _ = _people()
    await transactions.write(lambda s: _save(s, a))
    with pytest.raises(InvalidInput) as bad:
        await transactions.write(lambda s: privacy.erase([a.id, "not-an-id"], "r", s, now=NOW))
    assert bad.value.field == "personIds"
    with pytest.raises(InvalidInput) as blank:
        await transactions.write(lambda s: privacy.erase([a.id], "  ", s, now=NOW))
    assert blank.value.field == "requestId"
    assert a.id in await transactions.read(lambda s: s.subjects.get_many([a.id]))


async def test_a_key_no_subject_uses_any_more_is_deleted(
    graph_for: Callable[[str], GraphClient],
) -> None:
    """A changed e-mail address leaves no key holding the old one behind; a key other
    subjects still use stays."""
    transactions = await _transactions(graph_for)
    a, b, _, email, _ = _people()
    for record in (a, b):
        await transactions.write(lambda s, r=record: _save(s, r))
    moved = dataclasses.replace(a, email=f"new.{email}")
    await transactions.write(lambda s: _save(s, moved))

    async def sizes(tx: Any) -> dict[str, int]:
        rows = await _raw(tx, f"MATCH (k:{BLOCK_KEY}) WHERE k.key IN $keys "
                          "RETURN k.key AS key, k.size AS n",
                          keys=blocking.keys_of(a) + blocking.keys_of(moved))  # fmt: skip
        return {row["key"]: int(row["n"]) for row in rows}

    found = await graph_for("matching").read(sizes)
    email_key = next(k for k in blocking.keys_of(a) if k.endswith(email))
    assert found[email_key] == 1  # b still uses the old address
    await transactions.write(lambda s: _save(s, dataclasses.replace(b, email=None)))
    found = await graph_for("matching").read(sizes)
    assert email_key not in found
    assert set(found) == set(blocking.keys_of(moved))
