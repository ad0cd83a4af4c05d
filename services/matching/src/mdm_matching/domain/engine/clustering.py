"""From scored pairs to groups of duplicates, without chaining.

Plain connected components chain: A~B and B~C make A, B, C one profile even when
A and C are two members of one household and B is an ambiguous record between
them. Here clusters grow greedily from the strongest pair down, and two clusters
join only if *every* pair across them scores at least ``keep`` and no pair across
them is vetoed by an identity guard. A bridge record can therefore join one side,
never glue both together.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import numpy as np
import numpy.typing as npt

from mdm_matching.domain.engine.batch_scoring import ScoredPairs
from mdm_matching.domain.engine.model import Score


def cluster(
    scores: Iterable[Score],
    *,
    accept: float,
    keep: float,
    score_pair: Callable[[str, str], Score],
) -> list[frozenset[str]]:
    """Groups of two or more ids; ``score_pair`` scores pairs that blocking never proposed."""
    known: dict[tuple[str, str], Score] = {}
    edges = []
    for score in scores:
        known[(score.left, score.right)] = score
        if score.probability >= accept and not score.vetoed:
            edges.append(score)
    edges.sort(key=lambda s: (-s.weight, s.left, s.right))

    def compatible(a: str, b: str) -> bool:
        pair = (a, b) if a < b else (b, a)
        if pair not in known:
            known[pair] = score_pair(*pair)
        found = known[pair]
        return found.probability >= keep and not found.vetoed

    cluster_of: dict[str, set[str]] = {}
    for edge in edges:
        left = cluster_of.setdefault(edge.left, {edge.left})
        right = cluster_of.setdefault(edge.right, {edge.right})
        if left is right:
            continue
        if all(compatible(a, b) for a in left for b in right):
            left |= right
            for member in right:
                cluster_of[member] = left
    unique = {id(group): group for group in cluster_of.values()}
    return [frozenset(group) for group in unique.values() if len(group) > 1]


def cluster_scored(
    scored: ScoredPairs,
    *,
    ids: Sequence[str],
    rank: npt.NDArray[np.int64],
    accept: float,
    keep: float,
    score_pair: Callable[[int, int], Score],
) -> list[frozenset[str]]:
    """:func:`cluster` over pairs scored column-wise (``batch_scoring.py``).

    ``ids`` and ``rank``: each record position's id and place in id order;
    ``score_pair`` scores pairs (of positions) that are not among ``scored``. Only
    pairs between records of some edge are ever looked up, so only those are kept:
    pairs of a lower probability than ``keep`` may be left out of ``scored``
    altogether (they are scored again if asked, alike).
    """
    edges = np.flatnonzero(scored.at_least(accept) & ~scored.vetoed)
    left, right = scored.left[edges].astype(np.int64), scored.right[edges].astype(np.int64)
    order = np.lexsort((rank[right], rank[left], -scored.weight[edges]))
    involved = np.zeros(len(ids), dtype=np.bool_)
    involved[left], involved[right] = True, True
    among = np.flatnonzero(involved[scored.left] & involved[scored.right])
    fits = scored.where(among)
    fit = fits.at_least(keep) & ~fits.vetoed
    n = len(ids)
    known = dict(
        zip((fits.left.astype(np.int64) * n + fits.right).tolist(), fit.tolist(), strict=True)
    )

    def compatible(a: int, b: int) -> bool:
        key = a * n + b if rank[a] < rank[b] else b * n + a
        found = known.get(key)
        if found is None:
            score = score_pair(*divmod(key, n))
            found = known[key] = score.probability >= keep and not score.vetoed
        return found

    cluster_of: dict[int, set[int]] = {}
    for a, b in zip(left[order].tolist(), right[order].tolist(), strict=True):
        group_a = cluster_of.setdefault(a, {a})
        group_b = cluster_of.setdefault(b, {b})
        if group_a is group_b:
            continue
        if all(compatible(x, y) for x in group_a for y in group_b):
            group_a |= group_b
            for member in group_b:
                cluster_of[member] = group_a
    unique = {id(group): group for group in cluster_of.values()}
    return [frozenset(ids[m] for m in group) for group in unique.values() if len(group) > 1]
