"""The comparison levels of many pairs at once, column by column.

The same levels as :func:`comparisons.compare` gives pair by pair (a unit test holds
them to it), from the columns of ``columns.py``: equal values are equal positions,
a birth date's digits compare four bits at a time, "one typo" of e-mail addresses
and phone numbers is decided column-wise (``edits.Spellings``), and what only a
string comparison can tell (Jaro-Winkler of names, streets and cities, a typo in a
postal code) once per distinct pair of values (``memo.PairMemo``). Identifiers,
which few records hold, are compared pair by pair.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jellyfish
import numpy as np
import numpy.typing as npt

from mdm_matching.domain.engine.columns import (
    BIRTH_OTHER,
    BIRTH_UNKNOWN,
    RecordTable,
    Vocabulary,
)
from mdm_matching.domain.engine.comparisons import (
    CLOSE,
    COMPARISONS,
    SIMILAR,
    _is_initial_of,
    birth_level,
    shares_part,
)
from mdm_matching.domain.engine.edits import Spellings, within_one_edit
from mdm_matching.domain.engine.identifiers import identifier_level
from mdm_matching.domain.engine.memo import PairMemo, each

IntArray = npt.NDArray[np.integer[Any]]
Positions = npt.NDArray[np.integer[Any]]  # of records in the table
BoolArray = npt.NDArray[np.bool_]
Levels = npt.NDArray[np.int8]  # one row per pair, one column per comparison

# Pairs compared at once: the working arrays stay in the processor's caches.
COMPARED_AT_ONCE = 1 << 20
UNKNOWN = -1  # a side does not know the value: no level (``None`` pair by pair)
# E-mail or phone: one typo apart or different, not decided yet (``typos=False``).
OPEN = 9
GIVEN, FAMILY, BIRTH, EMAIL, PHONE, ADDRESS, IDENTIFIERS = range(len(COMPARISONS))


def _level(value: int | None) -> int:
    return UNKNOWN if value is None else value


class BatchComparisons:
    """Comparison levels of pairs of one table's records; remembers the decided
    value pairs across calls (the same table, chunk after chunk of pairs)."""

    def __init__(self, table: RecordTable) -> None:
        self.table = table
        names, births = table.names.coded, table.births.values
        addresses = table.addresses
        postal_codes, cities, streets = (
            addresses.postal_codes,
            addresses.cities,
            addresses.streets,
        )
        self._names = PairMemo(
            NameLevels(names, table.names.name_of_key),
            left_values=len(names) + 1,
            right_values=len(names) + 1,
        )
        self._births = PairMemo(
            each(lambda x, y: _level(birth_level(births[x], births[y]))),
            left_values=len(births),
            right_values=len(births),
            dense_pairs=1 << 20,  # few pairs are no plain dates: no large table
        )
        self._postal_typo = PairMemo(
            each(lambda x, y: within_one_edit(postal_codes[x], postal_codes[y])),
            left_values=len(postal_codes),
            right_values=len(postal_codes),
        )
        self._cities_close = PairMemo(
            each(lambda x, y: jellyfish.jaro_winkler_similarity(cities[x], cities[y]) >= CLOSE),
            left_values=len(cities),
            right_values=len(cities),
        )
        self._streets_close = PairMemo(
            each(lambda x, y: jellyfish.jaro_winkler_similarity(streets[x], streets[y]) >= CLOSE),
            left_values=len(streets),
            right_values=len(streets),
        )

    def levels(self, left: Positions, right: Positions, *, typos: bool = True) -> Levels:
        """``levels[i, c]``: the level of comparison ``c`` for records ``left[i]`` and
        ``right[i]`` (positions in the table), :data:`UNKNOWN` where ``None``.

        ``typos=False``: e-mail addresses and phone numbers that are either one typo
        apart or different are left :data:`OPEN` (:meth:`decide_open` decides them):
        most candidate pairs are told apart without that."""
        if len(left) > COMPARED_AT_ONCE:
            return np.concatenate(
                [
                    self.levels(
                        left[at : at + COMPARED_AT_ONCE],
                        right[at : at + COMPARED_AT_ONCE],
                        typos=typos,
                    )
                    for at in range(0, len(left), COMPARED_AT_ONCE)
                ]
            )
        levels = np.empty((len(left), len(COMPARISONS)), dtype=np.int8)
        levels[:, GIVEN], levels[:, FAMILY] = self._name_levels(left, right)
        levels[:, BIRTH] = self._birth_levels(left, right)
        levels[:, EMAIL] = self._email_levels(left, right)
        levels[:, PHONE] = self._phone_levels(left, right)
        levels[:, ADDRESS] = self._address_levels(left, right)
        levels[:, IDENTIFIERS] = self._identifier_levels(left, right)
        if typos:
            self.decide_open(levels, left, right)
        return levels

    def decide_open(self, levels: Levels, left: Positions, right: Positions) -> None:
        """Decides the :data:`OPEN` e-mail and phone levels (in place)."""
        for column, values in ((EMAIL, self.table.emails), (PHONE, self.table.phones)):
            at = np.flatnonzero(levels[:, column] == OPEN)
            x, y = values.position[left[at]], values.position[right[at]]
            levels[at, column] = np.where(values.spellings.within_one_edit(x, y), 1, 2)

    def _name_levels(self, left: Positions, right: Positions) -> tuple[Levels, Levels]:
        """Given and family name; names entered the wrong way round still agree."""
        n = self.table.names
        given_l, given_r = n.given_key[left], n.given_key[right]
        family_l, family_r = n.family_key[left], n.family_key[right]
        given = self._names(given_l, given_r)
        family = self._names(family_l, family_r)
        open_ = np.flatnonzero((given >= 0) & (family >= 0) & ((given > 0) | (family > 0)))
        crossed_g = self._names(given_l[open_], family_r[open_])
        crossed_f = self._names(family_l[open_], given_r[open_])
        better = (
            (crossed_g >= 0)
            & (crossed_f >= 0)
            & (crossed_g + crossed_f + 1 < given[open_] + family[open_])
        )
        # The better of the two crossed comparisons counts as the given name.
        at = open_[better]
        given[at] = np.minimum(crossed_g, crossed_f)[better]
        family[at] = np.maximum(crossed_g, crossed_f)[better]
        return given, family

    def _birth_levels(self, left: Positions, right: Positions) -> Levels:
        b = self.table.births
        x, y = b.code[left], b.code[right]
        level = _plain_birth_levels(x, y)
        level[(x == BIRTH_UNKNOWN) | (y == BIRTH_UNKNOWN)] = UNKNOWN
        rest = np.flatnonzero(
            ((x == BIRTH_OTHER) | (y == BIRTH_OTHER)) & (x != BIRTH_UNKNOWN) & (y != BIRTH_UNKNOWN)
        )
        level[rest] = self._births(b.birth[left[rest]], b.birth[right[rest]])
        return level

    def _email_levels(self, left: Positions, right: Positions) -> Levels:
        e = self.table.emails
        x, y = e.position[left], e.position[right]
        level = np.full(len(left), UNKNOWN, dtype=np.int8)
        both = (x >= 0) & (y >= 0)
        level[both] = OPEN
        level[both & (x == y)] = 0
        open_ = np.flatnonzero(both & (x != y))
        a, b = left[open_], right[open_]
        # Not Jaro-Winkler over the whole address (see ``comparisons.email_level``).
        same_local = (
            (e.local[a] == e.local[b])
            & e.distinctive[a]
            & (e.local_compact[a] != e.given_compact[b])
            & (e.local_compact[a] != e.family_compact[b])
        )
        level[open_[same_local]] = 1
        return level

    def _phone_levels(self, left: Positions, right: Positions) -> Levels:
        p = self.table.phones
        x, y = p.position[left], p.position[right]
        level = np.full(len(left), UNKNOWN, dtype=np.int8)
        both = (x >= 0) & (y >= 0)
        level[both] = OPEN
        level[both & (x == y)] = 0
        level[both & (x != y) & (p.tail[left] == p.tail[right])] = 1
        return level

    def _address_levels(self, left: Positions, right: Positions) -> Levels:
        a = self.table.addresses
        postal_l, postal_r = a.postal_code[left], a.postal_code[right]
        city_l, city_r = a.city[left], a.city[right]
        same_postal = (postal_l >= 0) & (postal_l == postal_r)
        same_city = (city_l >= 0) & (city_l == city_r)
        both_postal = (postal_l >= 0) & (postal_r >= 0)
        # Where both postal codes are known they agree, or are one typo apart in the
        # same city; the city counts alone only where a side lacks its postal code.
        same_place = np.where(both_postal, same_postal, same_city)
        typo = np.flatnonzero(both_postal & ~same_postal & a.city_given[left] & a.city_given[right])
        typo = typo[self._postal_typo(postal_l[typo], postal_r[typo]) == 1]
        near = typo[
            (city_l[typo] == city_r[typo]) | (self._cities_close(city_l[typo], city_r[typo]) == 1)
        ]
        same_place[near] = True
        street_l, street_r = a.street[left], a.street[right]
        streets = np.flatnonzero(same_place & (street_l >= 0) & (street_r >= 0))
        alike = (street_l[streets] == street_r[streets]) | (
            self._streets_close(street_l[streets], street_r[streets]) == 1
        )
        streets = streets[alike]
        level = np.full(len(left), 4, dtype=np.int8)
        level[same_city] = 3
        level[same_postal] = 2
        level[streets] = np.where(
            a.house_number[left[streets]] == a.house_number[right[streets]], 0, 1
        )
        level[~(a.known[left] & a.known[right])] = UNKNOWN
        return level

    def _identifier_levels(self, left: Positions, right: Positions) -> Levels:
        identified = self.table.identified
        level = np.full(len(left), UNKNOWN, dtype=np.int8)
        records = self.table.records
        for i in np.flatnonzero(identified[left] & identified[right]).tolist():
            level[i] = _level(identifier_level(records[left[i]], records[right[i]]))
        return level


class NameLevels:
    """``comparisons.name_level`` of many pairs of name keys (``columns.Names``) at
    once: Jaro-Winkler one pair at a time, the rest column-wise."""

    def __init__(self, coded: Sequence[tuple[str, str]], name_of_key: IntArray) -> None:
        self._names = ["", *(name for name, _ in coded)]
        self._name_of_key = name_of_key
        codes = Vocabulary[str]()
        self._code = codes.column([None, *(code or None for _, code in coded)])
        self._spellings = Spellings(self._names)
        self._spaced = np.array([" " in name for name in self._names], dtype=np.bool_)
        self._initial = np.array([len(name) == 1 for name in self._names], dtype=np.bool_)

    def __call__(self, x: IntArray, y: IntArray) -> Levels:
        level = np.full(len(x), UNKNOWN, dtype=np.int8)
        known = (x > 0) & (y > 0)
        same = known & (self._name_of_key[x] == self._name_of_key[y])
        level[same] = 0
        open_ = np.flatnonzero(known & ~same)
        level[open_] = self._differing(x[open_], y[open_])
        return level

    def _differing(self, x: IntArray, y: IntArray) -> Levels:
        """``comparisons._differing_name_level``."""
        names = self._names
        xs, ys = [names[i] for i in x.tolist()], [names[i] for i in y.tolist()]
        similarity = np.fromiter(
            map(jellyfish.jaro_winkler_similarity, xs, ys), dtype=np.float64, count=len(xs)
        )
        alike = (self._code[x] >= 0) & (self._code[x] == self._code[y])
        for i in np.flatnonzero(~alike & (self._spaced[x] | self._spaced[y])).tolist():
            alike[i] = shares_part(xs[i], ys[i])
        near = (similarity >= SIMILAR) | self._spellings.within_one_edit(x, y)
        for i in np.flatnonzero(~near & (self._initial[x] | self._initial[y])).tolist():
            near[i] = _is_initial_of(xs[i], ys[i])
        level = np.full(len(x), 4, dtype=np.int8)
        level[near] = 3
        level[alike] = 2
        level[similarity >= CLOSE] = 1
        return level


def _plain_birth_levels(x: npt.NDArray[np.uint32], y: npt.NDArray[np.uint32]) -> Levels:
    """Two dates of eight digits each (no placeholder, nothing unknown), four bits a
    digit: exact, one typo (a digit replaced, or two neighbours swapped) or day and
    month swapped, the same year with the same month or day, or different."""
    differ = x ^ y
    bits = differ | (differ >> 1)
    bits |= bits >> 2
    digits = bits & np.uint32(0x11111111)  # one bit per differing digit
    count = np.bitwise_count(digits)
    neighbours = digits & (digits >> 4)  # the lower of two adjacent differing digits
    mask = neighbours * np.uint32(0xF)
    crossed = ((x ^ (y >> 4)) | ((x >> 4) ^ y)) & mask
    typo = (count == 1) | ((count == 2) & (neighbours != 0) & (crossed == 0))
    same_year = (differ >> 16) == 0
    month_x, day_x = (x >> 8) & 0xFF, x & 0xFF
    month_y, day_y = (y >> 8) & 0xFF, y & 0xFF
    swapped = same_year & (month_x == day_y) & (day_x == month_y)
    level = np.full(len(x), 3, dtype=np.int8)
    level[same_year & ((month_x == month_y) | (day_x == day_y))] = 2
    level[typo | swapped] = 1
    level[count == 0] = 0
    return level
