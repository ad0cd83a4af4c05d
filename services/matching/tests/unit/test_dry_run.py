"""The dry run of thresholds: what would merge, split, appear and disappear."""

from __future__ import annotations

import pytest

from mdm_matching.domain.dry_run import Outcome, ScoredPair, dry_run, outcome

TASK, MERGED = Outcome.TASK, Outcome.MERGED
TWINS, BORN = "given names differ", "birth dates differ"


class TestOutcome:
    @pytest.mark.parametrize(
        ("probability", "guards", "expected"),
        [
            (0.995, (), Outcome.MERGED),
            (0.995, (TWINS,), Outcome.TASK),  # a guard holds a likely pair back for review
            (0.995, (TWINS, BORN), Outcome.NOTHING),  # two guards: clearly different persons
            (0.7, (), Outcome.TASK),
            (0.3, (), Outcome.NOTHING),
        ],
    )
    def test_the_policy(
        self, probability: float, guards: tuple[str, ...], expected: Outcome
    ) -> None:
        assert outcome(probability, guards, review_at=0.5, auto_merge_at=0.99) == expected

    @pytest.mark.parametrize(
        ("guards", "expected"),
        [
            ((TWINS,), Outcome.NOTHING),  # the guard no longer reviewed holds it back alone
            ((BORN,), Outcome.TASK),  # another guard is still reviewed
            ((), Outcome.TASK),  # an uncertain pair without guard is still reviewed
        ],
    )
    def test_a_guard_no_longer_reviewed(self, guards: tuple[str, ...], expected: Outcome) -> None:
        found = outcome(0.7, guards, review_at=0.5, auto_merge_at=0.99, unreviewed_guards={TWINS})
        assert found == expected


class TestDryRun:
    pairs = [
        ScoredPair("a", "b", 0.97, (), TASK),
        ScoredPair("b", "c", 0.96, (), TASK),  # joins a, b, c: one cluster
        ScoredPair("d", "e", 0.96, (TWINS,), TASK),  # guarded: stays a task
        ScoredPair("f", "g", 0.55, (), TASK),
        ScoredPair("h", "i", 0.992, (), MERGED),
        ScoredPair("j", "k", 0.999, (), MERGED),
    ]

    def test_the_current_thresholds_change_nothing(self) -> None:
        found = dry_run(self.pairs, review_at=0.5, auto_merge_at=0.99)
        assert (found.pairs, found.open_tasks, found.auto_merges) == (6, 4, 2)
        changes = (
            found.pairs_to_merge,
            found.merges_to_split,
            found.tasks_to_appear,
            found.tasks_to_disappear,
        )
        assert changes == (0, 0, 0, 0)

    def test_a_lower_auto_merge_threshold_merges_clusters(self) -> None:
        found = dry_run(self.pairs, review_at=0.5, auto_merge_at=0.95)
        assert (found.pairs_to_merge, found.clusters_to_merge) == (2, 1)
        assert found.tasks_to_disappear == 2
        assert found.merges_to_split == 0

    def test_an_ambiguous_task_stays_one(self) -> None:
        ambiguous = ScoredPair("x", "y", 0.995, (), TASK, ambiguous=True)
        found = dry_run([ambiguous], review_at=0.5, auto_merge_at=0.99)
        assert (found.pairs_to_merge, found.tasks_to_disappear) == (0, 0)
        assert dry_run([ambiguous], review_at=0.999, auto_merge_at=0.999).tasks_to_disappear == 1

    def test_a_higher_auto_merge_threshold_splits_merges_into_tasks(self) -> None:
        found = dry_run(self.pairs, review_at=0.5, auto_merge_at=0.995)
        assert (found.merges_to_split, found.tasks_to_appear) == (1, 1)

    def test_a_higher_review_threshold_closes_tasks(self) -> None:
        found = dry_run(self.pairs, review_at=0.6, auto_merge_at=0.99)
        assert found.tasks_to_disappear == 1
        assert found.pairs_to_merge == 0

    def test_a_split_below_review_leaves_no_task(self) -> None:
        found = dry_run(
            [ScoredPair("h", "i", 0.992, (), MERGED)], review_at=0.995, auto_merge_at=0.999
        )
        assert (found.merges_to_split, found.tasks_to_appear) == (1, 0)

    def test_a_guard_no_longer_reviewed_closes_its_tasks(self) -> None:
        found = dry_run(self.pairs, review_at=0.5, auto_merge_at=0.99, unreviewed_guards={TWINS})
        assert (found.tasks_to_disappear, found.pairs_to_merge) == (1, 0)
        assert found.unreviewed_guards == (TWINS,)
        other = dry_run(self.pairs, review_at=0.5, auto_merge_at=0.99, unreviewed_guards={BORN})
        assert other.tasks_to_disappear == 0

    def test_refuses_crossed_thresholds(self) -> None:
        with pytest.raises(ValueError, match="thresholds"):
            dry_run(self.pairs, review_at=0.9, auto_merge_at=0.8)
