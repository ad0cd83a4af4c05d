"""Company matching on the German B2B generator's records, in process, side by side
with Splink 5 on the same cleaned records.

    .venv-bench/bin/python bench/company_matching.py --records 10000 --splink

The generator (``company_data.py``) makes an ERP holding every company once and a
CRM holding most of them again, dirtier (typos, umlauts written out, the legal form
written otherwise or changed, an old name, identifiers left out), plus branches that
share their head office's register entry, VAT id and domain but are not it. Each
record is cleaned as the profile cleans it (``clean_company``), then the company
engine (``mdm_matching.domain.engine.companies``) blocks, trains by EM, scores and
clusters as the person engine does (``engine/clustering.py``: from the strongest pair
at or above ``--accept`` without a guard down, two groups join only if every pair
across them reaches ``--review`` unguarded: no chaining). Printed:
pairwise precision, recall and F1 against the truth; blocking recall; the review
load (pairs at or above ``--review`` that are not merged, with at most one guard and
no branch guard, per 100 records, and the share of them that are true pairs); seconds per phase.
With ``--splink``, Splink on the same cleaned values (``company_splink.py``).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

import company_data
from pairwise import pairwise

from mdm_matching.domain.engine.clustering import cluster
from mdm_matching.domain.engine.companies import blocking
from mdm_matching.domain.engine.companies.comparisons import BRANCH_GUARDS
from mdm_matching.domain.engine.companies.features import CompanyRecord, make_company_record
from mdm_matching.domain.engine.companies.model import CompanyScorer, train
from mdm_profile.domain.company_records import (
    CleanCompanyRecord,
    RawCompanyRecord,
    clean_company,
)
from mdm_profile.domain.quality.legal_forms import name_key
from mdm_profile.domain.records import RecordRejected
from mdm_profile.domain.sources import SourceSystem

_FIELDS = {
    "name": "name",
    "legalForm": "legal_form",
    "registryCourt": "registry_court",
    "registryNumber": "registry_number",
    "vatId": "vat_id",
    "street": "street",
    "houseNumber": "house_number",
    "postalCode": "postal_code",
    "city": "city",
    "country": "country",
    "website": "website",
    "email": "email",
}


def cleaned(
    sources: dict[str, list[dict[str, Any]]],
) -> tuple[list[CompanyRecord], dict[str, str], int]:
    """The records as the engine sees them, their truth, and how many were refused."""
    now = datetime.now(UTC)
    records, truth, refused = [], {}, 0
    for priority, (source, rows) in enumerate(sources.items(), start=1):
        system = SourceSystem(source, priority)
        for row in rows:
            raw = RawCompanyRecord(
                source_id=row["sourceId"],
                **{ours: row.get(theirs) for theirs, ours in _FIELDS.items()},
            )
            try:
                clean = clean_company(raw, source=system, received_at=now)
            except RecordRejected:
                refused += 1
                continue
            record_id = f"{source}|{row['sourceId']}"
            records.append(features(record_id, clean))
            truth[record_id] = row["truth"]
    return records, truth, refused


def features(record_id: str, clean: CleanCompanyRecord) -> CompanyRecord:
    register = clean.register
    address = clean.address
    return make_company_record(
        record_id,
        name_key=name_key(clean.name),
        legal_form=clean.legal_form,
        register=f"{register.register} {register.number}" if register else None,
        court=register.court if register else None,
        vat=clean.vat_id,
        lei=clean.lei,
        domains=clean.domains,
        postal_code=address.postal_code if address else None,
        street=address.street if address else None,
        house_number=address.house_number if address else None,
        city=address.city if address else None,
    )


def run_engine(
    records: list[CompanyRecord], truth: dict[str, str], args: argparse.Namespace
) -> dict[str, Any]:
    seconds = {}
    started = time.perf_counter()
    pairs = list(blocking.candidate_pairs(records))
    seconds["block"] = time.perf_counter() - started
    started = time.perf_counter()
    parameters = train(records, pairs)
    seconds["train"] = time.perf_counter() - started
    started = time.perf_counter()
    scorer = CompanyScorer(parameters)
    likely, review, true_in_review = [], 0, 0
    for i, j in pairs:
        score = scorer.score(records[i], records[j])
        if score.probability >= args.review:
            likely.append(score)
        if score.probability >= args.accept and not score.vetoed:
            continue
        if (
            score.probability >= args.review
            and len(score.conflicts) < 2
            and not BRANCH_GUARDS.intersection(score.conflicts)
        ):
            review += 1
            true_in_review += truth[score.left] == truth[score.right]
    by_id = {r.id: r for r in records}
    clusters = cluster(
        likely,
        accept=args.accept,
        keep=args.review,
        score_pair=lambda a, b: scorer.score(by_id[a], by_id[b]),
    )
    group_of = {member: min(group) for group in clusters for member in group}
    seconds["score and join"] = time.perf_counter() - started
    true_pairs = {
        frozenset((records[i].id, records[j].id))
        for i, j in pairs
        if truth[records[i].id] == truth[records[j].id]
    }
    all_true = sum(n * (n - 1) // 2 for n in Counter(truth.values()).values())
    return {
        **pairwise(truth, group_of),
        "blocking recall": round(len(true_pairs) / all_true, 4) if all_true else 1.0,
        "candidate pairs": len(pairs),
        "review per 100 records": round(100 * review / len(records), 2),
        "review true pairs": round(true_in_review / review, 3) if review else None,
        "EM iterations": parameters.iterations,
        "seconds": {k: round(v, 2) for k, v in seconds.items()},
    }


def run_splink(
    records: list[CompanyRecord], truth: dict[str, str], args: argparse.Namespace
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        path, out = Path(tmp) / "features.jsonl", Path(tmp) / "splink.json"
        with path.open("w") as file:
            for r in records:
                row = {
                    "id": r.id,
                    "name": r.name if r.branch is None else f"{r.name} {r.branch}".strip(),
                    "legal_form": r.legal_form,
                    "register": r.register,
                    "court": r.court,
                    "vat": r.vat,
                    "lei": r.lei,
                    "domain": r.domains[0] if r.domains else None,
                    "postal_code": r.postal_code,
                    "street": r.street,
                    "house_number": r.house_number,
                    "city": r.city,
                }
                file.write(json.dumps(row) + "\n")
        started = time.perf_counter()
        script = Path(__file__).with_name("company_splink.py")
        command = [sys.executable, str(script), "--features", str(path), "--out", str(out)]
        command += ["--threshold", str(args.accept)]
        subprocess.run(command, check=True)  # noqa: S603 - our own script, arguments from code
        wall = time.perf_counter() - started
        result = json.loads(out.read_text())
    group_of = {record: cluster[0] for cluster in result["clusters"] for record in cluster}
    return {
        **pairwise(truth, group_of),
        "prior": result.get("prior"),
        "seconds": result.get("seconds", {}) | {"process": round(wall, 1)},
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--accept", type=float, default=0.99)
    parser.add_argument("--review", type=float, default=0.5)
    parser.add_argument("--splink", action="store_true")
    args = parser.parse_args()

    started = time.perf_counter()
    records, truth, refused = cleaned(company_data.german_companies(args.records))
    report: dict[str, Any] = {
        "records": len(records),
        "refused": refused,
        "companies": len(set(truth.values())),
        "clean seconds": round(time.perf_counter() - started, 1),
        "engine": run_engine(records, truth, args),
    }
    print(json.dumps(report, indent=1), flush=True)
    if args.splink:
        print(json.dumps({"splink": run_splink(records, truth, args)}, indent=1), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
