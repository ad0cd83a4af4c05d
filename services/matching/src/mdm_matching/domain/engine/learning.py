"""Estimating the model's parameters from the records themselves (no labels).

``u`` from random pairs, ``m`` by expectation maximisation in sessions over the
pairs of training blocking rules, the prior from a session whose pairs agree
exactly on one comparison; why so is told at :func:`train`. The pairs are compared
column-wise (``batch_comparisons.py``): the same levels as pair by pair, tens of
times faster.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from mdm_matching.domain.engine.batch_blocking import (
    PAIRS_AT_ONCE,
    CandidatePairs,
    candidate_chunks,
)
from mdm_matching.domain.engine.batch_comparisons import BatchComparisons, Levels
from mdm_matching.domain.engine.blocking import (
    DEFAULT_MAX_BLOCK,
    TRAINING_RULES,
    BlockingRule,
    pairs_of_rule,
)
from mdm_matching.domain.engine.columns import RecordTable
from mdm_matching.domain.engine.comparisons import COMPARISONS, Vector, compare
from mdm_matching.domain.engine.features import MatchRecord
from mdm_matching.domain.engine.parameters import (
    EPSILON,
    Parameters,
    _initial_m,
    default_parameters,
    rare_term_frequencies,
    term_frequencies,
)

MAX_EM_ITERATIONS = 40


def estimate_u(
    records: Sequence[MatchRecord],
    *,
    samples: int = 200_000,
    seed: int = 1,
    comparisons: BatchComparisons | None = None,
) -> list[list[float]]:
    """Level frequencies among random pairs; a level never seen gets a small floor.

    ``comparisons``: of a table of these very records, if there is one."""
    n = len(records)
    if n < 2:
        return default_parameters().u
    rng = random.Random(seed)  # noqa: S311 - sampling pairs, not cryptography
    drawn = np.array(
        [(rng.randrange(n), rng.randrange(n)) for _ in range(samples)], dtype=np.int64
    ).reshape(-1, 2)
    drawn = drawn[drawn[:, 0] != drawn[:, 1]]
    comparisons = comparisons or BatchComparisons(RecordTable.of(records))
    levels = comparisons.levels(drawn[:, 0], drawn[:, 1])
    u: list[list[float]] = []
    for index, comparison in enumerate(COMPARISONS):
        known = levels[:, index]
        counts: list[int] = np.bincount(
            known[known >= 0], minlength=len(comparison.levels)
        ).tolist()
        total = sum(counts)
        if not total:
            u.append(default_parameters().u[len(u)])
            continue
        floor = 1 / (total + 1)
        row = [max(counts[level] / total, floor) for level in range(len(comparison.levels))]
        u.append([v / sum(row) for v in row])
    return u


def train(
    records: Sequence[MatchRecord],
    pairs: Iterable[tuple[MatchRecord, MatchRecord]] | CandidatePairs,
    *,
    sessions: Sequence[TrainingSession] = (),
    u_samples: int = 200_000,
    comparisons: BatchComparisons | None = None,
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

    ``pairs``: the candidate pairs, as records or as positions in ``records``;
    ``comparisons``: of a table of these very records, if made already.
    """
    comparisons = comparisons or BatchComparisons(RecordTable.of(records))
    u = estimate_u(records, samples=u_samples, comparisons=comparisons)
    parameters = Parameters(prior=0.5, m=[_initial_m(len(c.levels)) for c in COMPARISONS], u=u)
    parameters.tf = term_frequencies(records)
    parameters.rare_tf = rare_term_frequencies(records)
    estimates: list[list[list[float]]] = [[] for _ in COMPARISONS]
    shares: list[tuple[TrainingSession, float, int]] = []
    for session in sessions:
        patterns = _session_patterns(session, records, comparisons)
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
        m, share, iterations = em(
            parameters.m, parameters.u, patterns, free=free, estimate_m=True, held=held
        )
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
        parameters.trained_on_pairs = (
            len(pairs) if isinstance(pairs, CandidatePairs) else sum(1 for _ in pairs)
        )
        parameters.prior = prior
        return parameters
    all_patterns = _candidate_patterns(pairs, comparisons)
    parameters.trained_on_pairs = sum(all_patterns.values())
    if all_patterns:
        _, blocked_prior, _ = em(
            parameters.m,
            parameters.u,
            all_patterns,
            free=list(range(len(COMPARISONS))),
            estimate_m=False,
        )
        prior = _per_random_pair(blocked_prior * parameters.trained_on_pairs, records)
    parameters.prior = prior if prior is not None else default_parameters().prior
    return parameters


def _candidate_patterns(
    pairs: Iterable[tuple[MatchRecord, MatchRecord]] | CandidatePairs,
    comparisons: BatchComparisons,
) -> Counter[Vector]:
    if not isinstance(pairs, CandidatePairs):
        return Counter(compare(a, b) for a, b in pairs)
    patterns = Patterns()
    for start in range(0, len(pairs), PAIRS_AT_ONCE):
        at = slice(start, start + PAIRS_AT_ONCE)
        patterns.add(comparisons.levels(pairs.left[at], pairs.right[at]))
    return patterns.counted()


def _session_patterns(
    session: TrainingSession, records: Sequence[MatchRecord], comparisons: BatchComparisons
) -> Counter[Vector]:
    """The level patterns of a session's pairs (column-wise where it names its rule)."""
    if session.rule is None or not comparisons.table.unique_ids:
        return Counter(compare(a, b) for a, b in session.pairs(records))
    patterns = Patterns()
    for chunk in candidate_chunks(
        records, rules=(session.rule,), max_block=session.max_block, rank=comparisons.table.rank
    ):
        patterns.add(comparisons.levels(chunk.left, chunk.right))
    return patterns.counted()


class Patterns:
    """Level patterns counted, in the order they first occur (as ``Counter`` over the
    pairs one by one has them: EM sums over them in this order)."""

    _BASE = 6  # a level (at most five) plus "unknown"

    def __init__(self) -> None:
        self._counts: dict[int, int] = {}
        self._places = self._BASE ** np.arange(len(COMPARISONS), dtype=np.int64)

    def add(self, levels: Levels) -> None:
        codes = (levels.astype(np.int64) + 1) @ self._places
        distinct, first, counts = np.unique(codes, return_index=True, return_counts=True)
        for at in np.argsort(first, kind="stable").tolist():
            code = int(distinct[at])
            self._counts[code] = self._counts.get(code, 0) + int(counts[at])

    def counted(self) -> Counter[Vector]:
        return Counter({self._vector(code): count for code, count in self._counts.items()})

    def _vector(self, code: int) -> Vector:
        digits = [code // int(place) % self._BASE for place in self._places]
        return tuple(None if digit == 0 else digit - 1 for digit in digits)


def _prior_from_sessions(
    parameters: Parameters,
    shares: Sequence[tuple[TrainingSession, float, int]],
    records: Sequence[MatchRecord],
) -> float | None:
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
    (then the session also estimates the prior), if any. ``rule``: the blocking rule
    whose pairs ``pairs`` gives, if it is one (its pairs are then found column-wise).
    """

    name: str
    fixed: frozenset[str]
    pairs: Callable[[Sequence[MatchRecord]], Iterable[tuple[MatchRecord, MatchRecord]]]
    exact: str | None = None
    rule: BlockingRule | None = None
    max_block: int = DEFAULT_MAX_BLOCK


def em(
    m: list[list[float]],
    u: list[list[float]],
    patterns: Counter[Vector],
    *,
    free: list[int],
    estimate_m: bool = True,
    held: frozenset[int] = frozenset(),
    share: float = 0.5,
) -> tuple[list[list[float]], float, int]:
    """EM from ``m`` (and ``share`` of matches) over the ``free`` comparisons, u
    held; for those in ``held`` the m of the last level ("differs") stays at its
    starting value and only the others are learnt. Any Fellegi-Sunter model's (the
    company engine's too). Returns m, the share of matches and the iterations."""
    m, prior = [list(row) for row in m], share
    iteration = 0
    for iteration in range(1, MAX_EM_ITERATIONS + 1):  # noqa: B007 - reported
        new_m, new_prior = em_step(m, u, prior, patterns, free)
        for index in held:
            differs = m[index][-1]
            agreeing = sum(new_m[index][:-1])
            new_m[index] = [v * (1 - differs) / agreeing for v in new_m[index][:-1]] + [differs]
        if not estimate_m:
            new_m = m
        change = max(
            [abs(new_prior - prior)]
            + [abs(x - y) for i in free for x, y in zip(new_m[i], m[i], strict=True)]
        )
        m, prior = new_m, new_prior
        if change < 1e-5:
            break
    return m, prior, iteration


def em_step(
    m: list[list[float]],
    u: list[list[float]],
    prior: float,
    patterns: Counter[Vector],
    free: list[int],
) -> tuple[list[list[float]], float]:
    """One EM iteration over counted comparison vectors (``None``: unknown, no
    evidence): the new m of the ``free`` comparisons and the new share of matches.
    Any Fellegi-Sunter model's (the company engine's too)."""
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
        TrainingSession(
            rule.name, fixed, pairs_for(rule), exact=exact, rule=rule, max_block=max_block
        )
        for rule, fixed, exact in TRAINING_RULES
    ]
