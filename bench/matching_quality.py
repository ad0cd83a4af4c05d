"""Matching quality and speed on FEBRL3, FEBRL4, RLdata10000 and generated German data.

    .venv-bench/bin/python bench/matching_quality.py --engine [--sets febrl3,febrl4,rldata,german]
    .venv-bench/bin/python bench/matching_quality.py --pipeline --steward 100000 --splink ...

``--engine`` runs the records through the profile's cleaning and the matching
engine in process (blocking, EM training, scoring, clustering) without servers.
Reports blocking recall, pairwise precision / recall / F1, cluster F1, wall time
and peak memory. No labels are used for training: ``truth`` is read only here.
"""

from __future__ import annotations

import argparse
import itertools
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol, cast

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

import matching_data
import matching_pipeline

from mdm_infra.platform import PlatformConfig, Ports, Secrets
from mdm_matching.domain.engine import (
    batch_blocking,
    batch_comparisons,
    batch_scoring,
    blocking,
    clustering,
    columns,
    features,
    model,
)
from mdm_profile.domain.quality.identifiers import RawIdentifier
from mdm_profile.domain.records import RawRecord, RecordRejected, clean
from mdm_profile.domain.sources import SourceSystem

RAW_FIELDS = set(RawRecord.__dataclass_fields__)


class Candidates(Protocol):
    def __len__(self) -> int: ...
    def __contains__(self, pair: object) -> bool: ...


class PairKeys:
    """Candidate pairs as sorted integer keys: blocking recall without a set of
    millions of string pairs (which alone takes GiBs at 100k records)."""

    def __init__(
        self, records: list[features.MatchRecord], pairs: batch_blocking.CandidatePairs
    ) -> None:
        self._position = {r.id: i for i, r in enumerate(records)}
        self._n = len(records)
        self._keys = np.sort(pairs.left.astype(np.int64) * self._n + pairs.right)

    def __len__(self) -> int:
        return len(self._keys)

    def __contains__(self, pair: object) -> bool:
        left, right = cast(tuple[str, str], pair)
        key = self._position[left] * self._n + self._position[right]
        at = int(np.searchsorted(self._keys, key))
        return at < len(self._keys) and int(self._keys[at]) == key


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


def evaluate(
    truth: dict[str, str], predicted: list[frozenset[str]], candidates: Candidates
) -> Quality:
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
        blocking_recall=sum(1 for p in true_pairs if p in candidates) / len(true_pairs)
        if true_pairs else 1.0,
        precision=precision, recall=recall, f1=f1, cluster_precision=cp, cluster_recall=cr,
        cluster_f1=2 * cp * cr / (cp + cr) if cp + cr else 0.0, candidate_pairs=len(candidates),
    )  # fmt: skip


def match_record(record_id: str, raw: dict[str, object]) -> features.MatchRecord | None:
    fields: dict[str, Any] = {k: v for k, v in raw.items() if k in RAW_FIELDS_CAMEL}
    fields["identifiers"] = tuple(
        RawIdentifier(i["scheme"], i["value"], i.get("issuer"))
        for i in fields.get("identifiers") or ()
    )
    try:
        cleaned = clean(RawRecord(**{RAW_FIELDS_CAMEL[k]: v for k, v in fields.items()}),
                        source=SourceSystem("bench", 1), received_at=datetime.now(UTC))  # fmt: skip
    except RecordRejected:
        return None
    return features.make_record(
        record_id, given=cleaned.given_name, family=cleaned.family_name,
        birth=cleaned.birth_date or cleaned.birth_date_partial, suffix=cleaned.suffix,
        email=cleaned.email,
        identifiers=[(i.scheme, i.issuer, i.value) for i in cleaned.identifiers],
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


@dataclass
class Prepared:
    """A data set as the engine sees it; record ids are ``source|sourceId``."""

    truth: dict[str, str]  # every record -> its real person (read only for evaluation)
    records: list[features.MatchRecord]  # the records the profile's cleaning accepts

    @property
    def accepted_truth(self) -> dict[str, str]:
        return {r.id: self.truth[r.id] for r in self.records}


def prepare(data: matching_data.DataSet) -> Prepared:
    truth, records = {}, []
    for source, rows in data.sources.items():
        for row in rows:
            rid = matching_data.record_id(source, row)
            truth[rid] = str(row["truth"])
            record = match_record(rid, row)
            if record is not None:
                records.append(record)
    return Prepared(truth, records)


def candidates_of(records: list[features.MatchRecord]) -> PairKeys:
    pairs = batch_blocking.candidate_arrays(
        records, rules=blocking.RULES, max_block=blocking.DEFAULT_MAX_BLOCK
    )
    return PairKeys(records, pairs)


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_engine(data: matching_data.DataSet, *, accept: float, keep: float) -> dict[str, object]:
    """The engine's phases, each timed, with the process's peak RSS after each one."""
    seconds: dict[str, float] = {}
    cpu: dict[str, float] = {}  # the machine is shared: CPU seconds show the work itself
    peak_mib: dict[str, float] = {"loaded": _peak_mib()}
    last = started = time.perf_counter()
    last_cpu = started_cpu = time.process_time()

    def phase(name: str) -> None:
        nonlocal last, last_cpu
        now, now_cpu = time.perf_counter(), time.process_time()
        seconds[name], cpu[name] = now - last, now_cpu - last_cpu
        peak_mib[name] = _peak_mib()
        last, last_cpu = now, now_cpu

    prepared = prepare(data)
    truth, records = prepared.accepted_truth, prepared.records
    phase("clean")
    stats = blocking.BlockingStats()
    table = columns.RecordTable.of(records)
    pairs = batch_blocking.candidate_arrays(
        records,
        rules=blocking.RULES,
        max_block=blocking.DEFAULT_MAX_BLOCK,
        stats=stats,
        rank=table.rank,
    )
    phase("block")
    comparisons = batch_comparisons.BatchComparisons(table)
    parameters = model.train(
        records, pairs, sessions=model.default_sessions(), comparisons=comparisons
    )
    phase("train")
    scorer = model.Scorer(parameters)
    # Only pairs of at least ``keep`` matter to the clustering (the rest, if ever
    # asked for, are scored again alike).
    scored = batch_scoring.BatchScorer(scorer, comparisons).score_all(
        pairs, keep_at_least=min(accept, keep)
    )
    phase("score")
    groups = clustering.cluster_scored(
        scored,
        ids=[r.id for r in records],
        rank=table.rank,
        accept=accept,
        keep=keep,
        score_pair=lambda a, b: scorer.score(records[a], records[b]),
    )
    phase("cluster")
    candidates = PairKeys(records, pairs)
    seconds["total"], cpu["total"] = last - started, last_cpu - started_cpu
    quality = evaluate(truth, groups, candidates)
    return {
        "set": data.name,
        "records": len(records),
        "quality": quality,
        "seconds": seconds,
        "cpu_seconds": cpu,
        "peak_rss_mib": peak_mib,
        "prior": parameters.prior,
        "em_iterations": parameters.iterations,
        "skipped_keys": stats.skipped_keys,
    }


LOADERS = {"febrl3": matching_data.febrl3, "febrl4": matching_data.febrl4,
           "rldata": matching_data.rldata10000, "german": matching_data.german}  # fmt: skip


def load(name: str, german_records: int) -> matching_data.DataSet:
    if name == "german":
        return matching_data.german(german_records)
    if name == "german_dirty":
        return matching_data.dirty(matching_data.german(german_records))
    return LOADERS[name]()


def _line(label: str, q: Quality, **figures: object) -> str:
    return (f"{label}: pairs {q.candidate_pairs}, blocking recall {q.blocking_recall:.4f}, "
            f"P {q.precision:.4f} R {q.recall:.4f} F1 {q.f1:.4f}, cluster F1 {q.cluster_f1:.4f}; "
            + "; ".join(f"{k} {_figure(v)}" for k, v in figures.items()))  # fmt: skip


def _figure(value: object) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_figure(v)}" for k, v in value.items()) + "}"
    return f"{value:.1f}" if isinstance(value, float) else str(value)


def report_engine(data: matching_data.DataSet, args: argparse.Namespace) -> None:
    result = run_engine(data, accept=args.accept, keep=args.keep)
    print(
        _line(
            f"{data.name} engine",
            result["quality"],  # type: ignore[arg-type]
            records=result["records"],
            prior=f"{result['prior']:.4f}",
            em_iterations=result["em_iterations"],
            skipped_keys=result["skipped_keys"],
            seconds=result["seconds"],
            cpu_seconds=result["cpu_seconds"],
            peak_rss_mib_after=result["peak_rss_mib"],
        ),
        flush=True,
    )


def _online_rate(records: int, seconds: dict[str, float]) -> float:
    """Records ingested and matched per second: all records over ingest + settle."""
    busy = seconds.get("ingest", 0.0) + seconds.get("settle", 0.0)
    return round(records / busy, 1) if busy else 0.0


def report_pipeline(
    data: matching_data.DataSet,
    name: str,
    prepared: Prepared,
    candidates: Candidates,
    args: argparse.Namespace,
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        config = PlatformConfig(state_dir=Path(tmp) / "platform", ports=Ports.free(),
                                secrets=Secrets.generate(), graph_heap=args.graph_heap)  # fmt: skip
        try:
            run = matching_pipeline.run_pipeline(
                data,
                config,
                train_after=args.train_after,
                batch=args.batch,
                queued=args.queued,
                steward=args.steward,
            )
        finally:
            if args.keep_logs:
                shutil.copytree(config.log_dir, args.keep_logs / name, dirs_exist_ok=True)
    clusters = run.clusters(automatic=True)
    # Refused records never became profiles: they stay singletons (missed pairs).
    everything = evaluate(prepared.truth, clusters, candidates)
    accepted = evaluate(prepared.accepted_truth, clusters, candidates)
    variant = ("default model" if args.train_after is None
               else f"trained after {args.train_after:.0%}")  # fmt: skip
    if args.batch:
        variant += f", bulk load + batch re-matching in {args.batch} partitions"
    if args.queued:
        variant += ", ingested with the worker stopped, then matched online from the queue"
    print(f"  phases: {matching_pipeline.phases(run, len(prepared.truth))}", flush=True)
    print(
        f"  peak memory (MiB, VmHWM per platform part): {_figure(run.memory)}; this "
        f"benchmark {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f}",
        flush=True,
    )
    print(_line(f"{data.name} pipeline ({variant})", everything,
                accepted_only=f"F1 {accepted.f1:.4f} cluster F1 {accepted.cluster_f1:.4f}",
                records=len(prepared.truth), refused=dict(run.refused), subjects=run.subjects,
                review_tasks=run.review_tasks, training=run.training, seconds=run.seconds,
                memory_mib=run.memory, worker_error_lines=run.worker_errors,
                ingest_retries=run.ingest_retries, rematch=run.rematch, lag_s=run.lag_s,
                online_rate=_online_rate(len(prepared.truth), run.seconds)),
          flush=True)  # fmt: skip
    tasks = sum(run.review_tasks.values())
    true_share = run.steward.get("true_pairs_before", 0) / tasks if tasks else 0.0
    print(
        f"  review load: {100 * tasks / len(prepared.truth):.2f} tasks per 100 records, "
        f"{true_share:.0%} of them true pairs",
        flush=True,
    )
    if args.steward:
        after = evaluate(prepared.truth, run.clusters(), candidates)
        print(
            _line(
                f"{data.name} pipeline after {run.steward.get('decided', 0)} simulated "
                "steward decisions",
                after,
                steward=run.steward,
            ),
            flush=True,
        )


def report_splink(
    data: matching_data.DataSet,
    name: str,
    prepared: Prepared,
    candidates: Candidates,
    args: argparse.Namespace,
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "splink.json"
        started = time.perf_counter()
        subprocess.run(  # noqa: S603 - our own script, arguments from code
            [sys.executable, str(Path(__file__).with_name("matching_splink.py")), "--set", name,
             "--german-records", str(args.german_records), "--threshold", str(args.accept),
             "--prior", args.splink_prior, "--out", str(out)], check=True,
        )  # fmt: skip
        wall = time.perf_counter() - started
        result = json.loads(out.read_text())
    clusters = [frozenset(c) for c in result["clusters"]]
    # Blocking recall is ours (the same candidates as the other lines), not Splink's.
    quality = evaluate(prepared.truth, clusters, candidates)
    accepted = evaluate(prepared.accepted_truth, clusters, candidates)
    print(_line(f"{data.name} splink (prior: {args.splink_prior})", quality,
                accepted_only=f"F1 {accepted.f1:.4f} cluster F1 {accepted.cluster_f1:.4f}",
                prior=f"{result['prior']:.2e}", pairs_above_half=result["pairs_above_half"],
                seconds=result["seconds"] | {"process incl. loading": wall},
                cpu_seconds_process=result["cpu_seconds"],
                peak_rss_mib=result["peak_rss_mib"]),
          flush=True)  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sets", default="febrl3,febrl4,rldata,german", help="also: german_dirty")
    parser.add_argument("--german-records", type=int, default=100_000)
    parser.add_argument("--accept", type=float, default=0.99)
    parser.add_argument("--keep", type=float, default=0.5)
    parser.add_argument("--engine", action="store_true", help="in process, no servers")
    parser.add_argument("--pipeline", action="store_true", help="through the real platform")
    parser.add_argument("--splink", action="store_true", help="Splink 5 on the same records")
    parser.add_argument(
        "--train-after",
        type=float,
        default=None,
        help="pipeline: train the model after this share of the records",
    )
    parser.add_argument("--splink-prior", choices=("rule", "em"), default="rule",
                        help="splink: prior from a deterministic rule or from EM")  # fmt: skip
    parser.add_argument(
        "--queued",
        action="store_true",
        help="pipeline: ingest with the worker stopped, keep the events, then time the "
        "worker matching them from the queue (its throughput without ingest beside it)",
    )
    parser.add_argument(
        "--batch", type=int, default=0, metavar="PARTITIONS",
        help="pipeline: ingest with online matching off, then one batch re-matching job",
    )  # fmt: skip
    parser.add_argument(
        "--steward",
        type=int,
        default=0,
        metavar="DECISIONS",
        help="pipeline: a simulated steward then decides up to this many review tasks "
        "from the truth labels (F1 before and after, review load)",
    )
    parser.add_argument("--keep-logs", type=Path, help="pipeline: copy the platform's logs here")
    parser.add_argument("--graph-heap", default="4g", help="pipeline: graph server heap")
    parser.add_argument(
        "--no-blocking-recall",
        action="store_true",
        help="skip computing all candidate pairs in this process (blocking recall shows 0); "
        "for a million records, whose pairs alone would take many GiB here",
    )
    args = parser.parse_args()
    for name in args.sets.split(","):
        data = load(name, args.german_records)
        if args.engine:
            report_engine(data, args)
        if args.pipeline or args.splink:
            prepared = prepare(data)
            candidates: Candidates = (
                set() if args.no_blocking_recall else candidates_of(prepared.records)
            )
        if args.pipeline:
            report_pipeline(data, name, prepared, candidates, args)
        if args.splink:
            report_splink(data, name, prepared, candidates, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
