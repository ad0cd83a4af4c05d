"""Splink 5 (DuckDB) on the same records, for ``bench/matching_quality.py --splink``.

    .venv-bench/bin/python bench/matching_splink.py --set febrl3 --out clusters.json

Runs in a process of its own so that its peak memory (DuckDB works inside the
Python process) is measured apart from ours. Input: the records the profile's
cleaning accepts, with the same folded values our engine compares (names folded,
birth date ``YYYYMMDD``, e-mail, E.164 phone, postal code, city, street key, house
number); no phonetic codes, which are our own feature. Model, without labels: u by
random sampling, m by EM in two sessions (blocked on names / on birth date), the
prior from a deterministic rule (same names and birth date) with an assumed recall
of 0.7 for every data set (not tuned per set), or with ``--prior em`` as EM
estimated it (Splink's median over the training sessions); clusters by connected components at
a match probability of 0.99, our automatic-merge threshold. Writes the clusters
(record ids), the seconds per step and the peak RSS as JSON.
"""

from __future__ import annotations

import argparse
import json
import logging
import resource
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

import matching_quality
from splink_common import clamp_m_probabilities, train_and_cluster

COLUMNS = ("given", "family", "birth", "email", "phone", "postal_code", "city", "street",
           "house_number")  # fmt: skip
DETERMINISTIC_RECALL = 0.7  # assumed share of true pairs with equal names and birth date


def frames(prepared: matching_quality.Prepared) -> dict[str, Any]:
    """One table per source system, as Splink links and deduplicates them."""
    import pandas as pd  # noqa: PLC0415 - benchmark-only dependency

    rows: dict[str, list[dict[str, str | None]]] = {}
    for record in prepared.records:
        birth = record.birth if record.birth and record.birth.isdigit() else None
        values = {c: getattr(record, c) or None for c in COLUMNS} | {"birth": birth}
        rows.setdefault(record.id.split("|", 1)[0], []).append({"unique_id": record.id, **values})
    return {source: pd.DataFrame(r, columns=["unique_id", *COLUMNS]) for source, r in rows.items()}


def settings(present: set[str], *, sources: int) -> tuple[Any, list[Any]]:
    import splink.comparison_library as cl  # noqa: PLC0415 - benchmark-only dependency
    from splink import SettingsCreator, block_on  # noqa: PLC0415

    comparisons = {
        "given": cl.NameComparison("given").configure(term_frequency_adjustments=True),
        "family": cl.NameComparison("family").configure(term_frequency_adjustments=True),
        "birth": cl.DateOfBirthComparison("birth", input_is_string=True, datetime_format="%Y%m%d"),
        "email": cl.EmailComparison("email"),
        "phone": cl.ExactMatch("phone"),
        "postal_code": cl.LevenshteinAtThresholds("postal_code", 1),
        "city": cl.JaroWinklerAtThresholds("city", [0.9]),
        "street": cl.JaroWinklerAtThresholds("street", [0.9]),
        "house_number": cl.ExactMatch("house_number"),
    }
    # Comparable to our blocking rules (blocking.py), without phonetic codes.
    rules = [("given", "family"), ("family", "birth"), ("given", "birth"),
             ("birth", "postal_code"), ("postal_code", "house_number"), ("email",), ("phone",),
             ("substr(given, 1, 1)", "substr(family, 1, 1)", "substr(birth, 1, 4)")]  # fmt: skip
    blocking = [block_on(*r) for r in rules if all(_column(c) in present for c in r)]
    blocking.append("l.given = r.family and l.family = r.given")  # swapped names
    # Several sources: the same task as ours, duplicates within and across them.
    link_type = "link_and_dedupe" if sources > 1 else "dedupe_only"
    creator = SettingsCreator(
        link_type=link_type, comparisons=[c for n, c in comparisons.items() if n in present],
        blocking_rules_to_generate_predictions=blocking, retain_matching_columns=False,
    )  # fmt: skip
    return creator, [block_on("given", "family"), block_on("birth")]


def _column(expression: str) -> str:
    return expression.removeprefix("substr(").split(",")[0]


def run(prepared: matching_quality.Prepared, *, threshold: float, prior: str) -> dict[str, Any]:
    from splink import DuckDBAPI, Linker, block_on  # noqa: PLC0415 - benchmark-only dependency

    clamp_m_probabilities()
    seconds, started = {}, time.perf_counter()
    tables = frames(prepared)
    present = {c for c in COLUMNS if any(t[c].notna().any() for t in tables.values())}
    creator, training_rules = settings(present, sources=len(tables))
    db = DuckDBAPI()
    inputs = [db.register(t, dataset_display_name=s) for s, t in tables.items()]
    linker = Linker(inputs if len(inputs) > 1 else inputs[0], creator, log_level=logging.WARNING)
    if prior == "rule":
        linker.training.estimate_probability_two_random_records_match(
            [block_on("given", "family", "birth")], recall=DETERMINISTIC_RECALL
        )
    return train_and_cluster(
        linker,
        training_rules,
        threshold=threshold,
        prior=prior,
        seconds=seconds,
        started=started,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--set", required=True, choices=sorted(matching_quality.LOADERS))
    parser.add_argument("--german-records", type=int, default=100_000)
    parser.add_argument("--threshold", type=float, default=0.99)
    parser.add_argument("--prior", choices=("rule", "em"), default="rule")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    data = matching_quality.load(args.set, args.german_records)
    started = time.perf_counter()
    prepared = matching_quality.prepare(data)
    cleaned = time.perf_counter() - started
    result = run(prepared, threshold=args.threshold, prior=args.prior)
    # The same profile cleaning as the engine's, timed apart ("total" is Splink's own work).
    result["seconds"] = {"clean": cleaned, **result["seconds"]}
    usage = resource.getrusage(resource.RUSAGE_SELF)
    result["peak_rss_mib"] = usage.ru_maxrss / 1024
    # All of DuckDB's threads, loading and cleaning included.
    result["cpu_seconds"] = usage.ru_utime + usage.ru_stime
    args.out.write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
