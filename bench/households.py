"""Household detection against the German generator's truth: members as pairs.

    .venv/bin/python bench/households.py [--records 20000] [--seed 7] [--graph]

The records of ``matching_data.german`` are cleaned as the profile cleans them
(``records.clean``), each real person's records form one person (perfect matching:
this measures households, not deduplication; ``bench/matching_quality.py`` measures
that), its golden record is built by the profile's survivorship, and detection runs on
every address. A predicted pair is two persons in one detected household; a true pair
two persons with the same ``household`` in the truth. Precision, recall and F1 are
printed for the evidence rules and, for comparison, for the old rule (same address and
folded family name), with the recall split into pairs of the same and of different
family names.

``--graph`` runs the same through the graph server instead of in memory: it starts
one (free ports, temporary directory), ingests the records with ``people.ingest`` in
batches of 500 (which runs detection through ``GraphHouseholdStore``), merges each
real person's records into one person with ``merging.merge`` (detection runs again),
and reads the households back. Slower (several minutes for 20k records).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from pathlib import Path

from mdm_common.errors import InvalidInput
from mdm_profile.domain.golden import build_golden
from mdm_profile.domain.household_detection import AddressFacts, plan_households
from mdm_profile.domain.household_evidence import Resident
from mdm_profile.domain.models import Person
from mdm_profile.domain.quality.addresses import address_key
from mdm_profile.domain.quality.folding import fold
from mdm_profile.domain.records import CleanRecord, RawRecord, clean
from mdm_profile.domain.sources import SourceRegistry
from mdm_profile.settings import DEFAULT_SOURCES

sys.path.insert(0, str(Path(__file__).parent))
import matching_data

Pair = frozenset[str]
_RAW = {f.name for f in fields(RawRecord)}


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name)


def raw_record(row: matching_data.Record) -> RawRecord:
    """What a source sends: the importer's fields, never ``truth`` or ``household``."""
    values = {_snake(k): v for k, v in row.items() if _snake(k) in _RAW and v is not None}
    return RawRecord(**values)


@dataclass
class Truth:
    records: dict[str, list[CleanRecord]]  # real person -> its cleaned records
    household: dict[str, str | None]  # real person -> household in the truth
    refused: int


def clean_all(data: matching_data.DataSet, sources: SourceRegistry) -> Truth:
    now = datetime.now(UTC)
    truth = Truth(defaultdict(list), {}, 0)
    for source, rows in data.sources.items():
        system = sources.get(source)
        for row in rows:
            try:
                cleaned = clean(raw_record(row), source=system, received_at=now)
            except InvalidInput:
                truth.refused += 1
                continue
            truth.records[row["truth"]].append(cleaned)
            truth.household[row["truth"]] = row["household"]
    return truth


def resident(person_id: str, family_name: str, records: Iterable[CleanRecord]) -> Resident:
    records = list(records)
    return Resident(
        person_id,
        family_name,
        record_family_names=tuple(sorted({r.family_name for r in records if r.family_name})),
        phones=tuple(sorted({(r.phone.e164, r.phone.kind) for r in records if r.phone})),
        emails=tuple(sorted({r.email for r in records if r.email})),
    )


def persons_by_address(truth: Truth, sources: SourceRegistry) -> dict[str, list[Person]]:
    now = datetime.now(UTC)
    found: dict[str, list[Person]] = defaultdict(list)
    for person_id, records in truth.records.items():
        golden = build_golden(records, priority_of=sources.priority_of)
        person = Person.from_golden(person_id, golden, created_at=now, updated_at=now)
        if person.address is not None:
            found[address_key(person.address)].append(person)
    return found


def detect(truth: Truth, by_address: dict[str, list[Person]]) -> list[set[str]]:
    facts = [
        AddressFacts(
            key,
            tuple(resident(p.id, p.family_name, truth.records[p.id]) for p in persons),
        )
        for key, persons in by_address.items()
    ]
    counter = itertools.count()
    plan = plan_households(facts, new_id=lambda: f"h{next(counter)}")
    groups: dict[str, set[str]] = defaultdict(set)
    for placement in plan.placements:
        groups[placement.household_id].add(placement.person_id)
    return list(groups.values())


def old_rule(by_address: dict[str, list[Person]]) -> list[set[str]]:
    groups: dict[tuple[str, str], set[str]] = defaultdict(set)
    for key, persons in by_address.items():
        for p in persons:
            if fold(p.family_name):
                groups[(key, fold(p.family_name))].add(p.id)
    return list(groups.values())


def pairs_of(groups: Iterable[Iterable[str]]) -> set[Pair]:
    return {
        frozenset(pair) for group in groups for pair in itertools.combinations(sorted(group), 2)
    }


def true_households(truth: Truth) -> list[set[str]]:
    groups: dict[str, set[str]] = defaultdict(set)
    for person_id, household in truth.household.items():
        if household is not None:
            groups[household].add(person_id)
    return list(groups.values())


def report(name: str, predicted: set[Pair], true: set[Pair], family: dict[str, str]) -> float:
    hits = predicted & true
    precision = len(hits) / len(predicted) if predicted else 1.0
    recall = len(hits) / len(true) if true else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0

    def same_name(pair: Pair) -> bool:
        a, b = sorted(pair)
        return fold(family[a]) == fold(family[b])

    same = {p for p in true if same_name(p)}
    different = true - same
    print(
        f"{name:16s} precision {precision:.4f}  recall {recall:.4f}  F1 {f1:.4f}   "
        f"(predicted {len(predicted)}, true {len(true)}; recall same name "
        f"{len(hits & same) / max(1, len(same)):.3f} of {len(same)}, different names "
        f"{len(hits & different) / max(1, len(different)):.3f} of {len(different)})"
    )
    return f1


def in_memory(data: matching_data.DataSet) -> tuple[Truth, dict[str, str], list[set[str]]]:
    sources = SourceRegistry(DEFAULT_SOURCES)
    truth = clean_all(data, sources)
    by_address = persons_by_address(truth, sources)
    family = {p.id: p.family_name for persons in by_address.values() for p in persons}
    true = pairs_of(true_households(truth))
    report("old rule", pairs_of(old_rule(by_address)), true, family)
    return truth, family, detect(truth, by_address)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--graph", action="store_true", help="through the graph server")
    args = parser.parse_args()
    started = time.perf_counter()
    data = matching_data.german(args.records, seed=args.seed)
    truth, family, detected = in_memory(data)
    records = sum(len(r) for r in data.sources.values())
    print(
        f"{records} records, {truth.refused} refused, {len(truth.records)} persons, "
        f"{len(true_households(truth))} true households"
    )
    true = pairs_of(true_households(truth))
    f1 = report("evidence", pairs_of(detected), true, family)
    if args.graph:
        from households_graph import detect_through_graph  # noqa: PLC0415 - starts servers

        with tempfile.TemporaryDirectory() as tmp:
            groups = asyncio.run(detect_through_graph(data, Path(tmp)))
        f1 = report("evidence, graph", pairs_of(groups), true, family)
    print(f"{time.perf_counter() - started:.0f} s")
    return 0 if f1 >= 0.95 else 1


if __name__ == "__main__":
    sys.exit(main())
