"""Where a newcomer's true matches rank among its online candidates (no servers).

    .venv-bench/bin/python bench/matching_candidates.py [--sets febrl3,febrl4,rldata,german]

Online matching scores a newcomer against at most ``MATCHING_MAX_CANDIDATES`` of
the subjects sharing a blocking key with it, ranked by the sum of 1 / block size
over the shared keys (``GraphSubjectStore.sharing_keys``). This checks the ranking
on the benchmark sets: a fifth of each set's records (3,000 of the German one)
arrive as newcomers against the rest, and for each true match among a newcomer's
candidates the rank is counted, and the lowest rank of a true match the default
model would merge or send to review (probability at or above the review threshold).
Labels are read here only, to evaluate.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from matching_quality import load, prepare

from mdm_matching.domain.engine import blocking
from mdm_matching.domain.engine.features import MatchRecord
from mdm_matching.domain.engine.model import Scorer, default_parameters
from mdm_matching.domain.online import Policy

BUCKET = 10


def ranks(records: list[MatchRecord], truth: dict[str, str], newcomers: int) -> None:
    shuffled = list(records)
    random.Random(3).shuffle(shuffled)
    arriving, stored = shuffled[:newcomers], shuffled[newcomers:]
    blocks: dict[str, list[str]] = defaultdict(list)
    for record in stored:
        for key in blocking.keys_of(record):
            blocks[key].append(record.id)
    by_id = {r.id: r for r in stored}
    scorer, policy = Scorer(default_parameters()), Policy()
    found: Counter[int] = Counter()
    counts, worst, worst_decided, lost = [], 0, 0, 0
    for record in arriving:
        weight: dict[str, float] = defaultdict(float)
        for key in blocking.keys_of(record):
            members = blocks.get(key, [])
            if len(members) + 1 > blocking.DEFAULT_MAX_BLOCK:  # the newcomer joins the block
                continue
            for other in members:
                weight[other] += 1 / (len(members) + 1)
        ordered = sorted(weight, key=lambda other: (-weight[other], other))
        counts.append(len(ordered))
        for rank, other in enumerate(ordered):
            if truth[other] == truth[record.id]:
                found[rank // BUCKET * BUCKET] += 1
                worst = max(worst, rank + 1)
                if scorer.score(record, by_id[other]).probability >= policy.review_at:
                    worst_decided = max(worst_decided, rank + 1)
                    lost += rank >= blocking.DEFAULT_MAX_CANDIDATES
    buckets = ", ".join(f"{b + 1}-{b + BUCKET}: {n}" for b, n in sorted(found.items()))
    print(f"  {len(arriving)} newcomers against {len(stored)}; candidates per newcomer "
          f"median {statistics.median(counts):.0f}, max {max(counts)}")  # fmt: skip
    print(f"  true matches among the candidates: {sum(found.values())}, by rank {buckets}; "
          f"lowest rank {worst} (limit {blocking.DEFAULT_MAX_CANDIDATES})")  # fmt: skip
    print(f"  true matches the default model merges or reviews: lowest rank {worst_decided}, "
          f"beyond the limit {lost}")  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sets", default="febrl3,febrl4,rldata,german")
    parser.add_argument("--german-records", type=int, default=103_000)
    parser.add_argument("--german-newcomers", type=int, default=3_000)
    args = parser.parse_args()
    for name in args.sets.split(","):
        data = load(name, args.german_records)
        prepared = prepare(data)
        newcomers = args.german_newcomers if name == "german" else len(prepared.records) // 5
        print(f"{data.name}:")
        ranks(prepared.records, prepared.accepted_truth, newcomers)
    return 0


if __name__ == "__main__":
    sys.exit(main())
