"""Splink 5 (DuckDB) on the same cleaned company records as our company matching.

    .venv-bench/bin/python bench/company_splink.py --features companies.jsonl --out clusters.json

Runs in a process of its own so that its peak memory (DuckDB works inside the
Python process) is measured apart from ours, as ``bench/matching_splink.py`` does
for persons. Input: one cleaned company record per line (JSON lines), with the same
keys our engine compares: the name's comparison key (folded, legal form removed),
the legal form, register entry ("HRB|12345 B"), VAT id, LEI, web domain, postal
code, street key, house number and city. ``truth`` is never read.

Model, without labels: u by random sampling, m by EM in three sessions (blocked on
postal code and house number / on the name / on the name's first word and house
number, so that every level of every comparison is trained in one of them), the prior
from deterministic rules (same register entry, same VAT id) with the assumed recall
of the person benchmark (0.7, not tuned), or with ``--prior em`` as EM estimated it;
clusters by connected components at a match probability of 0.99, our automatic-merge
threshold. The register court is not compared: a source that writes the number
often leaves the court out. The records are deduplicated as one table: the features
carry no source system, and our engine too looks for duplicates within and across
sources alike. Writes the clusters (record ids, only those of more than one record),
the seconds per step and the peak RSS as JSON.
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

from splink_common import clamp_m_probabilities, train_and_cluster

COLUMNS = (
    "name",
    "legal_form",
    "register",
    "vat",
    "lei",
    "domain",
    "postal_code",
    "street",
    "house_number",
    "city",
)
DETERMINISTIC_RECALL = 0.7  # as for persons: assumed share of true pairs the rules find
FIRST_WORD = "split_part(name, ' ', 1)"  # DuckDB; the name key is never empty


def frame(path: Path) -> Any:
    """The records as one table; empty strings count as missing, as Splink's nulls."""
    import pandas as pd  # noqa: PLC0415 - benchmark-only dependency

    rows = []
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                record = json.loads(line)
                values = {c: record.get(c) or None for c in COLUMNS}
                rows.append({"unique_id": str(record["id"]), **values})
    return pd.DataFrame(rows, columns=["unique_id", *COLUMNS])


def settings(present: set[str]) -> tuple[Any, list[Any]]:
    import splink.comparison_level_library as cll  # noqa: PLC0415 - benchmark-only dependency
    import splink.comparison_library as cl  # noqa: PLC0415
    from splink import SettingsCreator, block_on  # noqa: PLC0415

    # The house number only counts on the same street: "Hauptstraße 5" and
    # "Industriestraße 5" are no closer than any two addresses.
    address = cl.CustomComparison(
        [
            cll.NullLevel("street"),
            cll.And(cll.ExactMatchLevel("street"), cll.ExactMatchLevel("house_number")),
            cll.ExactMatchLevel("street"),
            cll.ElseLevel(),
        ],
        output_column_name="street_house",
        comparison_description="street and house number",
    )
    comparisons = {
        "name": cl.JaroWinklerAtThresholds("name", [0.95, 0.88]),
        "legal_form": cl.ExactMatch("legal_form"),
        "register": cl.ExactMatch("register"),
        "vat": cl.ExactMatch("vat"),
        "lei": cl.ExactMatch("lei"),
        "domain": cl.ExactMatch("domain"),
        "postal_code": cl.ExactMatch("postal_code"),
        "street": address,
        "city": cl.ExactMatch("city"),
    }
    # Comparable to our company candidates: an identifier, the name, or the address.
    rules = [
        ("name",),
        ("register",),
        ("vat",),
        ("lei",),
        ("domain",),
        ("postal_code", FIRST_WORD),
        ("postal_code", "street", "house_number"),
    ]
    blocking = [block_on(*r) for r in rules if all(_column(c) in present for c in r)]
    creator = SettingsCreator(
        link_type="dedupe_only",
        comparisons=[c for n, c in comparisons.items() if n in present],
        blocking_rules_to_generate_predictions=blocking,
        retain_matching_columns=False,
    )
    # EM estimates no comparison on a column its session is blocked on. On postal code
    # and house number it learns the name, on the name the address; a postal code
    # alone would make every pair of a town's records a training pair. Records of one
    # name are almost all in one town, so only a third session (first word of the name
    # and house number) shows EM pairs in two towns: without it, the "other postal
    # code" and "other city" levels stay untrained and Splink puts in a default m
    # (0.05) that lets a head office and its branches merge on their shared ids.
    sessions = [("postal_code", "house_number"), ("name",), (FIRST_WORD, "house_number")]
    return creator, [block_on(*s) for s in sessions]


def _column(expression: str) -> str:
    return "name" if expression == FIRST_WORD else expression


def run(table: Any, *, threshold: float, prior: str) -> dict[str, Any]:
    from splink import DuckDBAPI, Linker, block_on  # noqa: PLC0415 - benchmark-only dependency

    clamp_m_probabilities()
    seconds: dict[str, float] = {}
    started = time.perf_counter()
    present = {c for c in COLUMNS if table[c].notna().any()}
    creator, training_rules = settings(present)
    db = DuckDBAPI()
    records = db.register(table, dataset_display_name="companies")
    linker = Linker(records, creator, log_level=logging.WARNING)
    if prior == "rule":
        rules = [block_on(c) for c in ("register", "vat") if c in present]
        linker.training.estimate_probability_two_random_records_match(
            rules, recall=DETERMINISTIC_RECALL
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
    parser.add_argument("--features", type=Path, required=True)
    parser.add_argument("--threshold", type=float, default=0.99)
    parser.add_argument("--prior", choices=("rule", "em"), default="rule")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    started = time.perf_counter()
    table = frame(args.features)
    loaded = time.perf_counter() - started
    result = run(table, threshold=args.threshold, prior=args.prior)
    # Reading the cleaned records, timed apart ("total" is Splink's own work).
    result["seconds"] = {"load": loaded, **result["seconds"]}
    usage = resource.getrusage(resource.RUSAGE_SELF)
    result["peak_rss_mib"] = usage.ru_maxrss / 1024
    # All of DuckDB's threads, loading included.
    result["cpu_seconds"] = usage.ru_utime + usage.ru_stime
    args.out.write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
