"""From scored pairs to groups of duplicates, without chaining.

Plain connected components chain: A~B and B~C make A, B, C one profile even when
A and C are two members of one household and B is an ambiguous record between
them. Here clusters grow greedily from the strongest pair down, and two clusters
join only if *every* pair across them scores at least ``keep`` and no pair across
them is vetoed by an identity guard. A bridge record can therefore join one side,
never glue both together.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

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
