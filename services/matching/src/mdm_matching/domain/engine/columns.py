"""The records as columns: each compared value as an integer per record.

Comparing millions of candidate pairs one at a time in Python costs some 20 µs a
pair. As columns, a comparison is a few array operations over all pairs: every
distinct value gets a position in its vocabulary (``-1``: unknown), equal values
have equal positions, and what cannot be said with integers (Jaro-Winkler of two
names, a typo in a postal code) is decided once per distinct pair of values
(``memo.py``). ``batch_comparisons.py`` reads these columns; they decide exactly
as ``comparisons.py`` does pair by pair.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

import numpy as np
import numpy.typing as npt

from mdm_matching.domain.engine.batch_blocking import id_ranks
from mdm_matching.domain.engine.comparisons import _GENERIC_LOCAL, PLACEHOLDER_BIRTHS
from mdm_matching.domain.engine.edits import Spellings
from mdm_matching.domain.engine.features import MatchRecord

IntArray = npt.NDArray[np.int32]
BoolArray = npt.NDArray[np.bool_]
ABSENT = -1

V = TypeVar("V", bound=Hashable)


class Vocabulary(Generic[V]):
    """Distinct values in the order they first occur, each with its position."""

    def __init__(self) -> None:
        self.positions: dict[V, int] = {}

    def column(self, values: Sequence[V | None]) -> IntArray:
        """Each value's position; ``None`` is :data:`ABSENT`."""
        positions = self.positions
        return np.fromiter(
            (ABSENT if v is None else positions.setdefault(v, len(positions)) for v in values),
            dtype=np.int32,
            count=len(values),
        )

    @property
    def values(self) -> list[V]:
        return list(self.positions)

    def __len__(self) -> int:
        return len(self.positions)


def _values(records: Sequence[MatchRecord], read: Callable[[MatchRecord], V]) -> list[V]:
    return [read(r) for r in records]


def _truthy(values: Sequence[object]) -> BoolArray:
    return np.fromiter(map(bool, values), dtype=np.bool_, count=len(values))


@dataclass(frozen=True)
class Names:
    """Given and family names in one vocabulary (names entered the wrong way round
    are compared crosswise). For comparing, a name with its phonetic code is a
    ``key``: 0 where the name is empty, else one more than its position in ``coded``,
    where the most common come first (``memo.PairMemo`` keeps their pairs in a table)."""

    given: IntArray  # name position, ABSENT where empty
    family: IntArray
    given_key: IntArray
    family_key: IntArray
    names: list[str]
    coded: list[tuple[str, str]]
    name_of_key: IntArray  # the name position of each key (ABSENT for 0)

    @classmethod
    def of(cls, records: Sequence[MatchRecord]) -> Names:
        names, coded = Vocabulary[str](), Vocabulary[tuple[str, str]]()
        given_coded = coded.column(
            _values(records, lambda r: (r.given, r.given_code) if r.given else None)
        )
        family_coded = coded.column(
            _values(records, lambda r: (r.family, r.family_code) if r.family else None)
        )
        counts = np.bincount(
            np.concatenate([given_coded, family_coded]) + 1, minlength=len(coded) + 1
        )[1:]
        by_count = np.argsort(-counts, kind="stable")
        key = np.empty(len(coded) + 1, dtype=np.int32)
        key[0], key[1 + by_count] = 0, np.arange(1, len(coded) + 1)
        ordered = [coded.values[i] for i in by_count.tolist()]
        return cls(
            given=names.column(_values(records, lambda r: r.given or None)),
            family=names.column(_values(records, lambda r: r.family or None)),
            given_key=key[given_coded + 1],
            family_key=key[family_coded + 1],
            names=names.values,
            coded=ordered,
            name_of_key=np.concatenate(
                [[ABSENT], names.column([name for name, _ in ordered])]
            ).astype(np.int32),
        )


def _plain_birth(value: str | None) -> bool:
    """Eight digits and no placeholder: compared column-wise; the rest (partial dates,
    placeholders, anything else) pair by pair."""
    return (
        value is not None
        and len(value) == 8
        and value.isascii()
        and value.isdigit()
        and value not in PLACEHOLDER_BIRTHS
    )


# A birth date's code: eight decimal digits, four bits each (the year in the upper
# half); or one of these.
BIRTH_UNKNOWN = np.uint32(0xFFFFFFFF)
BIRTH_OTHER = np.uint32(0xFFFFFFFE)  # partial, a placeholder or odd: compared pair by pair


def _birth_code(value: str | None) -> np.uint32:
    if value is None:
        return BIRTH_UNKNOWN
    return np.uint32(int(value, 16)) if _plain_birth(value) else BIRTH_OTHER


@dataclass(frozen=True)
class Births:
    code: npt.NDArray[np.uint32]
    birth: IntArray  # position in ``values``, ABSENT where unknown
    values: list[str]

    @classmethod
    def of(cls, records: Sequence[MatchRecord]) -> Births:
        vocabulary = Vocabulary[str]()
        raw = _values(records, lambda r: r.birth or None)
        code = np.array([_birth_code(v) for v in raw], dtype=np.uint32)
        return cls(code=code, birth=vocabulary.column(raw), values=vocabulary.values)


def _compact(name: str) -> str | None:
    return name.replace(" ", "") if name else None


@dataclass(frozen=True)
class Emails:
    position: IntArray  # of the address in ``spellings``
    local: IntArray  # the part before "@"
    # A local part of five letters or more that is no role ("info") and neither of
    # the record's own names; a pair also needs it to be neither of the other's names.
    distinctive: BoolArray
    local_compact: IntArray  # letters and digits of the local part, among compact names
    given_compact: IntArray  # names without spaces, in the same vocabulary
    family_compact: IntArray
    spellings: Spellings

    @classmethod
    def of(cls, records: Sequence[MatchRecord]) -> Emails:
        emails, locals_, compact = Vocabulary[str](), Vocabulary[str](), Vocabulary[str]()
        email = emails.column(_values(records, lambda r: r.email or None))
        alnum = [
            "".join(c for c in r.email_local or "" if c.isalnum()) if r.email else None
            for r in records
        ]
        distinctive = [
            local is not None
            and len(local) >= 5
            and local not in _GENERIC_LOCAL
            and local not in {_compact(r.given), _compact(r.family)}
            for r, local in zip(records, alnum, strict=True)
        ]
        return cls(
            position=email,
            local=locals_.column(_values(records, lambda r: r.email_local if r.email else None)),
            distinctive=np.array(distinctive, dtype=np.bool_),
            local_compact=compact.column(alnum),
            given_compact=compact.column(_values(records, lambda r: _compact(r.given))),
            family_compact=compact.column(_values(records, lambda r: _compact(r.family))),
            spellings=Spellings(emails.values),
        )


@dataclass(frozen=True)
class Phones:
    position: IntArray  # of the number in ``spellings``
    tail: IntArray  # the last six characters
    spellings: Spellings

    @classmethod
    def of(cls, records: Sequence[MatchRecord]) -> Phones:
        phones, tails = Vocabulary[str](), Vocabulary[str]()
        return cls(
            position=phones.column(_values(records, lambda r: r.phone or None)),
            tail=tails.column(_values(records, lambda r: r.phone[-6:] if r.phone else None)),
            spellings=Spellings(phones.values),
        )


@dataclass(frozen=True)
class Addresses:
    postal_code: IntArray  # ABSENT only where None ("" is a value, as ``is not None`` says)
    city: IntArray
    street: IntArray  # ABSENT where empty
    house_number: IntArray  # ABSENT where None: two unknown house numbers are equal
    city_given: BoolArray  # not empty
    known: BoolArray  # street, postal code or city not empty
    postal_codes: list[str]
    cities: list[str]
    streets: list[str]

    @classmethod
    def of(cls, records: Sequence[MatchRecord]) -> Addresses:
        postal, cities, streets, houses = (Vocabulary[str]() for _ in range(4))
        city = _values(records, lambda r: r.city)
        return cls(
            postal_code=postal.column(_values(records, lambda r: r.postal_code)),
            city=cities.column(city),
            street=streets.column(_values(records, lambda r: r.street or None)),
            house_number=houses.column(_values(records, lambda r: r.house_number)),
            city_given=_truthy(city),
            known=_truthy(_values(records, lambda r: r.street or r.postal_code or r.city)),
            postal_codes=postal.values,
            cities=cities.values,
            streets=streets.values,
        )


@dataclass(frozen=True)
class RecordTable:
    """Records (in the caller's order) as columns for comparing pairs of them."""

    records: Sequence[MatchRecord]
    rank: npt.NDArray[np.int64]  # position of each record among the records sorted by id
    names: Names
    births: Births
    emails: Emails
    phones: Phones
    addresses: Addresses
    suffix: IntArray  # ABSENT where empty
    identified: BoolArray  # holds identifiers
    unique_ids: bool  # no id twice (else the records have no order by id)

    @classmethod
    def of(cls, records: Sequence[MatchRecord]) -> RecordTable:
        records = list(records)
        return cls(
            records=records,
            rank=id_ranks(records),
            names=Names.of(records),
            births=Births.of(records),
            emails=Emails.of(records),
            phones=Phones.of(records),
            addresses=Addresses.of(records),
            suffix=Vocabulary[str]().column(_values(records, lambda r: r.suffix or None)),
            identified=_truthy(_values(records, lambda r: r.identifiers)),
            unique_ids=len({r.id for r in records}) == len(records),
        )

    def __len__(self) -> int:
        return len(self.records)
