"""Pairwise precision, recall and F1 of record groups against the truth, for the
benchmarks that count pairs of records of one real person or company."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Hashable, Mapping


def _pairs(counts: Counter[Hashable]) -> int:
    return sum(math.comb(n, 2) for n in counts.values())


def pairwise(truth: Mapping[str, str], group_of: Mapping[str, str]) -> dict[str, float]:
    """``truth``: record id -> real entity; ``group_of``: record id -> the group the
    platform or a tool put it in (a record missing from it is a group of its own)."""
    found = _pairs(Counter(group_of.get(r, r) for r in truth))
    true = _pairs(Counter(truth.values()))
    both = _pairs(Counter((group_of.get(r, r), t) for r, t in truth.items()))
    precision = both / found if found else 1.0
    recall = both / true if true else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"P": round(precision, 4), "R": round(recall, 4), "F1": round(f1, 4)}
