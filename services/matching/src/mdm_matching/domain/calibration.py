"""Learning from stewards: steward decisions as labels of the model's scores.

A steward's MERGE says "these two are one person", NOT_A_MATCH and an undone
merge (UNMERGE) say "they are not"; the last of these per pair is its label. Each
label keeps the probability the pair had when decided, and the identity guards
that fired. From them:

- **precision per score band** (the share of true pairs among the labelled pairs
  whose probability lies in the band), with a Wilson score interval, so that a
  band of 3 labels does not look as certain as one of 300. Guarded pairs are left
  out of the bands: their score is vetoed, and they have a figure of their own;
- **precision per guard**: how often a guard that fired was right (the pair was
  not a match);
- **automatic merges**: how many stand and how many a steward undid;
- **a threshold proposal** (see ``propose``), with the guards no longer worth a
  review (``unreviewed_guards``), which an admin may apply
  (``recalibration.recalibrate``): never applied by itself;
- **a teaching order** for the queue: bands whose precision the labels know least
  first (``teaching_order``);
- **a dry run** of thresholds over the pairs matching holds (``dry_run.py``).

Pure functions over plain values: the use cases that read the stores live in
``recalibration.py``.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from mdm_matching.domain.models import Decision, Verdict

Z_95 = 1.959964  # two-sided 95 % normal quantile
# Band edges between 0 and 1: tenths, and finer towards 1, where the auto-merge
# threshold usually lies. The review and auto-merge thresholds are edges too.
EDGES = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99, 0.995, 0.999)
# A steward verdict that labels its pair: True a true pair, False not one.
LABELLING = {Verdict.MERGE: True, Verdict.NOT_A_MATCH: False, Verdict.UNMERGE: False}


@dataclass(frozen=True)
class Interval:
    low: float
    high: float

    @property
    def width(self) -> float:
        return self.high - self.low


def wilson(successes: int, n: int, *, z: float = Z_95) -> Interval:
    """The Wilson score interval of a proportion; (0, 1) without observations."""
    if not 0 <= successes <= n:
        raise ValueError("successes must lie between 0 and n")
    if n == 0:
        return Interval(0.0, 1.0)
    p = successes / n
    z2 = z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    # All or none: the bound on that side is exact (rounding would leave it just inside).
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == n else min(1.0, centre + half)
    return Interval(low, high)


@dataclass(frozen=True)
class Label:
    """A pair as a steward last judged it."""

    pair_key: str
    probability: float
    match: bool
    conflicts: tuple[str, ...] = ()
    model_version: str | None = None


@dataclass(frozen=True)
class AutoMerge:
    """A merge the engine made, and whether a steward undid it since."""

    pair_key: str
    probability: float
    undone: bool


def labels_from(decisions: Iterable[Decision]) -> list[Label]:
    """The last labelling verdict per pair (one with a probability), in pair order.

    DEFER says nothing; AUTO_MERGE is the engine's own call, not a label.
    """
    latest: dict[str, Decision] = {}
    for decision in sorted(decisions, key=lambda d: d.at):
        if decision.verdict in LABELLING and decision.probability is not None:
            latest[decision.pair_key] = decision
    return [
        Label(key, d.probability, LABELLING[d.verdict], d.conflicts, d.model_version)
        for key, d in sorted(latest.items())
        if d.probability is not None
    ]


def auto_merges_from(decisions: Iterable[Decision]) -> list[AutoMerge]:
    """Each AUTO_MERGE with a probability, undone when an UNMERGE names its merge."""
    decisions = list(decisions)
    undone = {d.merge_id for d in decisions if d.verdict == Verdict.UNMERGE and d.merge_id}
    return [
        AutoMerge(d.pair_key, d.probability, d.merge_id in undone)
        for d in sorted(decisions, key=lambda d: (d.pair_key, d.at))
        if d.verdict == Verdict.AUTO_MERGE and d.probability is not None
    ]


@dataclass(frozen=True)
class Band:
    """Probabilities from ``low`` (inclusive) to ``high`` (exclusive; 1 included)."""

    low: float
    high: float

    def holds(self, probability: float) -> bool:
        return self.low <= probability < self.high or (self.high == 1.0 and probability == 1.0)


def bands(review_at: float, auto_merge_at: float) -> list[Band]:
    """Below review as one band, then ``EDGES`` and both thresholds as edges."""
    edges = sorted({review_at, auto_merge_at, *(e for e in EDGES if e > review_at)} | {1.0})
    return [Band(0.0, review_at)] + [Band(lo, hi) for lo, hi in itertools.pairwise(edges)]


@dataclass(frozen=True)
class Precision:
    labels: int
    matches: int
    interval: Interval

    @property
    def estimate(self) -> float | None:
        return self.matches / self.labels if self.labels else None


def precision(matches: int, labels: int, *, z: float = Z_95) -> Precision:
    return Precision(labels, matches, wilson(matches, labels, z=z))


def _of(labels: Iterable[Label]) -> Precision:
    found = list(labels)
    return precision(sum(1 for label in found if label.match), len(found))


@dataclass(frozen=True)
class BandPrecision:
    band: Band
    precision: Precision


@dataclass(frozen=True)
class GuardPrecision:
    """How often a guard was right: ``precision.matches`` counts the labelled pairs it
    fired on that were *not* a match (its veto was right)."""

    guard: str
    precision: Precision


@dataclass(frozen=True)
class Targets:
    """What the thresholds should achieve, by the labels' 95 % interval.

    ``merge_precision``: auto-merge only where the labels' lower bound reaches it;
    ``review_floor``: stop asking stewards about a band whose upper bound stays
    below it; ``min_labels``: fewer labels than this move no threshold.
    """

    merge_precision: float = 0.95
    review_floor: float = 0.1
    min_labels: int = 20

    def __post_init__(self) -> None:
        if not (0 < self.merge_precision <= 1 and 0 <= self.review_floor < 1):
            raise ValueError("targets are shares between 0 and 1")
        if self.min_labels < 1:
            raise ValueError("min_labels must be at least 1")


@dataclass(frozen=True)
class Proposal:
    review_at: float
    auto_merge_at: float
    reasons: tuple[str, ...]
    unreviewed_guards: tuple[str, ...] = ()

    def changes(
        self, review_at: float, auto_merge_at: float, unreviewed_guards: Iterable[str] = ()
    ) -> bool:
        now = (review_at, auto_merge_at, tuple(sorted(unreviewed_guards)))
        return (self.review_at, self.auto_merge_at, self.unreviewed_guards) != now


@dataclass(frozen=True)
class Calibration:
    review_at: float
    auto_merge_at: float
    unreviewed_guards: tuple[str, ...]
    labels: int
    bands: list[BandPrecision]
    guards: list[GuardPrecision]
    auto_merges: int
    undone_auto_merges: int
    proposal: Proposal


def calibrate(
    labels: Sequence[Label],
    auto_merges: Sequence[AutoMerge],
    *,
    review_at: float,
    auto_merge_at: float,
    targets: Targets,
    unreviewed_guards: Iterable[str] = (),
) -> Calibration:
    """Precision per band and guard, and what the labels say the thresholds (and the
    guards worth a review) should be."""
    unreviewed = tuple(sorted(set(unreviewed_guards)))
    unguarded = [label for label in labels if not label.conflicts]
    per_band = [
        BandPrecision(band, _of(x for x in unguarded if band.holds(x.probability)))
        for band in bands(review_at, auto_merge_at)
    ]
    guards = sorted({g for label in labels for g in label.conflicts})
    per_guard = [
        GuardPrecision(guard, _of_guard([x for x in labels if guard in x.conflicts]))
        for guard in guards
    ]
    proposal = propose(
        unguarded, auto_merges, review_at=review_at, auto_merge_at=auto_merge_at, targets=targets
    )
    unreviewed_now, why = unreviewed_guards_of(labels, unreviewed, targets)
    return Calibration(
        review_at=review_at,
        auto_merge_at=auto_merge_at,
        unreviewed_guards=unreviewed,
        labels=len(labels),
        bands=per_band,
        guards=per_guard,
        auto_merges=len(auto_merges),
        undone_auto_merges=sum(1 for a in auto_merges if a.undone),
        proposal=replace(
            proposal, unreviewed_guards=unreviewed_now, reasons=(*proposal.reasons, *why)
        ),
    )


def unreviewed_guards_of(
    labels: Sequence[Label], unreviewed: Iterable[str], targets: Targets
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The guards no longer worth a review, and why: those already so (no pair of
    theirs is reviewed since, so the labels cannot bring them back), and each guard
    whose pairs it alone held back were true pairs below ``review_floor`` at the
    interval's upper bound, over at least ``min_labels`` labels (the same rule as a
    raised review threshold: stewards no longer see such pairs)."""
    found = set(unreviewed)
    reasons = []
    alone: dict[str, list[Label]] = {}
    for label in labels:
        if len(label.conflicts) == 1:
            alone.setdefault(label.conflicts[0], []).append(label)
    for guard, held in sorted(alone.items()):
        true = _of(held)
        if guard in found or true.labels < targets.min_labels:
            continue
        if true.interval.high < targets.review_floor:
            found.add(guard)
            reasons.append(
                f"'{guard}' no longer reviewed: {true.matches} of {true.labels} labelled pairs "
                f"it alone held back were true pairs (upper bound {true.interval.high:.3f} < "
                f"{targets.review_floor})."
            )
    return tuple(sorted(found)), tuple(reasons)


def _of_guard(labels: Sequence[Label]) -> Precision:
    return precision(sum(1 for label in labels if not label.match), len(labels))


def propose(
    labels: Sequence[Label],
    auto_merges: Sequence[AutoMerge],
    *,
    review_at: float,
    auto_merge_at: float,
    targets: Targets,
) -> Proposal:
    """Thresholds the labels support; unchanged where they say too little.

    - **auto-merge lower**: to the lowest band edge ``t`` below it whose labelled
      pairs from ``t`` up to the threshold reach ``merge_precision`` at the
      interval's lower bound (with at least ``min_labels`` labels), every band on
      the way labelled and reaching it as an estimate;
    - **auto-merge higher**: when the automatic merges from the threshold up
      (an undone one counts as wrong, a standing one as right, which flatters)
      stay below ``merge_precision`` even at the interval's upper bound, to the
      lowest probability above which they no longer do;
    - **review higher**: to the highest band edge ``t`` (not above auto-merge)
      such that the labelled pairs from the review threshold to ``t`` stay below
      ``review_floor`` at the upper bound, every band on the way labelled:
      stewards no longer see such pairs.

    Lowering the review threshold cannot be learnt: no pair below it is labelled.
    ``labels`` are the unguarded ones (a guard vetoes whatever the score).
    """
    reasons: list[str] = []
    between = [b for b in bands(review_at, auto_merge_at)[1:] if b.high <= auto_merge_at]
    auto = auto_merge_at
    # Downwards from the auto-merge threshold, band by band, while every band holds
    # labels that reach the target on their own: no unlabelled gap is merged blindly.
    for band in reversed(between):
        alone = _of(x for x in labels if band.holds(x.probability))
        if not alone.labels or (alone.estimate or 0.0) < targets.merge_precision:
            break
        found = _of(x for x in labels if band.low <= x.probability < auto_merge_at)
        if found.labels >= targets.min_labels and found.interval.low >= targets.merge_precision:
            auto = band.low
    if auto != auto_merge_at:
        found = _of(x for x in labels if auto <= x.probability < auto_merge_at)
        reasons.append(
            f"autoMergeAt lowered to {auto}: {found.matches} of {found.labels} labelled pairs "
            f"from {auto} to {auto_merge_at} were true pairs (lower bound "
            f"{found.interval.low:.3f} >= {targets.merge_precision})."
        )
    else:
        raised = _raised_auto_merge(auto_merges, auto_merge_at, targets)
        if raised is not None:
            auto, reason = raised
            reasons.append(reason)
    review = review_at
    # Upwards from the review threshold, likewise through labelled bands only.
    for band in between:
        if band.high > auto or not any(band.holds(x.probability) for x in labels):
            break
        found = _of(x for x in labels if review_at <= x.probability < band.high)
        if found.labels >= targets.min_labels and found.interval.high < targets.review_floor:
            review = band.high
    if review != review_at:
        found = _of(x for x in labels if review_at <= x.probability < review)
        reasons.append(
            f"reviewAt raised to {review}: {found.matches} of {found.labels} labelled pairs from "
            f"{review_at} to {review} were true pairs (upper bound {found.interval.high:.3f} < "
            f"{targets.review_floor})."
        )
    return Proposal(review_at=review, auto_merge_at=auto, reasons=tuple(reasons))


def _raised_auto_merge(
    auto_merges: Sequence[AutoMerge], auto_merge_at: float, targets: Targets
) -> tuple[float, str] | None:
    above = sorted(
        (a for a in auto_merges if a.probability >= auto_merge_at), key=lambda a: a.probability
    )
    if len(above) < targets.min_labels:
        return None

    def off(found: Sequence[AutoMerge]) -> bool:
        right = sum(1 for a in found if not a.undone)
        return wilson(right, len(found)).high < targets.merge_precision

    if not off(above):
        return None
    for cut in sorted({a.probability for a in above if a.probability > auto_merge_at}):
        if not off([a for a in above if a.probability >= cut]):
            undone = sum(1 for a in above if a.undone)
            return cut, (
                f"autoMergeAt raised to {cut}: stewards undid {undone} of "
                f"{len(above)} automatic merges at or above {auto_merge_at}."
            )
    return 1.0, (
        f"autoMergeAt raised to 1.0: stewards undid automatic merges at every probability "
        f"at or above {auto_merge_at}."
    )


def teaching_order(calibration: Calibration) -> list[Band]:
    """All bands, those whose precision the labels know least first (widest interval:
    few labels, or a precision near one half), higher bands first on ties: an answer
    there teaches most, as in uncertainty sampling. (Tasks below the review threshold
    exist only where it was raised after they were opened; they come last of the
    unlabelled.)"""
    ranked = sorted(
        calibration.bands, key=lambda b: (-round(b.precision.interval.width, 9), -b.band.low)
    )
    return [b.band for b in ranked]
