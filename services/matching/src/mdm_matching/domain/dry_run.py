"""A dry run of new thresholds: what would change, before anything is changed.

Computed over the pairs matching holds with a score: the unresolved review tasks
and the automatic merges that stand (not undone), each with the probability and
guards it was scored with. For each pair, what it is now (a task, merged) is
compared with what the new thresholds would make of it:

- a task at or above the new auto-merge threshold, without guard, would be merged
  (the persons it joins are counted as clusters, since one person may merge with
  several), unless it is AMBIGUOUS (a steward picks among several likely profiles);
  one below the new review threshold would be closed;
- an automatic merge below the new auto-merge threshold would not have been made:
  its cluster would split, and a task would take its place where the pair still
  reaches the review threshold;
- a task that one guard alone holds back would be closed when that guard is no
  longer reviewed (``Policy.unreviewed_guards``).

Steward decisions stand whatever the thresholds (a steward's MERGE is not split,
a NOT_A_MATCH not merged). Not covered: pairs scored below the review threshold
of their time are not kept, so a lower review threshold cannot show the tasks it
would add (the batch job, re-matching everything, does); and scores are those of
the model that scored each pair (a new model's effect shows in the next batch job).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum


class Outcome(StrEnum):
    MERGED = "MERGED"
    TASK = "TASK"
    NOTHING = "NOTHING"


@dataclass(frozen=True)
class ScoredPair:
    left: str
    right: str
    probability: float
    conflicts: tuple[str, ...]  # identity guards that fired
    now: Outcome  # TASK for an unresolved task, MERGED for a standing automatic merge
    # A task opened because several profiles scored above the merge threshold for one
    # person: a steward picks, whatever the thresholds.
    ambiguous: bool = False


def outcome(
    probability: float,
    conflicts: Sequence[str],
    *,
    review_at: float,
    auto_merge_at: float,
    unreviewed_guards: Collection[str] = (),
) -> Outcome:
    """What the engine makes of a pair under these thresholds (``Policy``'s rules:
    a guarded pair is never merged, two guards are not worth a review, nor is one
    that is no longer reviewed)."""
    if probability >= auto_merge_at and not conflicts:
        return Outcome.MERGED
    if probability >= review_at and len(conflicts) < 2:
        if conflicts and conflicts[0] in unreviewed_guards:
            return Outcome.NOTHING
        return Outcome.TASK
    return Outcome.NOTHING


@dataclass(frozen=True)
class DryRun:
    review_at: float
    auto_merge_at: float
    unreviewed_guards: tuple[str, ...]
    pairs: int  # scored pairs the dry run covers
    open_tasks: int  # of which unresolved review tasks
    auto_merges: int  # of which standing automatic merges
    pairs_to_merge: int  # tasks that would be merged
    clusters_to_merge: int  # groups of persons those merges would form
    merges_to_split: int  # automatic merges that would not have been made
    tasks_to_appear: int  # of those, pairs that would become review tasks
    tasks_to_disappear: int  # tasks merged, below the review threshold or unreviewed


def dry_run(
    pairs: Sequence[ScoredPair],
    *,
    review_at: float,
    auto_merge_at: float,
    unreviewed_guards: Collection[str] = (),
) -> DryRun:
    if not 0 < review_at <= auto_merge_at <= 1:
        raise ValueError("thresholds need 0 < review_at <= auto_merge_at <= 1")
    merging: list[tuple[str, str]] = []
    split = appear = disappear = 0
    for pair in pairs:
        then = outcome(
            pair.probability,
            pair.conflicts,
            review_at=review_at,
            auto_merge_at=auto_merge_at,
            unreviewed_guards=unreviewed_guards,
        )
        if pair.ambiguous and then == Outcome.MERGED:
            then = Outcome.TASK
        if pair.now == Outcome.TASK and then != Outcome.TASK:
            disappear += 1
            if then == Outcome.MERGED:
                merging.append((pair.left, pair.right))
        elif pair.now == Outcome.MERGED and then != Outcome.MERGED:
            split += 1
            appear += then == Outcome.TASK
    return DryRun(
        review_at=review_at,
        auto_merge_at=auto_merge_at,
        unreviewed_guards=tuple(sorted(unreviewed_guards)),
        pairs=len(pairs),
        open_tasks=sum(1 for p in pairs if p.now == Outcome.TASK),
        auto_merges=sum(1 for p in pairs if p.now == Outcome.MERGED),
        pairs_to_merge=len(merging),
        clusters_to_merge=len(_components(merging)),
        merges_to_split=split,
        tasks_to_appear=appear,
        tasks_to_disappear=disappear,
    )


def _components(edges: Iterable[tuple[str, str]]) -> list[set[str]]:
    """Connected groups of persons (union-find)."""
    parent: dict[str, str] = {}

    def root(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in edges:
        parent[root(a)] = root(b)
    groups: dict[str, set[str]] = {}
    for x in list(parent):
        groups.setdefault(root(x), set()).add(x)
    return list(groups.values())
