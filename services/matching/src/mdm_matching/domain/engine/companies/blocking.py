"""Candidate companies: only those sharing a key are compared.

Legal identifiers (register entry, VAT id, LEI) and a shared web domain find a
company whatever its name; the name key, and a name word with the postal code,
find it with a typo or a changed legal form; the address finds a renamed company.
A key shared by more than ``max_block`` companies (a business park's address, a
word like "bau") says little and is skipped, as for persons.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterator, Sequence

from mdm_matching.domain.engine.blocking import DEFAULT_MAX_BLOCK
from mdm_matching.domain.engine.companies.features import CompanyRecord


def keys_of(record: CompanyRecord) -> list[str]:
    """The blocking keys of one company, each prefixed with its rule."""
    keys = [f"name:{record.name}"] if record.name else []
    words = record.name.split()
    if record.postal_code:
        keys += [f"word+postal:{word}|{record.postal_code}" for word in words if len(word) > 2]
        if record.street:
            keys.append(f"address:{record.postal_code}|{record.street}|{record.house_number}")
    if record.register:
        keys.append(f"register:{record.register}")
    keys += [f"vat:{record.vat}"] if record.vat else []
    keys += [f"lei:{record.lei}"] if record.lei else []
    keys += [f"domain:{domain}" for domain in record.domains]
    return list(dict.fromkeys(keys))  # a word twice in a name is one key


def candidate_pairs(
    records: Sequence[CompanyRecord],
    *,
    max_block: int = DEFAULT_MAX_BLOCK,
    rules: Collection[str] | None = None,
) -> Iterator[tuple[int, int]]:
    """Each pair of positions sharing a key (of one of ``rules``, the keys' prefixes
    such as ``"name"``; all by default), once, in position order."""
    blocks: dict[str, list[int]] = defaultdict(list)
    for position, record in enumerate(records):
        for key in keys_of(record):
            if rules is None or key.split(":", 1)[0] in rules:
                blocks[key].append(position)
    seen: set[tuple[int, int]] = set()
    for members in blocks.values():
        if len(members) > max_block:
            continue
        for i, left in enumerate(members):
            for right in members[i + 1 :]:
                pair = (left, right) if left < right else (right, left)
                if pair not in seen:
                    seen.add(pair)
                    yield pair
