"""A batch job's scoring work, pair by pair against column-wise, in one process.

    .venv-bench/bin/python bench/partition_scoring.py --records 20000 --partitions 2 --rounds 3

The German generator's records (the profile's cleaning, then matching's features),
a model trained on them as the job's TRAINING phase would, then every partition of
a job scored twice per round, alternating:

- ``pair by pair``: what a partition did before ``domain/rematch_scoring.py``: all
  candidate pairs, each pair's partition from the CRC-32 of its two ids, each pair
  of the partition scored by ``Scorer.score``;
- ``column-wise``: ``rematch_scoring.score_partition_pairs``.

Reading the features from the graph and storing the proposals are left out (the same
for both). The proposals of all partitions must be the same pairs with the same
scores; printed: seconds and CPU seconds per round, pairs scored, proposals.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import zlib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import matching_data
import matching_quality

from mdm_matching.domain.engine import batch_blocking, blocking, model
from mdm_matching.domain.engine.features import MatchRecord
from mdm_matching.domain.engine.model import Score, Scorer
from mdm_matching.domain.online import Policy
from mdm_matching.domain.rematch_scoring import score_partition_pairs


def pair_by_pair(
    records: list[MatchRecord], scorer: Scorer, policy: Policy, partitions: int
) -> tuple[int, list[Score]]:
    by_id = {r.id: r for r in records}
    scored, proposals = 0, []
    for number in range(partitions):
        for left, right in blocking.candidate_pairs(records, max_block=policy.max_block):
            if zlib.crc32(f"{left}|{right}".encode()) % partitions != number:
                continue
            scored += 1
            score = scorer.score(by_id[left], by_id[right])
            if score.probability >= policy.review_at:
                proposals.append(score)
    return scored, proposals


def column_wise(
    records: list[MatchRecord], scorer: Scorer, policy: Policy, partitions: int
) -> tuple[int, list[Score]]:
    scored, proposals = 0, []
    for number in range(partitions):
        found = score_partition_pairs(
            records,
            scorer,
            partitions=partitions,
            number=number,
            review_at=policy.review_at,
            max_block=policy.max_block,
        )
        scored += found.scored
        proposals += found.proposals
    return scored, proposals


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--partitions", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    records = matching_quality.prepare(matching_data.german(args.records)).records
    pairs = batch_blocking.candidate_arrays(
        records, rules=blocking.RULES, max_block=blocking.DEFAULT_MAX_BLOCK
    )
    parameters = model.train(records, pairs, sessions=model.default_sessions())
    scorer = Scorer(parameters)
    policy = Policy().for_model(parameters)
    ways = {"pair by pair": pair_by_pair, "column-wise": column_wise}
    seconds: dict[str, list[float]] = {name: [] for name in ways}
    cpu: dict[str, list[float]] = {name: [] for name in ways}
    found: dict[str, tuple[int, list[Score]]] = {}
    for round_ in range(args.rounds):
        order = list(ways) if round_ % 2 == 0 else list(reversed(ways))
        for name in order:
            wall, process = time.perf_counter(), time.process_time()
            found[name] = ways[name](records, scorer, policy, args.partitions)
            seconds[name].append(time.perf_counter() - wall)
            cpu[name].append(time.process_time() - process)
            print(f"round {round_ + 1} {name}: {seconds[name][-1]:.1f} s", file=sys.stderr)
    (scored, before), (scored_after, after) = found["pair by pair"], found["column-wise"]
    key = {(s.left, s.right): s for s in before}
    same = scored == scored_after and key == {(s.left, s.right): s for s in after}
    print(
        f"German {len(records):,} records, {args.partitions} partitions, {scored:,} pairs "
        f"scored, {len(before):,} proposals (review at {policy.review_at}); "
        f"the same proposals and scores both ways: {same}"
    )
    for name in ways:
        print(
            f"  {name}: {', '.join(f'{s:.1f}' for s in seconds[name])} s "
            f"(median {statistics.median(seconds[name]):.1f} s; CPU median "
            f"{statistics.median(cpu[name]):.1f} s)"
        )


if __name__ == "__main__":
    main()
