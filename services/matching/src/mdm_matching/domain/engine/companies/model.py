"""The company model: Fellegi-Sunter over :data:`COMPANY_COMPARISONS`. m is trained
by EM in sessions, as for persons (``engine/learning.py``, whose EM this is); u comes
from random pairs, with the duplicates among them taken out, and is set by law for
the legal identifiers (decision 0014).
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from mdm_matching.domain.engine.companies import blocking
from mdm_matching.domain.engine.companies.comparisons import (
    COMPANY_COMPARISONS,
    compare,
    conflicts_of,
)
from mdm_matching.domain.engine.companies.features import CompanyRecord
from mdm_matching.domain.engine.learning import em
from mdm_matching.domain.engine.model import Contribution, Score, probability_of
from mdm_matching.domain.engine.parameters import EPSILON

RANDOM_PAIRS = 200_000
# The least chance agreement a level keeps once the duplicates are taken out of the
# random pairs: two companies sharing a VAT id, register entry or LEI by a data error,
# about one pair in ten million. (The sample of random pairs alone cannot tell: a
# level seen in none of its 200,000 pairs would be given 1/200,000, which caps what an
# identifier can outweigh as the base grows and its prior falls.)
U_FLOOR = 1e-7

# What two different companies share by chance (u of each level, strongest first):
# names are nearly unique, legal identifiers unique; a business park gives many
# companies one street and house number; most are GmbHs.
_U = {
    "name": [1e-5, 1e-5, 1e-4, 3e-3],
    "registerEntry": [1e-6, 1e-5],
    "vatId": [1e-6],
    "lei": [1e-6],
    "domain": [1e-5],
    "address": [2e-3, 3e-3, 2e-2, 5e-2],
    "legalForm": [0.5],
}
# Where EM starts: duplicates mostly agree.
_M = {
    "name": [0.6, 0.05, 0.15, 0.1],
    "registerEntry": [0.9, 0.05],
    "vatId": [0.95],
    "lei": [0.98],
    "domain": [0.8],
    "address": [0.8, 0.1, 0.05, 0.02],
    "legalForm": [0.85],
}


def _row(agreeing: list[float]) -> list[float]:
    return [*agreeing, max(EPSILON, 1 - sum(agreeing))]


DEFAULT_VERSION = "company-default-1"


@dataclass
class CompanyParameters:
    prior: float  # the probability that two random companies are one
    m: list[list[float]]
    u: list[list[float]]
    trained_on_pairs: int = 0
    iterations: int = 0
    # Names the model in the evidence of the pairs it scored (a training job's own).
    version: str = DEFAULT_VERSION
    trained_on_companies: int = 0

    def to_json(self) -> dict[str, object]:
        return {
            "version": self.version,
            "trainedOnCompanies": self.trained_on_companies,
            "prior": self.prior,
            "comparisons": [c.name for c in COMPANY_COMPARISONS],
            "m": self.m,
            "u": self.u,
            "trainedOnPairs": self.trained_on_pairs,
            "iterations": self.iterations,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> CompanyParameters:
        return cls(
            prior=float(data["prior"]),  # type: ignore[arg-type]
            m=[[float(v) for v in row] for row in data["m"]],  # type: ignore[attr-defined]
            u=[[float(v) for v in row] for row in data["u"]],  # type: ignore[attr-defined]
            trained_on_pairs=int(data.get("trainedOnPairs", 0)),  # type: ignore[call-overload]
            iterations=int(data.get("iterations", 0)),  # type: ignore[call-overload]
            version=str(data.get("version") or DEFAULT_VERSION),
            trained_on_companies=int(data.get("trainedOnCompanies", 0)),  # type: ignore[call-overload]
        )


def default_company_parameters() -> CompanyParameters:
    """Used until a model is trained: guesses documented above."""
    return CompanyParameters(
        prior=1e-4,
        m=[_row(_M[c.name]) for c in COMPANY_COMPARISONS],
        u=[_row(_U[c.name]) for c in COMPANY_COMPARISONS],
    )


def estimate_u(
    records: Sequence[CompanyRecord], *, samples: int = RANDOM_PAIRS, seed: int = 1
) -> list[list[float]]:
    """Level frequencies among random pairs of companies that are no branches; a
    level never seen gets a small floor."""
    n = len(records)
    if n < 2:
        return default_company_parameters().u
    rng = random.Random(seed)  # noqa: S311 - sampling pairs, not cryptography
    counts = [Counter[int]() for _ in COMPANY_COMPARISONS]
    for _ in range(samples):
        i, j = rng.randrange(n), rng.randrange(n)
        a, b = records[i], records[j]
        # A branch shares its head office's identifiers: such pairs are settled by
        # their guard, and would make agreeing identifiers look common by chance.
        if i == j or a.is_branch or b.is_branch:
            continue
        for index, level in enumerate(compare(a, b)):
            if level is not None:
                counts[index][level] += 1
    u = []
    for index, comparison in enumerate(COMPANY_COMPARISONS):
        total = sum(counts[index].values())
        if not total:
            u.append(default_company_parameters().u[index])
            continue
        floor = 1 / (total + 1)
        row = [max(counts[index][lv] / total, floor) for lv in range(len(comparison.levels))]
        u.append([v / sum(row) for v in row])
    return u


# Training sessions, as for persons: the pairs sharing one kind of key, with the
# comparisons that key makes agree held out (among such pairs strangers agree on them
# too, unlike random pairs, so EM would take "shares the key" for "is a duplicate").
# Each comparison's m comes from the sessions that leave it free.
SESSIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("name", ("name", "legalForm")),
    ("address", ("address",)),
)


def train(records: Sequence[CompanyRecord], pairs: Iterable[tuple[int, int]]) -> CompanyParameters:
    """m by EM in the training sessions, u from random pairs (the duplicates among
    them taken out), the prior from all candidates (``pairs``)."""
    start = default_company_parameters()
    u = estimate_u(records)
    names = [c.name for c in COMPANY_COMPARISONS]
    learnt: list[list[list[float]]] = [[] for _ in names]
    iterations = 0
    for rule, held in SESSIONS:
        session = blocking.candidate_pairs(records, rules={rule})
        patterns = Counter(compare(records[i], records[j]) for i, j in session)
        if not patterns:
            continue
        free = [i for i, name in enumerate(names) if name not in held]
        m, _, used = em(start.m, u, patterns, free=free, share=0.1)
        iterations += used
        for i in free:
            learnt[i].append(m[i])
    m = [
        [sum(values) / len(rows) for values in zip(*rows, strict=True)] if rows else start.m[i]
        for i, rows in enumerate(learnt)
    ]
    everything = Counter(compare(records[i], records[j]) for i, j in pairs)
    prior = _prior(m, u, everything, len(records))
    # Random pairs include the duplicates: of a value nearly every duplicate shares
    # and no stranger does (a VAT id), u comes out as about the share of duplicate
    # pairs, not as the chance agreement it is. Taken out once: u = (seen - prior m)
    # / (1 - prior), at least the sampling floor; then the prior again.
    u = [_without_matches(seen, row, prior) for seen, row in zip(u, m, strict=True)]
    for index in _BY_LAW:
        u[index] = _by_law(u[index])
    prior = _prior(m, u, everything, len(records))
    return CompanyParameters(
        prior, m, u, trained_on_pairs=sum(everything.values()), iterations=iterations
    )


def _prior(
    m: list[list[float]], u: list[list[float]], patterns: Counter[tuple[int | None, ...]], n: int
) -> float:
    """The share of matches among all random pairs: EM's share among the candidates
    (m and u held) times candidates per possible pair."""
    candidates, possible = sum(patterns.values()), n * (n - 1) / 2
    if not candidates or not possible:
        return default_company_parameters().prior
    share = em(m, u, patterns, free=list(range(len(m))), estimate_m=False, share=0.1)[1]
    return min(max(share * candidates / possible, EPSILON), 0.5)


# Register entry, VAT id and LEI: issued once per legal entity by law, so two companies
# share one only by a data error (a branch shares its head office's, and is settled by
# its guard). What a sample of random pairs shows of them is duplicates, not chance.
_BY_LAW = tuple(
    i for i, c in enumerate(COMPANY_COMPARISONS) if c.name in {"registerEntry", "vatId", "lei"}
)


def _by_law(row: list[float]) -> list[float]:
    """The exact level's u at the floor; the others keep their share of the rest."""
    rest = sum(row[1:])
    return [U_FLOOR, *[(1 - U_FLOOR) * v / rest for v in row[1:]]]


def _without_matches(seen: list[float], m: list[float], prior: float) -> list[float]:
    row = [max((s - prior * k) / (1 - prior), U_FLOOR) for s, k in zip(seen, m, strict=True)]
    return [v / sum(row) for v in row]


class CompanyScorer:
    def __init__(self, parameters: CompanyParameters) -> None:
        self.parameters = parameters
        self._weights = [
            [math.log2(max(m, EPSILON) / max(u, U_FLOOR)) for m, u in zip(ms, us, strict=True)]
            for ms, us in zip(parameters.m, parameters.u, strict=True)
        ]
        self._prior_weight = math.log2(parameters.prior / (1 - parameters.prior))

    def score(self, a: CompanyRecord, b: CompanyRecord) -> Score:
        vector = compare(a, b)
        contributions = []
        weight = self._prior_weight
        for index, (comparison, level) in enumerate(zip(COMPANY_COMPARISONS, vector, strict=True)):
            if level is None:
                contributions.append(Contribution(comparison.name, None, 0.0))
                continue
            part = self._weights[index][level]
            weight += part
            contributions.append(Contribution(comparison.name, comparison.levels[level], part))
        # Ids in order, as the person scorer gives them: a pair's evidence and the
        # decisions on it name its sides in the order of its key.
        left, right = (a.id, b.id) if a.id <= b.id else (b.id, a.id)
        return Score(
            left,
            right,
            weight,
            probability_of(weight),
            tuple(contributions),
            conflicts_of(vector, a, b),
        )
