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
import random
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from mdm_matching.domain.engine.blocking import (
    DEFAULT_MAX_BLOCK,
    TRAINING_RULES,
    BlockingRule,
    pairs_of_rule,
)
from mdm_matching.domain.engine.comparisons import COMPARISONS, Vector, compare
from mdm_matching.domain.engine.features import MatchRecord
from mdm_matching.domain.engine.given_names import lexicon
from mdm_matching.domain.engine.guards import Guards

EPSILON = 1e-5
MAX_EM_ITERATIONS = 40
# A name the trained model keeps a frequency for is carried by at least this many
# persons (k-anonymity): the model then names nobody, and erasing a person need not
# touch it. Rarer names share one frequency per attribute, the mean frequency of the
# rare names (an aggregate that names nobody either): most family names in a
# customer base are rare, and the level's u, dominated by "Müller" and "Schmidt",
# would understate two "Przybylski" agreeing by several bits.
MIN_TF_PERSONS = 5
# Distinct level patterns (with the exactly agreeing name, which adjusts the weight)
# whose weight and explanation a scorer remembers: pairs repeat them by the thousand.
PATTERNS_CACHED = 1 << 15


def _initial_m(levels: int) -> list[float]:
    """A starting point for EM: duplicates mostly agree exactly."""
    shape = [0.80, 0.10, 0.05, 0.03, 0.02][:levels]
    total = sum(shape)
    return [v / total for v in shape]


@dataclass
class Parameters:
    """A trained (or default) model. Serialisable as plain JSON."""

    prior: float  # probability that two random records are duplicates
    m: list[list[float]]
    u: list[list[float]]
    # Relative frequency of each folded given / family name among all records.
    tf: dict[str, dict[str, float]] = field(default_factory=dict)
    # Per attribute: the frequency of a name not in ``tf`` (carried by fewer than
    # MIN_TF_PERSONS persons, or unseen when the model was trained).
    rare_tf: dict[str, float] = field(default_factory=dict)
    trained_on_pairs: int = 0
    iterations: int = 0
    version: str = "default"  # set when stored: when it was trained
    # Thresholds an admin calibrated on stewards' decisions for this model (None: the
    # deployment's settings apply); see domain/calibration.py.
    review_at: float | None = None
    auto_merge_at: float | None = None
    trained_on_subjects: int = 0  # profiles the model was trained on
    trained_at: str | None = None  # ISO time of the training (recalibration keeps it)

    def to_json(self) -> dict[str, object]:
        return {"prior": self.prior, "comparisons": [c.name for c in COMPARISONS], "m": self.m,
                "u": self.u, "tf": self.tf, "rareTf": self.rare_tf,
                "trainedOnPairs": self.trained_on_pairs, "iterations": self.iterations,
                "version": self.version, "reviewAt": self.review_at,
                "autoMergeAt": self.auto_merge_at, "trainedOnSubjects": self.trained_on_subjects,
                "trainedAt": self.trained_at}  # fmt: skip

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> Parameters:
        m, u = _rows_by_comparison(data)
        return cls(
            prior=float(data["prior"]),  # type: ignore[arg-type]
            m=m,
            u=u,
            tf={k: dict(v) for k, v in data.get("tf", {}).items()},  # type: ignore[attr-defined]
            rare_tf={k: float(v) for k, v in data.get("rareTf", {}).items()},  # type: ignore[attr-defined]
            trained_on_pairs=int(data.get("trainedOnPairs", 0)),  # type: ignore[call-overload]
            iterations=int(data.get("iterations", 0)),  # type: ignore[call-overload]
            version=str(data.get("version", "default")),
            review_at=_optional_float(data.get("reviewAt")),
            auto_merge_at=_optional_float(data.get("autoMergeAt")),
            trained_on_subjects=int(data.get("trainedOnSubjects", 0)),  # type: ignore[call-overload]
            trained_at=str(data["trainedAt"]) if data.get("trainedAt") else None,
        )


def _rows_by_comparison(data: Mapping[str, object]) -> tuple[list[list[float]], list[list[float]]]:
    """m and u in the order of :data:`COMPARISONS`, whatever the stored model knew.

    A model stored before a comparison existed (before identifiers: six rows, no
    names) lacks its rows: that comparison gets the untrained defaults until the
    next training. A row whose number of levels changed is replaced likewise.
    """
    stored_m = [list(map(float, row)) for row in data["m"]]  # type: ignore[attr-defined]
    stored_u = [list(map(float, row)) for row in data["u"]]  # type: ignore[attr-defined]
    stored_names = data.get("comparisons")
    names = (
        [str(name) for name in stored_names]  # type: ignore[attr-defined]
        if stored_names
        else [c.name for c in COMPARISONS][: len(stored_m)]
    )
    index = {name: i for i, name in enumerate(names) if i < len(stored_m)}
    defaults = default_parameters()
    m, u = [], []
    for position, comparison in enumerate(COMPARISONS):
        i = index.get(comparison.name)
        if i is not None and len(stored_m[i]) == len(comparison.levels):
            m.append(stored_m[i])
            u.append(stored_u[i])
        else:
            m.append(defaults.m[position])
            u.append(defaults.u[position])
    return m, u


def _optional_float(value: object) -> float | None:
    return None if value is None else float(value)  # type: ignore[arg-type]


def default_parameters() -> Parameters:
    """Used until the first training: conservative guesses, documented in docs/matching.md.

    ``u`` of the exact level is what two random German records share by chance
    (a common given name about 1 %, a birth date 1 in 20,000 ...).
    """
    u_exact = {"givenName": 0.01, "familyName": 0.005, "birthDate": 0.00005, "email": 0.00001,
               "phone": 0.00002, "address": 0.0001, "identifiers": 0.000001}  # fmt: skip
    # The levels between: three times as common by chance as the one above, except
    # birth dates, where a near date is far more common than the same one: some 20
    # dates lie one typo or a day-month swap away (about 1e-3), and the same year with
    # the same month or day is 1/60 x (1/12 + 1/30), about 2e-3.
    # Identifiers: two persons share a value only by a data error, but customer and
    # card numbers are handed out in sequence, so neighbours one digit apart are
    # common (a dense six-digit range: some 60 of them per number).
    u_between = {"birthDate": [0.001, 0.002], "identifiers": [0.001]}
    m, u = [], []
    for comparison in COMPARISONS:
        levels = len(comparison.levels)
        m.append(_initial_m(levels))
        exact = u_exact[comparison.name]
        rest = u_between.get(comparison.name) or [exact * 3 ** (i + 1) for i in range(levels - 2)]
        u.append([exact, *rest, max(EPSILON, 1 - exact - sum(rest))])
    # One duplicate pair among 10,000 random pairs: 10 % duplicates among 2,000 records.
    return Parameters(prior=1e-4, m=m, u=u)


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


def term_frequencies(records: Iterable[MatchRecord]) -> dict[str, dict[str, float]]:
    """Relative frequency of each given / family name at least MIN_TF_PERSONS persons carry."""
    counts, total = _name_counts(records)
    if not total:
        return {}
    return {
        attr: {v: c / total for v, c in counter.items() if c >= MIN_TF_PERSONS}
        for attr, counter in counts.items()
    }


def rare_term_frequencies(records: Iterable[MatchRecord]) -> dict[str, float]:
    """Per attribute, the mean frequency of a name fewer than MIN_TF_PERSONS persons carry.

    The mean over the records that carry a rare name (sum c^2 / (N sum c)): what an
    exact agreement on such a name costs by chance, on average. Never above
    (MIN_TF_PERSONS - 1) / N, and one number per attribute, so it names nobody.
    """
    counts, total = _name_counts(records)
    rare: dict[str, float] = {}
    for attr, counter in counts.items():
        carried = [c for c in counter.values() if c < MIN_TF_PERSONS]
        if carried and total:
            rare[attr] = sum(c * c for c in carried) / (total * sum(carried))
    return rare


def _name_counts(records: Iterable[MatchRecord]) -> tuple[dict[str, Counter[str]], int]:
    counts: dict[str, Counter[str]] = {"given": Counter(), "family": Counter()}
    total = 0
    for record in records:
        total += 1
        if record.given:
            counts["given"][record.given] += 1
        if record.family:
            counts["family"][record.family] += 1
    return counts, total


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

    def score(self, a: MatchRecord, b: MatchRecord) -> Score:
        vector = compare(a, b)
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
        total, probability, contributions = found
        left, right = (a.id, b.id) if a.id <= b.id else (b.id, a.id)
        conflicts = self._guards.conflicts_of(vector, a, b)
        return Score(left, right, total, probability, contributions, conflicts)

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
        probability = 1 / (1 + 2 ** -max(min(total, 60.0), -60.0))
        return total, probability, tuple(contributions)

    def _tf_adjustment(self, index: int, attribute: str, a: MatchRecord, b: MatchRecord) -> float:
        value = getattr(a, attribute)
        if value != getattr(b, attribute):
            return 0.0  # names entered the wrong way round: no frequency of this attribute
        frequency = self.parameters.tf.get(attribute, {}).get(value)
        if frequency is None:
            frequency = self.parameters.rare_tf.get(attribute)
        if frequency is None:
            return 0.0
        u_exact = self.parameters.u[index][0]
        return math.log2(u_exact / max(frequency, EPSILON))


def estimate_u(
    records: Sequence[MatchRecord], *, samples: int = 200_000, seed: int = 1
) -> list[list[float]]:
    """Level frequencies among random pairs; a level never seen gets a small floor."""
    rng = random.Random(seed)  # noqa: S311 - sampling pairs, not cryptography
    counts = [Counter[int]() for _ in COMPARISONS]
    n = len(records)
    if n < 2:
        return default_parameters().u
    for _ in range(samples):
        i, j = rng.randrange(n), rng.randrange(n)
        if i == j:
            continue
        for index, level in enumerate(compare(records[i], records[j])):
            if level is not None:
                counts[index][level] += 1
    u: list[list[float]] = []
    for comparison, counter in zip(COMPARISONS, counts, strict=True):
        total = sum(counter.values())
        levels = len(comparison.levels)
        if not total:
            u.append(default_parameters().u[len(u)])
            continue
        floor = 1 / (total + 1)
        row = [max(counter[level] / total, floor) for level in range(levels)]
        u.append([v / sum(row) for v in row])
    return u


def train(
    records: Sequence[MatchRecord],
    pairs: Iterable[tuple[MatchRecord, MatchRecord]],
    *,
    sessions: Sequence[TrainingSession] = (),
    u_samples: int = 200_000,
) -> Parameters:
    """Estimate u from random pairs, m by EM, then the prior.

    EM over all candidate pairs at once tends to learn the wrong class: with
    common names, "same name, other person" dominates the candidates and becomes
    the "match" class. So, as Splink does, m is estimated in sessions, each over
    the pairs of one training blocking rule and only for the comparisons that rule
    did not block on (pairs blocked on birth date say how often duplicates agree
    on names, and vice versa). Each comparison's m is the mean over its sessions.

    The prior (how likely two random records are duplicates, which a score starts
    from; u, too, is a random-pair probability) comes, as in Splink, from a session
    whose pairs all agree exactly on one comparison (birth date): its EM's share of
    duplicates counts the duplicates with the same birth date, and m of that exact
    level says what share of all duplicates they are. Not from EM over all
    candidate pairs: those were chosen for agreeing names, so strangers called
    "Peter Müller" are far more common among them than the random-pair u assumes,
    and EM takes them for duplicates (RLdata10000: 14 times too many). That is
    the fallback where no such session has pairs.
    """
    u = estimate_u(records, samples=u_samples)
    parameters = Parameters(prior=0.5, m=[_initial_m(len(c.levels)) for c in COMPARISONS], u=u)
    parameters.tf = term_frequencies(records)
    parameters.rare_tf = rare_term_frequencies(records)
    estimates: list[list[list[float]]] = [[] for _ in COMPARISONS]
    shares: list[tuple[TrainingSession, float, int]] = []
    for session in sessions:
        patterns = Counter(compare(a, b) for a, b in session.pairs(records))
        if not patterns:
            continue
        free = [
            i
            for i, c in enumerate(COMPARISONS)
            if c.name not in session.fixed and any(v[i] is not None for v in patterns)
        ]
        # One comparison alone cannot tell how often duplicates differ on it
        # completely from the share of duplicates among the pairs (any split fits:
        # a duplicate with another birth date looks exactly like a namesake). That
        # level's m stays at the initial guess; how the agreeing duplicates spread
        # over the other levels (exact, one typo, same year) is still learnt.
        held = frozenset(free) if len(free) == 1 else frozenset()
        m, share, iterations = _em(parameters, patterns, free=free, estimate_m=True, held=held)
        shares.append((session, share, sum(patterns.values())))
        parameters.iterations += iterations
        for index in free:
            estimates[index].append(m[index])
    for index, found in enumerate(estimates):
        if found:
            mean = [sum(level) / len(found) for level in zip(*found, strict=True)]
            parameters.m[index] = mean
    prior = _prior_from_sessions(parameters, shares, records)
    if prior is not None:
        # The candidate pairs are compared only where the prior must come from them.
        parameters.trained_on_pairs = sum(1 for _ in pairs)
        parameters.prior = prior
        return parameters
    all_patterns = Counter(compare(a, b) for a, b in pairs)
    parameters.trained_on_pairs = sum(all_patterns.values())
    if all_patterns:
        _, blocked_prior, _ = _em(
            parameters, all_patterns, free=list(range(len(COMPARISONS))), estimate_m=False
        )
        prior = _per_random_pair(blocked_prior * parameters.trained_on_pairs, records)
    parameters.prior = prior if prior is not None else default_parameters().prior
    return parameters


def _prior_from_sessions(
    parameters: Parameters, shares: Sequence[tuple[TrainingSession, float, int]],
    records: Sequence[MatchRecord],
) -> float | None:  # fmt: skip
    """Duplicates agreeing exactly on a comparison, over that level's m: all duplicates."""
    names = [c.name for c in COMPARISONS]
    estimates = sorted(
        share * pairs / parameters.m[names.index(session.exact)][0]
        for session, share, pairs in shares
        if session.exact is not None
    )
    if not estimates:
        return None
    return _per_random_pair(estimates[len(estimates) // 2], records)


def _per_random_pair(duplicates: float, records: Sequence[MatchRecord]) -> float:
    all_pairs = len(records) * (len(records) - 1) / 2
    return min(max(duplicates / all_pairs, 1e-9), 0.5)


@dataclass(frozen=True)
class TrainingSession:
    """The pairs of one blocking rule, and the comparisons that rule fixes.

    ``exact``: the comparison on whose exact level every pair of the rule agrees
    (then the session also estimates the prior), if any.
    """

    name: str
    fixed: frozenset[str]
    pairs: Callable[[Sequence[MatchRecord]], Iterable[tuple[MatchRecord, MatchRecord]]]
    exact: str | None = None


def _em(
    parameters: Parameters, patterns: Counter[Vector], *, free: list[int], estimate_m: bool,
    held: frozenset[int] = frozenset(),
) -> tuple[list[list[float]], float, int]:  # fmt: skip
    """EM over the ``free`` comparisons; for those in ``held`` the m of the last
    level ("differs") stays at its starting value and only the others are learnt."""
    m, prior = [list(row) for row in parameters.m], 0.5
    iteration = 0
    for iteration in range(1, MAX_EM_ITERATIONS + 1):  # noqa: B007 - reported
        new_m, new_prior = _em_step(m, parameters.u, prior, patterns, free)
        for index in held:
            differs = m[index][-1]
            agreeing = sum(new_m[index][:-1])
            new_m[index] = [v * (1 - differs) / agreeing for v in new_m[index][:-1]] + [differs]
        if not estimate_m:
            new_m = m
        change = max([abs(new_prior - prior)] + [abs(x - y) for i in free
                     for x, y in zip(new_m[i], m[i], strict=True)])  # fmt: skip
        m, prior = new_m, new_prior
        if change < 1e-5:
            break
    return m, prior, iteration


def _em_step(
    m: list[list[float]], u: list[list[float]], prior: float, patterns: Counter[Vector],
    free: list[int],
) -> tuple[list[list[float]], float]:  # fmt: skip
    expected = [[0.0] * len(row) for row in m]
    known = [0.0] * len(m)
    matches = 0.0
    total = 0
    prior = min(max(prior, EPSILON), 1 - EPSILON)
    for vector, count in patterns.items():
        p_match, p_non = prior, 1 - prior
        for index in free:
            level = vector[index]
            if level is not None:
                p_match *= max(m[index][level], EPSILON)
                p_non *= u[index][level]
        posterior = p_match / (p_match + p_non)
        matches += posterior * count
        total += count
        for index in free:
            level = vector[index]
            if level is not None:
                expected[index][level] += posterior * count
                known[index] += posterior * count
    new_m = [list(row) for row in m]
    for index in free:
        if known[index] > 0:
            smoothed = [max(v / known[index], EPSILON) for v in expected[index]]
            new_m[index] = [v / sum(smoothed) for v in smoothed]
    return new_m, matches / total


def default_sessions(*, max_block: int = DEFAULT_MAX_BLOCK) -> list[TrainingSession]:
    def pairs_for(
        rule: BlockingRule,
    ) -> Callable[[Sequence[MatchRecord]], Iterable[tuple[MatchRecord, MatchRecord]]]:
        return lambda records: pairs_of_rule(rule, records, max_block=max_block)

    return [
        TrainingSession(rule.name, fixed, pairs_for(rule), exact=exact)
        for rule, fixed, exact in TRAINING_RULES
    ]
