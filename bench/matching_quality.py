"""Matching quality and speed on FEBRL3, FEBRL4, RLdata10000 and generated German data.

    .venv-bench/bin/python bench/matching_quality.py --engine [--sets febrl3,febrl4,rldata,german]

``--engine`` runs the records through the profile's cleaning and the matching
engine in process (blocking, EM training, scoring, clustering) without servers.
Reports blocking recall, pairwise precision / recall / F1, cluster F1, wall time
and peak memory. No labels are used for training: ``truth`` is read only here.
"""

from __future__ import annotations

import argparse
import itertools
import resource
import sys
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import matching_data

from mdm_matching.domain.engine import blocking, clustering, features, model
from mdm_profile.domain.records import RawRecord, RecordRejected, clean
from mdm_profile.domain.sources import SourceSystem

RAW_FIELDS = set(RawRecord.__dataclass_fields__)


@dataclass
class Quality:
    blocking_recall: float
    precision: float
    recall: float
    f1: float
    cluster_precision: float
    cluster_recall: float
    cluster_f1: float
    candidate_pairs: int


def _pairs_of(groups: Iterable[Iterable[str]]) -> set[tuple[str, str]]:
    found = set()
    for group in groups:
        for a, b in itertools.combinations(sorted(group), 2):
            found.add((a, b))
    return found


def evaluate(truth: dict[str, str], predicted: list[frozenset[str]],
             candidates: set[tuple[str, str]]) -> Quality:  # fmt: skip
    by_truth: dict[str, set[str]] = defaultdict(set)
    for rid, t in truth.items():
        by_truth[t].add(rid)
    true_pairs = _pairs_of(by_truth.values())
    predicted_pairs = _pairs_of(predicted)
    tp = len(true_pairs & predicted_pairs)
    precision = tp / len(predicted_pairs) if predicted_pairs else 1.0
    recall = tp / len(true_pairs) if true_pairs else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    # Cluster level: every record is in exactly one cluster (singletons included).
    in_group = {rid for group in predicted for rid in group}
    predicted_clusters = {frozenset(g) for g in predicted} | {
        frozenset([rid]) for rid in truth if rid not in in_group
    }
    true_clusters = {frozenset(g) for g in by_truth.values()}
    exact = len(predicted_clusters & true_clusters)
    cp, cr = exact / len(predicted_clusters), exact / len(true_clusters)
    return Quality(
        blocking_recall=len(true_pairs & candidates) / len(true_pairs) if true_pairs else 1.0,
        precision=precision, recall=recall, f1=f1, cluster_precision=cp, cluster_recall=cr,
        cluster_f1=2 * cp * cr / (cp + cr) if cp + cr else 0.0, candidate_pairs=len(candidates),
    )  # fmt: skip


def match_record(record_id: str, raw: dict[str, object]) -> features.MatchRecord | None:
    fields = {k: v for k, v in raw.items() if k in RAW_FIELDS_CAMEL}
    try:
        cleaned = clean(RawRecord(**{RAW_FIELDS_CAMEL[k]: v for k, v in fields.items()}),
                        source=SourceSystem("bench", 1), received_at=datetime.now(UTC))  # fmt: skip
    except RecordRejected:
        return None
    return features.make_record(
        record_id, given=cleaned.given_name, family=cleaned.family_name,
        birth=cleaned.birth_date, suffix=cleaned.suffix, email=cleaned.email,
        phone=cleaned.phone.e164 if cleaned.phone else None,
        postal_code=cleaned.address.postal_code if cleaned.address else None,
        city=cleaned.address.city if cleaned.address else None,
        street=cleaned.address.street if cleaned.address else None,
        house_number=cleaned.address.house_number if cleaned.address else None,
    )  # fmt: skip


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p.title() for p in rest)


RAW_FIELDS_CAMEL = {_camel(f): f for f in RAW_FIELDS}


def run_engine(data: matching_data.DataSet, *, accept: float, keep: float) -> dict[str, object]:
    started = time.perf_counter()
    truth, records = {}, []
    for source, rows in data.sources.items():
        for row in rows:
            rid = f"{source}|{row['sourceId']}"
            record = match_record(rid, row)
            if record is not None:
                truth[rid] = str(row["truth"])
                records.append(record)
    cleaned_at = time.perf_counter()
    by_id = {r.id: r for r in records}
    stats = blocking.BlockingStats()
    candidates = set(blocking.candidate_pairs(records, stats=stats))
    blocked_at = time.perf_counter()
    parameters = model.train(
        records, ((by_id[a], by_id[b]) for a, b in candidates), sessions=model.default_sessions()
    )
    trained_at = time.perf_counter()
    scorer = model.Scorer(parameters)
    scores = [scorer.score(by_id[a], by_id[b]) for a, b in candidates]
    groups = clustering.cluster(
        scores, accept=accept, keep=keep, score_pair=lambda a, b: scorer.score(by_id[a], by_id[b])
    )
    done = time.perf_counter()
    quality = evaluate(truth, groups, candidates)
    return {
        "set": data.name, "records": len(records), "quality": quality,
        "seconds": {"clean": cleaned_at - started, "block": blocked_at - cleaned_at,
                    "train": trained_at - blocked_at, "score+cluster": done - trained_at,
                    "total": done - started},
        "prior": parameters.prior, "em_iterations": parameters.iterations,
        "skipped_keys": stats.skipped_keys,
    }  # fmt: skip


LOADERS = {"febrl3": matching_data.febrl3, "febrl4": matching_data.febrl4,
           "rldata": matching_data.rldata10000, "german": matching_data.german}  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sets", default="febrl3,febrl4,rldata,german")
    parser.add_argument("--german-records", type=int, default=100_000)
    parser.add_argument("--accept", type=float, default=0.99)
    parser.add_argument("--keep", type=float, default=0.5)
    parser.add_argument("--engine", action="store_true", help="in process, no servers")
    args = parser.parse_args()
    for name in args.sets.split(","):
        data = (matching_data.german(args.german_records) if name == "german"
                else LOADERS[name]())  # fmt: skip
        result = run_engine(data, accept=args.accept, keep=args.keep)
        q = result["quality"]
        print(f"{result['set']}: records {result['records']}, pairs {q.candidate_pairs}, "  # type: ignore[attr-defined]
              f"blocking recall {q.blocking_recall:.4f}, P {q.precision:.4f} R {q.recall:.4f} "  # type: ignore[attr-defined]
              f"F1 {q.f1:.4f}, cluster F1 {q.cluster_f1:.4f}; prior {result['prior']:.4f} "  # type: ignore[attr-defined]
              f"({result['em_iterations']} EM it.), skipped keys {result['skipped_keys']}; "
              f"seconds {{{', '.join(f'{k}: {v:.1f}' for k, v in result['seconds'].items())}}}; "  # type: ignore[attr-defined]
              f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB",
              flush=True)  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
