"""Fellegi-Sunter scoring with m and u estimated from the data itself (no labels).

For each comparison level, ``m`` is the probability of that level among true
duplicates and ``u`` among non-duplicates; a level's match weight is
``log2(m / u)``, and a pair's weight is the prior's log-odds plus the sum of its
levels' weights. How the parameters are found, as in Splink:

- ``u`` from random pairs (almost all random pairs are non-duplicates);
- ``m`` and the prior by expectation maximisation over the blocked candidate
  pairs, with ``u`` held fixed so that EM cannot drift into learning "lives in the
  same household" instead of "is the same person";
- exact name agreement is adjusted by the name's frequency: two "Müller" agree
  less remarkably than two "Przybylski" (term-frequency adjustment).

Fellegi-Sunter assumes independent fields, which a household breaks: family
name, address, landline and often e-mail domain agree together while the persons
differ. Summed weights would glue spouses, twins and "jun."/"sen." into one.
Identity guards therefore veto a pair whose identifying fields contradict each
other (clearly different given names, different birth dates, different
generational suffixes, different tax ids) whatever its score; the explanation
names the guard (``guards.py``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from mdm_matching.domain.engine.comparisons import COMPARISONS, Vector, compare
from mdm_matching.domain.engine.features import MatchRecord
from mdm_matching.domain.engine.given_names import lexicon
from mdm_matching.domain.engine.guards import Guards
from mdm_matching.domain.engine.learning import TrainingSession, default_sessions, estimate_u, train
from mdm_matching.domain.engine.parameters import (
    EPSILON,
    MIN_TF_PERSONS,
    Parameters,
    default_parameters,
    rare_term_frequencies,
    term_frequencies,
)

__all__ = [
    "EPSILON",
    "MIN_TF_PERSONS",
    "Contribution",
    "Parameters",
    "Score",
    "Scorer",
    "TrainingSession",
    "default_parameters",
    "default_sessions",
    "estimate_u",
    "probability_of",
    "rare_term_frequencies",
    "term_frequencies",
    "train",
]

# Distinct level patterns (with the exactly agreeing name, which adjusts the weight)
# whose weight and explanation a scorer remembers: pairs repeat them by the thousand.
PATTERNS_CACHED = 1 << 15


@dataclass(frozen=True, slots=True)
class Contribution:
    comparison: str
    level: str | None  # None: a side does not know the value
    weight: float


@dataclass(frozen=True, slots=True)
class Score:
    left: str
    right: str
    weight: float
    probability: float
    contributions: tuple[Contribution, ...]
    conflicts: tuple[str, ...]  # identity guards that veto the pair

    @property
    def vetoed(self) -> bool:
        return bool(self.conflicts)


def probability_of(weight: float) -> float:
    """The match probability of a pair of this weight (log2 odds)."""
    return 1 / (1 + 2 ** -max(min(weight, 60.0), -60.0))


class Scorer:
    def __init__(self, parameters: Parameters) -> None:
        self.parameters = parameters
        self._weights = [
            [math.log2(max(m, EPSILON) / max(u, EPSILON)) for m, u in zip(ms, us, strict=True)]
            for ms, us in zip(parameters.m, parameters.u, strict=True)
        ]
        self._prior_weight = math.log2(parameters.prior / (1 - parameters.prior))
        # A trained model knows the given names at least MIN_TF_PERSONS persons carry:
        # "Paul" and "Paula" both among them are two names, not a slip.
        given_names = parameters.tf.get("given")
        self._guards = Guards(is_name=given_names.__contains__ if given_names else None)
        self._patterns: dict[
            tuple[Vector, str | None, str | None], tuple[float, float, tuple[Contribution, ...]]
        ] = {}
        # The given-name lexicon of the guards is read once per process (about a
        # second): with the model, not in the middle of the first pair.
        lexicon()

    @property
    def level_weights(self) -> list[list[float]]:
        """Per comparison, each level's weight (before a name's frequency adjusts it)."""
        return self._weights

    @property
    def prior_weight(self) -> float:
        return self._prior_weight

    @property
    def guards(self) -> Guards:
        return self._guards

    def score(self, a: MatchRecord, b: MatchRecord) -> Score:
        return self.score_compared(compare(a, b), a, b)

    def score_compared(self, vector: Vector, a: MatchRecord, b: MatchRecord) -> Score:
        """The score of a pair whose comparison vector is ``vector``."""
        total, probability, contributions = self.weighed(vector, a, b)
        left, right = (a.id, b.id) if a.id <= b.id else (b.id, a.id)
        conflicts = self._guards.conflicts_of(vector, a, b)
        return Score(left, right, total, probability, contributions, conflicts)

    def weighed(
        self, vector: Vector, a: MatchRecord, b: MatchRecord
    ) -> tuple[float, float, tuple[Contribution, ...]]:
        """Weight, probability and explanation of a pair's comparison vector."""
        # A pair's weight and explanation follow from its levels and, where a name
        # agrees exactly, that name's frequency: pairs alike in these share them.
        pattern = (
            vector,
            a.given if vector[0] == 0 and a.given == b.given else None,
            a.family if vector[1] == 0 and a.family == b.family else None,
        )
        found = self._patterns.get(pattern)
        if found is None:
            if len(self._patterns) >= PATTERNS_CACHED:
                self._patterns.clear()
            found = self._patterns[pattern] = self._weigh(vector, a, b)
        return found

    def _weigh(
        self, vector: Vector, a: MatchRecord, b: MatchRecord
    ) -> tuple[float, float, tuple[Contribution, ...]]:
        total = self._prior_weight
        contributions = []
        for index, (comparison, level) in enumerate(zip(COMPARISONS, vector, strict=True)):
            if level is None:
                contributions.append(Contribution(comparison.name, None, 0.0))
                continue
            weight = self._weights[index][level]
            if level == 0 and comparison.tf_attribute:
                weight += self._tf_adjustment(index, comparison.tf_attribute, a, b)
            total += weight
            contributions.append(Contribution(comparison.name, comparison.levels[level], weight))
        return total, probability_of(total), tuple(contributions)

    def _tf_adjustment(self, index: int, attribute: str, a: MatchRecord, b: MatchRecord) -> float:
        value = getattr(a, attribute)
        if value != getattr(b, attribute):
            return 0.0  # names entered the wrong way round: no frequency of this attribute
        return self.name_adjustment(index, attribute, value)

    def name_adjustment(self, index: int, attribute: str, value: str) -> float:
        """What two records agreeing exactly on this name add to the exact level's
        weight of comparison ``index``: common names say less (``tf_attribute``)."""
        frequency = self.parameters.tf.get(attribute, {}).get(value)
        if frequency is None:
            frequency = self.parameters.rare_tf.get(attribute)
        if frequency is None:
            return 0.0
        u_exact = self.parameters.u[index][0]
        return math.log2(u_exact / max(frequency, EPSILON))
