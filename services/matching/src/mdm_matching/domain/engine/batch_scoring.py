"""Scoring many candidate pairs at once: weights, identity guards and probabilities.

The same scores as :meth:`model.Scorer.score` gives pair by pair (a unit test holds
every pair's weight, probability, vetoes and explanation to it): the weights are
summed column by column in the same order, so they are the same numbers to the last
bit; a probability is computed in Python wherever it decides anything (numpy's
``exp2`` may differ from Python's ``**`` in the last bit). Pairs are kept as
columns; :meth:`BatchScorer.score_of` makes the ``Score`` of one of them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from mdm_matching.domain.engine.batch_blocking import CandidatePairs
from mdm_matching.domain.engine.batch_comparisons import (
    BIRTH,
    GIVEN,
    OPEN,
    UNKNOWN,
    BatchComparisons,
    Levels,
)
from mdm_matching.domain.engine.comparisons import BIRTH as BIRTH_COMPARISON
from mdm_matching.domain.engine.comparisons import COMPARISONS
from mdm_matching.domain.engine.guards import (
    ALIKE_ONLY_BY_CODE,
    BIRTH_DATES_DIFFER,
    GIVEN_NAMES_DIFFER,
    PAIRED_FORMS,
    SUFFIXES_DIFFER,
    TAX_IDS_DIFFER,
    given_name_conflict,
)
from mdm_matching.domain.engine.identifiers import (
    guarded_identifiers_differ,
    same_unique_identifier,
)
from mdm_matching.domain.engine.memo import PairMemo, each
from mdm_matching.domain.engine.model import Score, Scorer, probability_of

Positions = npt.NDArray[np.integer[Any]]
Weights = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
Codes = npt.NDArray[np.int8]

# A pair's vetoes as bits: the given-name guard (which one, two bits), birth dates,
# suffixes, tax ids; in the order ``Guards.conflicts_of`` names them.
_GIVEN_GUARDS = (None, GIVEN_NAMES_DIFFER, ALIKE_ONLY_BY_CODE, PAIRED_FORMS)
_BIRTH_BIT, _SUFFIX_BIT, _TAX_BIT = 4, 8, 16
CONFLICTS: tuple[tuple[str, ...], ...] = tuple(
    tuple(
        guard
        for guard, present in (
            (_GIVEN_GUARDS[code & 3], code & 3),
            (BIRTH_DATES_DIFFER, code & _BIRTH_BIT),
            (SUFFIXES_DIFFER, code & _SUFFIX_BIT),
            (TAX_IDS_DIFFER, code & _TAX_BIT),
        )
        if present and guard
    )
    for code in range(32)
)
# Pairs scored at once: the working arrays stay in the processor's caches.
SCORED_AT_ONCE = 1 << 20
# Where numpy's probability is this close to a threshold, Python's decides.
_UNSURE = 1e-9
# Bits below a threshold's weight a bound must be to leave its pair out.
_WEIGHT_MARGIN = 1e-6


def at_least(weight: Weights, threshold: float) -> BoolArray:
    """Pairs whose probability (:func:`model.probability_of`) is at least ``threshold``."""
    approximate = 1 / (1 + np.exp2(-np.clip(weight, -60.0, 60.0)))
    found: BoolArray = approximate >= threshold
    for i in np.flatnonzero(np.abs(approximate - threshold) <= _UNSURE).tolist():
        found[i] = probability_of(float(weight[i])) >= threshold
    return found


@dataclass(frozen=True)
class ScoredPairs:
    """Scored pairs as columns: record positions (smaller id left), levels, weights
    and vetoes (an index into :data:`CONFLICTS`)."""

    left: Positions
    right: Positions
    levels: Levels
    weight: Weights
    conflicts: Codes

    def __len__(self) -> int:
        return len(self.left)

    @property
    def vetoed(self) -> BoolArray:
        found: BoolArray = self.conflicts != 0
        return found

    def at_least(self, threshold: float) -> BoolArray:
        return at_least(self.weight, threshold)

    def where(self, mask: BoolArray | npt.NDArray[np.integer[Any]]) -> ScoredPairs:
        return ScoredPairs(
            self.left[mask],
            self.right[mask],
            self.levels[mask],
            self.weight[mask],
            self.conflicts[mask],
        )

    @classmethod
    def joined(cls, parts: Sequence[ScoredPairs]) -> ScoredPairs:
        if not parts:
            return cls.empty()
        return cls(
            np.concatenate([p.left for p in parts]),
            np.concatenate([p.right for p in parts]),
            np.concatenate([p.levels for p in parts]),
            np.concatenate([p.weight for p in parts]),
            np.concatenate([p.conflicts for p in parts]),
        )

    @classmethod
    def empty(cls) -> ScoredPairs:
        none = np.empty(0, dtype=np.int32)
        levels = np.empty((0, len(COMPARISONS)), dtype=np.int8)
        return cls(none, none, levels, np.empty(0), np.empty(0, dtype=np.int8))


class BatchScorer:
    """A :class:`model.Scorer` applied to the pairs of one table, column-wise."""

    def __init__(self, scorer: Scorer, comparisons: BatchComparisons) -> None:
        self.scorer = scorer
        self.comparisons = comparisons
        table = comparisons.table
        # Each level's weight, an unknown level's (nothing) first; an open level's
        # (one typo or different) is the better of those two: a bound.
        self._level_weights = []
        for row in scorer.level_weights:
            weights = np.full(OPEN + 2, max(row), dtype=np.float64)
            weights[: len(row) + 1] = [0.0, *row]
            weights[OPEN + 1] = max(row[1:]) if len(row) > 1 else max(row)
            self._level_weights.append(weights)
        # Exact agreement on a name: its frequency's adjustment, per name.
        self._adjusted = {
            index: np.array(
                [scorer.name_adjustment(index, c.tf_attribute, n) for n in table.names.names],
                dtype=np.float64,
            )
            for index, c in enumerate(COMPARISONS)
            if c.tf_attribute
        }
        coded, is_name = table.names.coded, scorer.guards.is_name
        name_of_key = table.names.name_of_key

        def given_guard(x: int, y: int) -> int:
            """The guard of two given names (keys) whose level is not "different"."""
            if not x or not y or name_of_key[x] == name_of_key[y]:
                return 0
            (x_name, x_code), (y_name, y_code) = coded[x - 1], coded[y - 1]
            found = given_name_conflict(0, x_name, y_name, x_code, y_code, is_name=is_name)
            return _GIVEN_GUARDS.index(found)

        self._given_guards = PairMemo(
            each(given_guard), left_values=len(coded) + 1, right_values=len(coded) + 1
        )

    def score(self, left: Positions, right: Positions) -> ScoredPairs:
        levels = self.comparisons.levels(left, right)
        weight = self._weights(levels, left, right)
        return ScoredPairs(left, right, levels, weight, self._conflicts(levels, left, right))

    def score_all(
        self, pairs: CandidatePairs, *, keep_at_least: float | None = None
    ) -> ScoredPairs:
        """All ``pairs`` scored, some million at a time; ``keep_at_least``: only the
        pairs of at least this probability are kept (memory grows with them).

        With ``keep_at_least``, a pair whose weight cannot reach it whatever its
        undecided e-mail and phone typos is left out before they are decided (most
        candidate pairs are far below any threshold)."""
        parts = []
        for start in range(0, len(pairs), SCORED_AT_ONCE):
            left = pairs.left[start : start + SCORED_AT_ONCE]
            right = pairs.right[start : start + SCORED_AT_ONCE]
            if keep_at_least is None:
                parts.append(self.score(left, right))
                continue
            levels = self.comparisons.levels(left, right, typos=False)
            if 0 < keep_at_least < 1:
                # At most this weight (the open levels at their best): below the
                # threshold's weight by a margin far above any rounding, no pair is.
                bound = self._weights(levels, left, right)
                floor = math.log2(keep_at_least / (1 - keep_at_least)) - _WEIGHT_MARGIN
                near = np.flatnonzero(bound >= floor)
                left, right, levels = left[near], right[near], levels[near]
            self.comparisons.decide_open(levels, left, right)
            weight = self._weights(levels, left, right)
            scored = ScoredPairs(left, right, levels, weight, self._conflicts(levels, left, right))
            parts.append(scored.where(scored.at_least(keep_at_least)))
        return ScoredPairs.joined(parts)

    def score_of(self, scored: ScoredPairs, i: int) -> Score:
        """Pair ``i`` of ``scored`` as a :class:`model.Score`, with its explanation."""
        records = self.comparisons.table.records
        a, b = records[int(scored.left[i])], records[int(scored.right[i])]
        vector = tuple(None if level == UNKNOWN else level for level in scored.levels[i].tolist())
        _, _, contributions = self.scorer.weighed(vector, a, b)
        weight = float(scored.weight[i])
        conflicts = CONFLICTS[int(scored.conflicts[i])]
        return Score(a.id, b.id, weight, probability_of(weight), contributions, conflicts)

    def _weights(self, levels: Levels, left: Positions, right: Positions) -> Weights:
        """The prior's weight plus each known level's, in ``Scorer``'s order (adding
        an unknown level's 0.0 changes no sum)."""
        names = self.comparisons.table.names
        total = np.full(len(levels), self.scorer.prior_weight, dtype=np.float64)
        for index, comparison in enumerate(COMPARISONS):
            level = levels[:, index]
            weight = self._level_weights[index][level.astype(np.intp) + 1]
            if comparison.tf_attribute:
                column = names.given if comparison.tf_attribute == "given" else names.family
                exact = np.flatnonzero(level == 0)
                x = column[left[exact]]
                exact, x = exact[x == column[right[exact]]], x[x == column[right[exact]]]
                weight[exact] += self._adjusted[index][x]
            total += weight
        return total

    def _conflicts(self, levels: Levels, left: Positions, right: Positions) -> Codes:
        """The identity guards each pair violates (``Guards.conflicts_of``), as bits."""
        table = self.comparisons.table
        given = levels[:, GIVEN]
        found = np.where(
            given == COMPARISONS[GIVEN].differs,
            np.int8(1),
            self._given_guards(table.names.given_key[left], table.names.given_key[right]),
        ).astype(np.int8)
        found[levels[:, BIRTH] == BIRTH_COMPARISON.differs] |= _BIRTH_BIT
        suffix_x, suffix_y = table.suffix[left], table.suffix[right]
        found[(suffix_x >= 0) & (suffix_y >= 0) & (suffix_x != suffix_y)] |= _SUFFIX_BIT
        records = table.records
        for i in np.flatnonzero(table.identified[left] & table.identified[right]).tolist():
            a, b = records[int(left[i])], records[int(right[i])]
            code = int(found[i]) | (_TAX_BIT if guarded_identifiers_differ(a, b) else 0)
            # A shared unique identifier lifts a single guard other than the tax id's.
            if len(CONFLICTS[code]) == 1 and code != _TAX_BIT and same_unique_identifier(a, b):
                code = 0
            found[i] = code
        return found
