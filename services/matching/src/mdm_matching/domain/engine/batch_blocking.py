"""Candidate pairs as arrays of record positions, block after block.

The same pairs in the same order as ``blocking.candidate_pairs`` proposes them (a
unit test holds them to it): blocks in the order their keys first occur, each
block's records in id order, and a pair only in the first usable block both
records are in. Here the pairs of all blocks of one size are laid out at once
(``numpy.triu_indices``), and a pair is dropped where its two records share a
block numbered lower: every record's block per rule is one integer, so that is
one comparison per rule and pair, and no set of the pairs proposed so far is kept.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from mdm_matching.domain.engine.features import MatchRecord

if TYPE_CHECKING:  # blocking.py proposes its pairs through this module
    from mdm_matching.domain.engine.blocking import BlockingRule, BlockingStats

IntArray = npt.NDArray[np.int64]
Positions = npt.NDArray[np.int32]
NO_BLOCK = np.iinfo(np.int32).max  # no usable block: never lower than a block's number
# Pairs laid out at once (a chunk): some 100 MiB of working arrays.
PAIRS_AT_ONCE = 1 << 22


@dataclass(frozen=True)
class CandidatePairs:
    """``left[i]`` and ``right[i]``: positions of a pair's records in the records
    blocked, the record with the smaller id on the left."""

    left: Positions
    right: Positions

    def __len__(self) -> int:
        return len(self.left)

    @classmethod
    def joined(cls, parts: Sequence[CandidatePairs]) -> CandidatePairs:
        empty = np.empty(0, dtype=np.int32)
        return cls(
            np.concatenate([p.left for p in parts] or [empty]),
            np.concatenate([p.right for p in parts] or [empty]),
        )


class DuplicateIdsError(ValueError):
    """Records with one id twice have no order by id (``candidate_pairs`` pairs them
    the slow way)."""


def id_ranks(records: Sequence[MatchRecord]) -> IntArray:
    """Each record's position among the records sorted by id."""
    order = sorted(range(len(records)), key=lambda i: records[i].id)
    rank = np.empty(len(records), dtype=np.int64)
    rank[np.array(order, dtype=np.int64)] = np.arange(len(records))
    return rank


def candidate_arrays(
    records: Sequence[MatchRecord],
    *,
    rules: Sequence[BlockingRule],
    max_block: int,
    stats: BlockingStats | None = None,
    rank: IntArray | None = None,
) -> CandidatePairs:
    """All candidate pairs at once (see :func:`candidate_chunks`)."""
    chunks = candidate_chunks(records, rules=rules, max_block=max_block, stats=stats, rank=rank)
    return CandidatePairs.joined(list(chunks))


def candidate_chunks(
    records: Sequence[MatchRecord],
    *,
    rules: Sequence[BlockingRule],
    max_block: int,
    stats: BlockingStats | None = None,
    rank: IntArray | None = None,
    pairs_at_once: int = PAIRS_AT_ONCE,
) -> Iterator[CandidatePairs]:
    """The candidate pairs, ``pairs_at_once`` at a time (or the pairs of one block),
    in ``candidate_pairs``' order.

    ``rank``: the records' positions in id order, if known. Raises
    :class:`DuplicateIdsError` where an id occurs twice.
    """
    if len({r.id for r in records}) < len(records):
        raise DuplicateIdsError
    if rank is None:
        rank = id_ranks(records)
    blocks = _Blocks(records, tuple(rules), rank, max_block=max_block, stats=stats)
    pairs = 0
    for first, last in blocks.chunks(pairs_at_once):
        chunk = blocks.pairs(first, last)
        pairs += len(chunk)
        yield chunk
    if stats:
        stats.pairs = pairs


class _Blocks:
    """The usable blocks, numbered in the order their keys first occur, with their
    members (record positions) in id order."""

    def __init__(
        self,
        records: Sequence[MatchRecord],
        rules: tuple[BlockingRule, ...],
        rank: IntArray,
        *,
        max_block: int,
        stats: BlockingStats | None,
    ) -> None:
        keyed_parts, member_parts, seen_parts = [], [], []
        offset = 0
        for index, rule in enumerate(rules):
            keyed, members, seen = _keyed(records, rule)
            keyed_parts.append(keyed + offset)
            member_parts.append(members)
            seen_parts.append(np.column_stack([seen[:, 0], np.full(len(seen), index), seen[:, 1]]))
            offset += len(seen)
        seen_all = np.concatenate(seen_parts)
        # Blocks in the order their keys first occur: by record, then rule, then key.
        order = np.lexsort((seen_all[:, 2], seen_all[:, 1], seen_all[:, 0]))
        keyed, members = np.concatenate(keyed_parts), np.concatenate(member_parts)
        sizes = np.bincount(keyed, minlength=len(seen_all))
        usable = sizes <= max_block
        if stats:
            stats.skipped_keys += int((~usable).sum())
            stats.skipped_records += int(sizes[~usable].sum())
        number = np.full(len(seen_all), -1, dtype=np.int64)
        kept = order[usable[order]]
        number[kept] = np.arange(len(kept))
        keep = usable[keyed]
        keyed, members = number[keyed[keep]], members[keep]
        by_block = np.lexsort((rank[members], keyed))
        self.members = members[by_block]
        self.sizes = np.bincount(keyed, minlength=len(kept))
        self.starts = np.cumsum(self.sizes) - self.sizes
        self.columns = _rule_columns(len(records), len(rules), keyed, members, seen_all[kept, 1])
        self.pair_counts = self.sizes * (self.sizes - 1) // 2

    def chunks(self, pairs_at_once: int) -> Iterator[tuple[int, int]]:
        """Ranges of block numbers of at most ``pairs_at_once`` pairs (or one block)."""
        ends = np.cumsum(self.pair_counts)
        first = 0
        while first < len(self.sizes):
            done = ends[first - 1] if first else 0
            last = max(int(np.searchsorted(ends, done + pairs_at_once, side="right")), first + 1)
            yield first, last
            first = last

    def pairs(self, first: int, last: int) -> CandidatePairs:
        counts = self.pair_counts[first:last]
        offsets = np.cumsum(counts) - counts
        total = int(counts.sum())
        left = np.empty(total, dtype=np.int64)
        right = np.empty(total, dtype=np.int64)
        block = np.empty(total, dtype=np.int64)
        sizes = self.sizes[first:last]
        for size in np.unique(sizes[sizes > 1]).tolist():
            at = np.flatnonzero(sizes == size)
            rows = self.members[self.starts[first + at][:, None] + np.arange(size)]
            i, j = np.triu_indices(size, 1)
            into = offsets[at][:, None] + np.arange(len(i))
            left[into], right[into] = rows[:, i], rows[:, j]
            block[into] = (first + at)[:, None]
        earlier = self.columns.share_earlier(left, right, block)
        return CandidatePairs(left[~earlier].astype(np.int32), right[~earlier].astype(np.int32))


def _keyed(
    records: Sequence[MatchRecord], rule: BlockingRule
) -> tuple[IntArray, IntArray, IntArray]:
    """One rule's memberships (block, record position) and, per block in the order
    of the numbers, the record and key slot where its key first occurs."""
    numbers: dict[str, int] = {}
    if rule.keys is None:  # one key per record at most
        found = np.fromiter(
            (numbers.setdefault(k, len(numbers)) if k else -1 for k in map(rule.key, records)),
            dtype=np.int64,
            count=len(records),
        )
        members = np.flatnonzero(found >= 0)
        keyed = found[members]
        slots = np.zeros(len(keyed), dtype=np.int64)
    else:
        keyed_list, member_list, slot_list = [], [], []
        for position, record in enumerate(records):
            for slot, key in enumerate(rule.keys_of(record)):
                keyed_list.append(numbers.setdefault(key, len(numbers)))
                member_list.append(position)
                slot_list.append(slot)
        keyed, members, slots = (
            np.array(values, dtype=np.int64) for values in (keyed_list, member_list, slot_list)
        )
    # Numbers are handed out in order of first occurrence: a new one exceeds all before.
    new = keyed > np.maximum.accumulate(np.r_[-1, keyed[:-1]])
    return keyed, members, np.column_stack([members[new], slots[new]])


@dataclass(frozen=True)
class _RuleColumns:
    blocks: npt.NDArray[np.int32]  # record x column: the usable block, or NO_BLOCK
    rule: IntArray  # the rule of each column

    def share_earlier(
        self, left: IntArray, right: IntArray, block: IntArray
    ) -> npt.NDArray[np.bool_]:
        """Pairs whose records share a block numbered lower than ``block``."""
        mine, theirs = self.blocks[left], self.blocks[right]
        below = mine < block[:, None]
        found = ((mine == theirs) & below).any(axis=1)
        columns = range(len(self.rule))
        for a in columns:  # a rule with several keys: its columns crosswise
            for b in columns:
                if a != b and self.rule[a] == self.rule[b]:
                    found |= (mine[:, a] == theirs[:, b]) & below[:, a]
        result: npt.NDArray[np.bool_] = found
        return result


def _rule_columns(
    records: int, rules: int, block: IntArray, member: IntArray, rule_of_block: IntArray
) -> _RuleColumns:
    """Each record's usable blocks, a column per rule (a rule with several keys per
    record, identifiers, as many columns as a record has keys at most)."""
    rule = rule_of_block[block]
    group = member * rules + rule
    slots = (
        np.bincount(group, minlength=records * rules).reshape(records, rules).max(axis=0, initial=0)
    )
    first_column = np.cumsum(slots) - slots
    blocks = np.full((records, int(slots.sum())), NO_BLOCK, dtype=np.int32)
    # A record's n-th block of a rule goes into that rule's n-th column.
    order = np.argsort(group, kind="stable")
    group, block, member, rule = group[order], block[order], member[order], rule[order]
    starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
    nth = np.arange(len(group)) - np.repeat(starts, np.diff(np.r_[starts, len(group)]))
    blocks[member, first_column[rule] + nth] = block
    return _RuleColumns(blocks, np.repeat(np.arange(rules), slots))
