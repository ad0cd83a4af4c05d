"""Learning from stewards against the real graph server: labels and scored pairs as
read back, model versions kept, recalibration audited in one unit of work."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from mdm_common.graph import GraphClient
from mdm_matching.adapters.transactions import SCHEMA, GraphTransactions
from mdm_matching.domain import recalibration
from mdm_matching.domain.engine.model import default_parameters
from mdm_matching.domain.models import (
    Decision,
    PairEvidence,
    TaskReason,
    Verdict,
)
from mdm_matching.domain.online import Policy
from mdm_matching.domain.ports import NewTask
from mdm_matching.domain.stores import Stores

NOW = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)

# Another test's model must not leak in, nor the versions made here leak out.
pytestmark = pytest.mark.usefixtures("default_model")


async def _transactions(graph_for: Callable[[str], GraphClient]) -> GraphTransactions:
    graph = graph_for("matching")
    await graph.apply_schema(SCHEMA)
    return GraphTransactions(graph)


def _evidence(probability: float, conflicts: tuple[str, ...] = ()) -> PairEvidence:
    return PairEvidence(
        str(uuid.uuid4()),
        str(uuid.uuid4()),
        probability,
        2.0,
        (),
        conflicts,
        "a",
        "b",
        model_version="v-test",
    )


async def test_labelling_decisions_and_unresolved_pairs_come_back(
    graph_for: Callable[[str], GraphClient],
) -> None:
    transactions = await _transactions(graph_for)
    merged, rejected, deferred = (
        _evidence(0.7),
        _evidence(0.995, ("birth dates differ",)),
        _evidence(0.6),
    )
    decisions = [
        Decision.about(merged, Verdict.MERGE, actor="s", at=NOW, note="a note"),
        Decision.about(rejected, Verdict.NOT_A_MATCH, actor="s", at=NOW + timedelta(seconds=1)),
        Decision.about(deferred, Verdict.DEFER, actor="s", at=NOW),
    ]
    open_task = _evidence(0.8)

    async def write(stores: Stores) -> None:
        await stores.reviews.record_decisions(decisions)
        await stores.reviews.open_tasks(
            [NewTask(str(uuid.uuid4()), open_task, TaskReason.UNCERTAIN)], at=NOW
        )

    await transactions.write(write)
    found = await transactions.read(lambda s: s.calibration.labelling_decisions())
    mine = {d.pair_key: d for d in found if d.id in {x.id for x in decisions}}
    assert set(mine) == {merged.pair_key, rejected.pair_key}  # DEFER is no label
    assert mine[merged.pair_key].verdict == Verdict.MERGE
    assert mine[merged.pair_key].note == ""  # notes are not read
    assert mine[rejected.pair_key].conflicts == ("birth dates differ",)
    assert mine[rejected.pair_key].probability == 0.995
    assert mine[rejected.pair_key].model_version == "v-test"
    pairs = await transactions.read(lambda s: s.calibration.unresolved_evidence())
    ((task, reason),) = [(p, r) for p, r in pairs if p.pair_key == open_task.pair_key]
    assert (task.probability, task.model_version, reason) == (0.8, "v-test", TaskReason.UNCERTAIN)


async def test_recalibration_keeps_both_versions_and_is_audited(
    graph_for: Callable[[str], GraphClient],
) -> None:
    transactions = await _transactions(graph_for)
    trained = default_parameters()
    trained.version = f"trained-{uuid.uuid4()}"
    await transactions.write(lambda s: s.subjects.save_model(trained, at=NOW))

    change = await recalibration.recalibrate(
        review_at=0.6,
        auto_merge_at=0.98,
        note="stewards rejected the 0.5 band",
        expected_version=trained.version,
        actor="admin-1",
        policy=Policy(),
        transactions=transactions,
        now=datetime.now(UTC),
    )

    current = await transactions.read(lambda s: s.subjects.load_model())
    assert current is not None
    assert (current.version, current.review_at, current.auto_merge_at) == (
        change.version,
        0.6,
        0.98,
    )
    earlier = await transactions.read(lambda s: s.subjects.load_model_version(trained.version))
    assert earlier is not None
    assert earlier.review_at is None  # the version it started from is kept as it was
    changes = await transactions.read(lambda s: s.calibration.changes(limit=5))
    assert changes[0] == change
    assert (changes[0].previous_version, changes[0].previous_review_at) == (trained.version, 0.5)
