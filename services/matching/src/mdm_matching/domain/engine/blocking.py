"""Candidate generation: only records sharing a blocking key are ever compared.

Several rules, combined by union, so that a duplicate with a typo in one field is
still found through another (a moved person through name and birth date, a renamed
one through e-mail or phone). A key shared by more than ``max_block`` records says
almost nothing (every "Anna Müller" in Berlin) and is skipped, which keeps the
number of compared pairs small; such keys are counted so that the cost is visible.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

from mdm_matching.domain.engine import identifiers
from mdm_matching.domain.engine.batch_blocking import candidate_chunks
from mdm_matching.domain.engine.features import MatchRecord

DEFAULT_MAX_BLOCK = 200
# Candidates scored per newcomer online, ranked by how rare their shared keys are
# (cardinality node pruning, Papadakis et al., "Meta-blocking", 2014). On all four
# benchmark sets every true match ranked within the first 40 (docs/benchmarks.md).
DEFAULT_MAX_CANDIDATES = 50


def _no_key(_: MatchRecord) -> str | None:
    return None


@dataclass(frozen=True)
class BlockingRule:
    name: str
    key: Callable[[MatchRecord], str | None] = _no_key
    # A rule whose record may have several keys (one per identifier) gives them here.
    keys: Callable[[MatchRecord], Iterable[str]] | None = None

    def keys_of(self, record: MatchRecord) -> list[str]:
        if self.keys is not None:
            return [k for k in self.keys(record) if k]
        key = self.key(record)
        return [key] if key else []


def _join(*parts: str | None) -> str | None:
    return "|".join(parts) if all(parts) else None  # type: ignore[arg-type]


def _names_any_order(r: MatchRecord) -> str | None:
    if not r.given_code or not r.family_code:
        return None
    return "|".join(sorted((r.given_code, r.family_code)))


def _initials_any_order(r: MatchRecord) -> str | None:
    if not r.given or not r.family or not r.birth:
        return None
    return r.birth[:4] + "|" + "".join(sorted((r.given[0], r.family[0])))


RULES: tuple[BlockingRule, ...] = (
    BlockingRule("family phonetic + postal code", lambda r: _join(r.family_code, r.postal_code)),
    BlockingRule("given phonetic + postal code", lambda r: _join(r.given_code, r.postal_code)),
    BlockingRule("given + family phonetic, any order", _names_any_order),
    BlockingRule("birth date + given initial", lambda r: _join(r.birth, r.given[:1])),
    BlockingRule("birth date + family initial", lambda r: _join(r.birth, r.family[:1])),
    BlockingRule("birth date + postal code", lambda r: _join(r.birth, r.postal_code)),
    BlockingRule("postal code + house number", lambda r: _join(r.postal_code, r.house_number)),
    BlockingRule("birth year + name initials, any order", _initials_any_order),
    BlockingRule("e-mail", lambda r: r.email),
    BlockingRule("phone", lambda r: r.phone),
    # Last: the stored block keys carry their rule's position.
    BlockingRule("identifier", keys=identifiers.blocking_keys),
)


def keys_of(record: MatchRecord, rules: Iterable[BlockingRule] = RULES) -> list[str]:
    """The blocking keys of one record, each prefixed with its rule's position."""
    return [f"{index}:{key}" for index, rule in enumerate(rules) for key in rule.keys_of(record)]


@dataclass
class BlockingStats:
    pairs: int = 0
    skipped_keys: int = 0
    skipped_records: int = 0


def candidate_pairs(
    records: Iterable[MatchRecord],
    *,
    rules: Iterable[BlockingRule] = RULES,
    max_block: int = DEFAULT_MAX_BLOCK,
    stats: BlockingStats | None = None,
) -> Iterator[tuple[str, str]]:
    """Every pair of record ids (smaller id first) sharing at least one usable key.

    A pair is proposed by the first usable block both records are in, and only there,
    so no set of the pairs proposed so far is kept: memory grows with the records,
    not with the pairs (tens of millions at a million records). The pairs are found
    column-wise, some million at a time (``batch_blocking.py``).
    """
    rules = tuple(rules)
    records = list(records)
    ids = [record.id for record in records]
    if len(set(ids)) < len(ids):  # one id twice: pairs of it with itself, as ever
        yield from _pairs_remembered(records, rules=rules, max_block=max_block, stats=stats)
        return
    for chunk in candidate_chunks(records, rules=rules, max_block=max_block, stats=stats):
        for left, right in zip(chunk.left.tolist(), chunk.right.tolist(), strict=True):
            yield ids[left], ids[right]


def _pairs_remembered(
    records: list[MatchRecord],
    *,
    rules: tuple[BlockingRule, ...],
    max_block: int,
    stats: BlockingStats | None,
) -> Iterator[tuple[str, str]]:
    blocks: dict[str, list[str]] = defaultdict(list)
    for record in records:
        for key in keys_of(record, rules):
            blocks[key].append(record.id)
    seen: set[tuple[str, str]] = set()
    for members in blocks.values():
        if len(members) > max_block:
            if stats:
                stats.skipped_keys += 1
                stats.skipped_records += len(members)
            continue
        ordered = sorted(members)
        for i, left in enumerate(ordered):
            for right in ordered[i + 1 :]:
                pair = (left, right)
                if pair not in seen:
                    seen.add(pair)
                    yield pair
    if stats:
        stats.pairs = len(seen)


def pairs_of_rule(
    rule: BlockingRule, records: Sequence[MatchRecord], *, max_block: int = DEFAULT_MAX_BLOCK
) -> Iterator[tuple[MatchRecord, MatchRecord]]:
    """The record pairs one rule proposes (for training sessions)."""
    by_id = {r.id: r for r in records}
    for left, right in candidate_pairs(records, rules=(rule,), max_block=max_block):
        yield by_id[left], by_id[right]


# Rules for estimating m (see ``model.train``): each blocks on some fields, and m is
# learnt there for the other fields only. The third item names the comparison whose
# exact level all of a rule's pairs share (the prior is estimated from such a rule).
TRAINING_RULES: tuple[tuple[BlockingRule, frozenset[str], str | None], ...] = (
    (BlockingRule("birth date", lambda r: r.birth), frozenset({"birthDate"}), "birthDate"),
    (BlockingRule("given + family phonetic, any order", _names_any_order),
     frozenset({"givenName", "familyName"}), None),
    (BlockingRule("postal code + house number", lambda r: _join(r.postal_code, r.house_number)),
     frozenset({"address"}), None),
)  # fmt: skip
