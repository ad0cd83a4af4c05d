"""Steward decisions as labels: intervals, band and guard precision, proposals, teaching order."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mdm_matching.domain.calibration import (
    AutoMerge,
    Band,
    Label,
    Targets,
    auto_merges_from,
    bands,
    calibrate,
    labels_from,
    propose,
    teaching_order,
    wilson,
)
from mdm_matching.domain.models import Decision, Verdict

T0 = datetime(2026, 12, 1, tzinfo=UTC)


def decision(
    pair: str,
    verdict: Verdict,
    *,
    minutes: int = 0,
    probability: float | None = 0.7,
    merge_id: str | None = None,
    conflicts: tuple[str, ...] = (),
) -> Decision:
    return Decision(
        id=f"{pair}-{verdict}-{minutes}",
        pair_key=pair,
        verdict=verdict,
        actor="steward",
        at=T0 + timedelta(minutes=minutes),
        note="",
        task_id=None,
        merge_id=merge_id,
        probability=probability,
        left_fingerprint="",
        right_fingerprint="",
        conflicts=conflicts,
    )


def labels(probability: float, *, matches: int, non_matches: int, tag: str = "") -> list[Label]:
    return [Label(f"{tag}m{n}|x", probability, True) for n in range(matches)] + [
        Label(f"{tag}n{n}|x", probability, False) for n in range(non_matches)
    ]


class TestWilson:
    def test_known_values(self) -> None:
        # 8 of 10 at 95 %: the textbook interval (0.490, 0.943).
        found = wilson(8, 10)
        assert found.low == pytest.approx(0.4902, abs=1e-4)
        assert found.high == pytest.approx(0.9433, abs=1e-4)

    def test_no_observation_knows_nothing(self) -> None:
        assert (wilson(0, 0).low, wilson(0, 0).high) == (0.0, 1.0)

    def test_all_successes_stay_below_one_at_the_lower_bound(self) -> None:
        found = wilson(20, 20)
        assert found.high == pytest.approx(1.0)
        assert 0.8 < found.low < 0.85

    def test_refuses_impossible_counts(self) -> None:
        with pytest.raises(ValueError, match="between"):
            wilson(3, 2)

    @given(st.integers(0, 500), st.integers(0, 500))
    def test_holds_the_estimate_and_narrows_with_more_labels(self, k: int, extra: int) -> None:
        n = k + extra
        if n == 0:
            return
        found = wilson(k, n)
        assert 0 <= found.low <= k / n <= found.high <= 1
        more = wilson(k * 4, n * 4)
        assert more.width <= found.width + 1e-12


class TestLabels:
    def test_the_last_labelling_verdict_counts(self) -> None:
        found = labels_from(
            [
                decision("a|b", Verdict.NOT_A_MATCH, minutes=1),
                decision("a|b", Verdict.MERGE, minutes=2, probability=0.8),
                decision("c|d", Verdict.MERGE, minutes=1),
                decision("c|d", Verdict.UNMERGE, minutes=3),
                decision("e|f", Verdict.DEFER, minutes=1),
                decision("g|h", Verdict.AUTO_MERGE, minutes=1, probability=0.995),
                decision("i|j", Verdict.MERGE, probability=None),
            ]
        )
        assert [(x.pair_key, x.match, x.probability) for x in found] == [
            ("a|b", True, 0.8),
            ("c|d", False, 0.7),
        ]

    def test_an_undone_automatic_merge_is_marked(self) -> None:
        found = auto_merges_from(
            [
                decision("a|b", Verdict.AUTO_MERGE, probability=0.995, merge_id="m1"),
                decision("c|d", Verdict.AUTO_MERGE, probability=0.999, merge_id="m2"),
                decision("a|b", Verdict.UNMERGE, minutes=5, probability=0.995, merge_id="m1"),
            ]
        )
        assert [(a.pair_key, a.undone) for a in found] == [("a|b", True), ("c|d", False)]


class TestBands:
    def test_thresholds_are_edges_and_bands_cover_zero_to_one(self) -> None:
        found = bands(0.55, 0.97)
        assert found[0] == Band(0.0, 0.55)
        assert found[-1].high == 1.0
        assert any(b.low == 0.97 for b in found)
        for before, after in itertools.pairwise(found):
            assert before.high == after.low

    def test_the_top_band_holds_one(self) -> None:
        top = bands(0.5, 0.99)[-1]
        assert top.holds(1.0)
        assert not Band(0.5, 0.6).holds(0.6)


class TestCalibrate:
    def test_precision_per_band_and_guard(self) -> None:
        found = calibrate(
            [
                *labels(0.65, matches=3, non_matches=1),
                Label("g1|x", 0.995, False, ("birth dates differ",)),
                Label("g2|x", 0.995, True, ("birth dates differ",)),
            ],
            [AutoMerge("a|b", 0.999, undone=True), AutoMerge("c|d", 0.999, undone=False)],
            review_at=0.5,
            auto_merge_at=0.99,
            targets=Targets(),
        )
        band = next(b for b in found.bands if b.band.holds(0.65))
        assert (band.precision.labels, band.precision.matches) == (4, 3)
        assert band.precision.estimate == 0.75
        top = next(b for b in found.bands if b.band.holds(0.995))
        assert top.precision.labels == 0  # guarded pairs count for their guard only
        (guard,) = found.guards
        assert (guard.guard, guard.precision.labels, guard.precision.matches) == (
            "birth dates differ",
            2,
            1,
        )
        assert (found.labels, found.auto_merges, found.undone_auto_merges) == (6, 2, 1)


class TestUnreviewedGuards:
    targets = Targets(review_floor=0.1, min_labels=20)
    TWINS, BORN = "given names differ", "birth dates differ"

    def held(self, guard: str, *, matches: int, non_matches: int) -> list[Label]:
        return [
            Label(f"{guard}{n}|x", 0.995, n < matches, (guard,))
            for n in range(matches + non_matches)
        ]

    def test_a_guard_stewards_always_confirm_is_proposed_no_longer_reviewed(self) -> None:
        found = calibrate(
            [
                *self.held(self.TWINS, matches=0, non_matches=40),
                *self.held(self.BORN, matches=8, non_matches=32),  # a fifth were true pairs
            ],
            [],
            review_at=0.5,
            auto_merge_at=0.99,
            targets=self.targets,
        )
        assert found.unreviewed_guards == ()
        assert found.proposal.unreviewed_guards == (self.TWINS,)
        assert found.proposal.changes(0.5, 0.99)
        assert not found.proposal.changes(0.5, 0.99, [self.TWINS])
        (reason,) = found.proposal.reasons
        assert reason.startswith("'given names differ' no longer reviewed: 0 of 40")

    def test_few_labels_or_a_true_pair_too_many_keep_the_review(self) -> None:
        for held in (
            self.held(self.TWINS, matches=0, non_matches=19),  # below min_labels
            self.held(self.TWINS, matches=1, non_matches=39),  # upper bound 0.129 >= 0.1
        ):
            found = calibrate(held, [], review_at=0.5, auto_merge_at=0.99, targets=self.targets)
            assert found.proposal.unreviewed_guards == ()

    def test_pairs_with_two_guards_do_not_count(self) -> None:
        two = [Label(f"t{n}|x", 0.995, False, (self.TWINS, self.BORN)) for n in range(40)]
        found = calibrate(two, [], review_at=0.5, auto_merge_at=0.99, targets=self.targets)
        assert found.proposal.unreviewed_guards == ()

    def test_a_guard_no_longer_reviewed_stays_so(self) -> None:
        found = calibrate(
            [],
            [],
            review_at=0.5,
            auto_merge_at=0.99,
            targets=self.targets,
            unreviewed_guards=[self.TWINS],
        )
        assert found.unreviewed_guards == found.proposal.unreviewed_guards == (self.TWINS,)
        assert not found.proposal.changes(0.5, 0.99, [self.TWINS])


class TestPropose:
    targets = Targets(merge_precision=0.9, review_floor=0.2, min_labels=10)

    def test_too_few_labels_move_nothing(self) -> None:
        found = propose(
            labels(0.55, matches=0, non_matches=5),
            [],
            review_at=0.5,
            auto_merge_at=0.99,
            targets=self.targets,
        )
        assert (found.review_at, found.auto_merge_at, found.reasons) == (0.5, 0.99, ())

    def test_a_band_without_true_pairs_raises_the_review_threshold(self) -> None:
        found = propose(
            labels(0.55, matches=0, non_matches=30) + labels(0.75, matches=5, non_matches=5),
            [],
            review_at=0.5,
            auto_merge_at=0.99,
            targets=self.targets,
        )
        assert found.review_at == 0.6
        assert found.auto_merge_at == 0.99
        assert "reviewAt raised to 0.6" in found.reasons[0]

    def test_true_pairs_below_auto_merge_lower_it(self) -> None:
        found = propose(
            labels(0.985, matches=30, non_matches=0, tag="a")
            + labels(0.96, matches=30, non_matches=0)
            + labels(0.85, matches=5, non_matches=5),
            [],
            review_at=0.5,
            auto_merge_at=0.99,
            targets=self.targets,
        )
        assert found.auto_merge_at == 0.95
        assert found.changes(0.5, 0.99)
        assert "60 of 60" in found.reasons[0]

    def test_an_unlabelled_band_is_not_merged_blindly(self) -> None:
        found = propose(
            labels(0.96, matches=60, non_matches=0),
            [],
            review_at=0.5,
            auto_merge_at=0.99,
            targets=self.targets,
        )
        assert found.auto_merge_at == 0.99  # nothing says how [0.98, 0.99) fares

    def test_undone_automatic_merges_raise_auto_merge(self) -> None:
        merges = [AutoMerge(f"u{n}|x", 0.992, undone=True) for n in range(10)] + [
            AutoMerge(f"s{n}|x", 0.999, undone=False) for n in range(40)
        ]
        found = propose([], merges, review_at=0.5, auto_merge_at=0.99, targets=self.targets)
        assert found.auto_merge_at == 0.999
        assert "undid 10 of 50" in found.reasons[0]

    def test_standing_automatic_merges_keep_it(self) -> None:
        merges = [AutoMerge(f"s{n}|x", 0.995, undone=False) for n in range(40)]
        found = propose([], merges, review_at=0.5, auto_merge_at=0.99, targets=self.targets)
        assert found.auto_merge_at == 0.99

    def test_review_never_passes_auto_merge(self) -> None:
        found = propose(
            labels(0.7, matches=0, non_matches=100),
            [],
            review_at=0.5,
            auto_merge_at=0.8,
            targets=self.targets,
        )
        assert found.review_at <= found.auto_merge_at == 0.8

    def test_targets_are_checked(self) -> None:
        with pytest.raises(ValueError, match="min_labels"):
            Targets(min_labels=0)


class TestTeachingOrder:
    def test_bands_known_least_come_first(self) -> None:
        found = calibrate(
            labels(0.65, matches=0, non_matches=40) + labels(0.75, matches=3, non_matches=3),
            [],
            review_at=0.5,
            auto_merge_at=0.99,
            targets=Targets(),
        )
        order = teaching_order(found)
        assert sorted(order, key=lambda b: b.low) == [b.band for b in found.bands]  # all
        assert order.index(Band(0.0, 0.5)) > order.index(Band(0.5, 0.6))
        # Unlabelled bands first (widest interval, higher first), then the half-known
        # one, the well-known one last.
        assert order[0] == Band(0.999, 1.0)
        assert order.index(Band(0.7, 0.8)) < order.index(Band(0.6, 0.7)) == len(order) - 1
