"""Why the engine misses true pairs: each false negative by its cause, and EM's estimates.

    .venv-bench/bin/python bench/matching_misses.py [--sets febrl3,febrl4,rldata,german]

Runs the engine as ``matching_quality.py --engine`` does (cleaning, blocking, EM,
scoring, non-chaining clustering at 0.99 / 0.5) and then, reading the labels, sorts
every true pair not merged into one cause: refused by the profile's cleaning, not
blocked, an identity guard (which), between the thresholds (review), below the lower
threshold, or kept apart by clustering although the pair itself scored above the
upper threshold unguarded. It also prints EM's m next to m counted from the labels,
u, the prior against the true share of duplicate pairs, and how well the
probabilities are calibrated. Labels are read only here, never for training.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import matching_quality as mq

from mdm_matching.domain.engine import blocking, clustering, comparisons, model

Pair = tuple[str, str]
CALIBRATION_BINS = ((0.5, 0.9), (0.9, 0.99), (0.99, 0.999), (0.999, 1.01))


def cause_of(pair: Pair, *, accepted: set[str], candidates: set[Pair],
             scores: dict[Pair, model.Score], accept: float, keep: float) -> str:  # fmt: skip
    if pair[0] not in accepted or pair[1] not in accepted:
        return "refused by the profile's cleaning"
    if pair not in candidates:
        return "not blocked"
    score = scores[pair]
    if score.vetoed:
        return "guard: " + " + ".join(score.conflicts)
    if score.probability >= accept:
        return "clustering kept apart (pair above the upper threshold)"
    if score.probability >= keep:
        return "between the thresholds (review)"
    return "below the lower threshold"


def _row(values: list[float], digits: int = 4) -> str:
    return " ".join(f"{v:.{digits}f}" for v in values)


def report(name: str, args: argparse.Namespace) -> None:
    prepared = mq.prepare(mq.load(name, args.german_records))
    records = prepared.records
    by_id = {r.id: r for r in records}
    candidates = set(blocking.candidate_pairs(records))
    parameters = model.train(records, ((by_id[a], by_id[b]) for a, b in candidates),
                             sessions=model.default_sessions())  # fmt: skip
    scorer = model.Scorer(parameters)
    scores = {(a, b): scorer.score(by_id[a], by_id[b]) for a, b in candidates}
    groups = clustering.cluster(
        scores.values(), accept=args.accept, keep=args.keep,
        score_pair=lambda a, b: scorer.score(by_id[a], by_id[b]),
    )  # fmt: skip
    by_truth: dict[str, list[str]] = defaultdict(list)
    for rid, truth in prepared.truth.items():
        by_truth[truth].append(rid)
    true_pairs = mq._pairs_of(by_truth.values())
    merged = mq._pairs_of(groups)
    n = len(records)
    accepted_true = [p for p in true_pairs if p[0] in by_id and p[1] in by_id]
    print(f"== {name}: {n} records accepted, {len(true_pairs)} true pairs ({len(accepted_true)} "
          f"between accepted records), {len(candidates)} candidates")  # fmt: skip
    print(f"   prior {parameters.prior:.3e}, true {len(accepted_true) / (n * (n - 1) / 2):.3e}")
    label_counts = [Counter[int]() for _ in comparisons.COMPARISONS]
    for a, b in accepted_true:
        for index, level in enumerate(comparisons.compare(by_id[a], by_id[b])):
            if level is not None:
                label_counts[index][level] += 1
    for index, comparison in enumerate(comparisons.COMPARISONS):
        counted = label_counts[index]
        total = sum(counted.values())
        if not total:
            continue
        levels = range(len(comparison.levels))
        print(f"   {comparison.name:10} m {_row(parameters.m[index])} | from labels "
              f"{_row([counted[level] / total for level in levels])} | u "
              f"{_row(parameters.u[index], 5)}")  # fmt: skip
    causes = Counter(
        cause_of(p, accepted=set(by_id), candidates=candidates, scores=scores,
                 accept=args.accept, keep=args.keep)
        for p in true_pairs - merged
    )  # fmt: skip
    print(f"   missed {sum(causes.values())}, falsely merged {len(merged - true_pairs)}")
    for cause, count in causes.most_common():
        print(f"   {count:6d}  {cause}")
    for low, high in CALIBRATION_BINS:
        band = [p for p, s in scores.items() if low <= s.probability < high and not s.vetoed]
        if band:
            share = sum(p in true_pairs for p in band) / len(band)
            mean = sum(scores[p].probability for p in band) / len(band)
            print(f"   unguarded pairs with p in [{low}, {min(high, 1.0)}): {len(band)}, "
                  f"mean p {mean:.3f}, share true {share:.3f}")  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sets", default="febrl3,febrl4,rldata,german")
    parser.add_argument("--german-records", type=int, default=20_000)
    parser.add_argument("--accept", type=float, default=0.99)
    parser.add_argument("--keep", type=float, default=0.5)
    args = parser.parse_args()
    for name in args.sets.split(","):
        report(name, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
