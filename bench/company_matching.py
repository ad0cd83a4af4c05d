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
from dataclasses import dataclass, field
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
    ParentReference,
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
    "parentSourceId": "parent_source_id",
    "parentVatId": "parent_vat_id",
}


@dataclass
class Parents:
    """What the sources say about parents, and what is true."""

    # record id -> (its source's priority, the parent reference it carries)
    references: dict[str, tuple[int, ParentReference]] = field(default_factory=dict)
    truth: dict[str, str] = field(default_factory=dict)  # company truth -> parent truth


def cleaned(
    sources: dict[str, list[dict[str, Any]]], parents: Parents | None = None
) -> tuple[list[CompanyRecord], dict[str, str], int]:
    """The records as the engine sees them, their truth, and how many were refused;
    ``parents`` collects the parent references."""
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
            if parents is not None:
                parents.references[record_id] = (priority, clean.parent)
                if row.get("parentTruth"):
                    parents.truth[row["truth"]] = row["parentTruth"]
    return records, truth, refused


def parent_links(
    records: list[CompanyRecord], truth: dict[str, str], parents: Parents, group_of: dict[str, str]
) -> dict[str, float]:
    """The parents the sources name, resolved by the profile's rule (the most trusted
    source's reference that finds exactly one other company decides; a VAT id two
    companies hold decides nothing), with the companies as ``group_of`` makes them
    (a record missing from it is a company of its own), against the truth."""
    company = {r.id: group_of.get(r.id, r.id) for r in records}
    by_vat: dict[str, set[str]] = {}
    for r in records:
        if r.vat:
            by_vat.setdefault(r.vat, set()).add(company[r.id])
    named: dict[str, list[tuple[int, set[str]]]] = {}
    for record_id, (priority, reference) in parents.references.items():
        found: set[str] = set()
        source = record_id.split("|", 1)[0]
        if reference.source_id and f"{source}|{reference.source_id}" in company:
            found.add(company[f"{source}|{reference.source_id}"])
        if reference.vat_id:
            found |= by_vat.get(reference.vat_id, set())
        own = company[record_id]
        named.setdefault(own, []).append((priority, found - {own}))
    made = {}
    for own, references in named.items():
        decided = [found for _, found in sorted(references, key=lambda x: x[0]) if len(found) == 1]
        if decided:
            made[own] = next(iter(decided[0]))
    members: dict[str, Counter[str]] = {}
    for record_id, own in company.items():
        members.setdefault(own, Counter())[truth[record_id]] += 1
    real = {own: counts.most_common(1)[0][0] for own, counts in members.items()}
    right = sum(parents.truth.get(real[child]) == real[parent] for child, parent in made.items())
    # Each company as made (a real company split in two counts twice) with a true parent.
    expected = sum(1 for own in members if real[own] in parents.truth)
    return {
        "links": len(made),
        "right": right,
        "P": round(right / len(made), 4) if made else 1.0,
        "R": round(right / expected, 4) if expected else 1.0,
    }


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
    records: list[CompanyRecord],
    truth: dict[str, str],
    parents: Parents,
    args: argparse.Namespace,
) -> dict[str, Any]:
    seconds, report = {}, {}
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
    report["parent links, unmatched"] = parent_links(records, truth, parents, {})
    report["parent links, matched"] = parent_links(records, truth, parents, group_of)
    true_pairs = {
        frozenset((records[i].id, records[j].id))
        for i, j in pairs
        if truth[records[i].id] == truth[records[j].id]
    }
    all_true = sum(n * (n - 1) // 2 for n in Counter(truth.values()).values())
    return report | {
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
    parents = Parents()
    records, truth, refused = cleaned(company_data.german_companies(args.records), parents)
    report: dict[str, Any] = {
        "records": len(records),
        "refused": refused,
        "companies": len(set(truth.values())),
        "clean seconds": round(time.perf_counter() - started, 1),
        "engine": run_engine(records, truth, parents, args),
    }
    print(json.dumps(report, indent=1), flush=True)
    if args.splink:
        print(json.dumps({"splink": run_splink(records, truth, args)}, indent=1), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
