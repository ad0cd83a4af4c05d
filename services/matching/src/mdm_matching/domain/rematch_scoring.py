"""A batch job's partition, scored column-wise.

Every partition blocks all active subjects, so that each sees the same candidate
pairs, and scores the pairs that hash to it. The pairs are found and scored some
million at a time with the engine's columns (``engine/batch_scoring.py``), which
give every pair the weight, probability, vetoes and explanation that
``Scorer.score`` gives it pair by pair; only the pairs at or above the review
threshold become :class:`~mdm_matching.domain.engine.model.Score` objects. At a
million subjects that is minutes instead of most of an hour.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from mdm_matching.domain.engine import blocking
from mdm_matching.domain.engine.batch_blocking import CandidatePairs, candidate_chunks
from mdm_matching.domain.engine.batch_comparisons import BatchComparisons
from mdm_matching.domain.engine.batch_scoring import BatchScorer
from mdm_matching.domain.engine.columns import RecordTable
from mdm_matching.domain.engine.features import MatchRecord
from mdm_matching.domain.engine.model import Score, Scorer

Hashes = npt.NDArray[np.uint64]
_MIX = 0x9E3779B1  # the golden ratio's 32 bits: the left id's hash moves to other bits
_LOW_32 = 0xFFFFFFFF


def id_hash(record_id: str) -> int:
    """A record id's hash, the same in every worker process (``hash()`` of a string
    differs between processes)."""
    return zlib.crc32(record_id.encode())


def partition_of(left: str, right: str, partitions: int) -> int:
    """The partition a pair (smaller id first) belongs to. (Until 2026-12-06 it was
    the CRC-32 of ``left|right``: a job whose partitions were scored partly before and
    partly after that upgrade would miss pairs; start it again.)"""
    return ((id_hash(left) * _MIX ^ id_hash(right)) & _LOW_32) % partitions


def partitions_of(left: Hashes, right: Hashes, partitions: int) -> npt.NDArray[np.uint64]:
    """:func:`partition_of` of many pairs, given their ids' hashes."""
    mixed = (left * np.uint64(_MIX) ^ right) & np.uint64(_LOW_32)
    found: npt.NDArray[np.uint64] = mixed % np.uint64(partitions)
    return found


@dataclass(frozen=True)
class PartitionScores:
    scored: int  # candidate pairs of the partition
    proposals: list[Score]  # those at or above the review threshold


def score_partition_pairs(
    records: Sequence[MatchRecord],
    scorer: Scorer,
    *,
    partitions: int,
    number: int,
    review_at: float,
    max_block: int,
) -> PartitionScores:
    """Partition ``number``'s candidate pairs of ``records`` scored, with those whose
    probability is at least ``review_at``, in the order blocking finds them."""
    if not records:
        return PartitionScores(0, [])
    table = RecordTable.of(records)
    batch = BatchScorer(scorer, BatchComparisons(table))
    hashes = np.fromiter((id_hash(r.id) for r in records), dtype=np.uint64, count=len(records))
    scored, proposals = 0, list[Score]()
    for chunk in candidate_chunks(
        records, rules=blocking.RULES, max_block=max_block, rank=table.rank
    ):
        mine: Any = partitions_of(hashes[chunk.left], hashes[chunk.right], partitions) == number
        pairs = CandidatePairs(chunk.left[mine], chunk.right[mine])
        scored += len(pairs)
        kept = batch.score_all(pairs, keep_at_least=review_at)
        proposals.extend(batch.score_of(kept, i) for i in range(len(kept)))
    return PartitionScores(scored, proposals)
