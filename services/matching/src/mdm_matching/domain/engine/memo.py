"""Decisions on pairs of values, each distinct pair decided once.

Candidate pairs repeat values by the million (one "Anna" meets thousands of
"Anne", every pair in a block shares its postal code), while the distinct pairs of
values are few: a string comparison in Python runs once per distinct pair, and
the pairs of records look its verdict up column-wise.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.integer[Any]]
SmallArray = npt.NDArray[np.int8]

UNKNOWN = -128
# Value pairs kept in a table indexed by both positions (a byte each), at most; the
# decisions on other pairs are kept sorted and searched.
DENSE_PAIRS = 1 << 26


Decide = Callable[[IntArray, IntArray], SmallArray]


def each(decide: Callable[[int, int], int]) -> Decide:
    """Decides pairs of value positions one by one."""

    def many(x: IntArray, y: IntArray) -> SmallArray:
        found = list(map(decide, x.tolist(), y.tolist()))
        return np.array(found, dtype=np.int8)

    return many


class PairMemo:
    """``decide(x, y)`` (small integers) for pairs of value positions, remembered:
    ``decide`` is called with distinct pairs only, each once.

    ``left_values`` and ``right_values``: how many values each side can take. The
    decisions on pairs of the first values (up to ``dense_pairs`` pairs of them) are
    kept in a table, the rest as sorted keys: where the values are numbered most
    common first (``columns.Names``), the table serves nearly every pair.
    """

    def __init__(
        self,
        decide: Decide,
        *,
        left_values: int,
        right_values: int,
        dense_pairs: int = DENSE_PAIRS,
    ) -> None:
        self._decide = decide
        side = max(math.isqrt(dense_pairs), 1)
        self._rows = max(min(left_values, side), 1)
        self._columns = max(min(right_values, dense_pairs // self._rows), 1)
        self._table = np.full(self._rows * self._columns, UNKNOWN, dtype=np.int8)
        self._right = max(right_values, 1)  # sorted keys: x * right + y
        self._keys = np.empty(0, dtype=np.int64)
        self._values = np.empty(0, dtype=np.int8)

    def __call__(self, x: IntArray, y: IntArray) -> SmallArray:
        x, y = x.astype(np.int64), y.astype(np.int64)
        inside = (x < self._rows) & (y < self._columns)
        if inside.all():
            return self._dense_lookup(x, y)
        values = np.empty(len(x), dtype=np.int8)
        values[inside] = self._dense_lookup(x[inside], y[inside])
        outside = ~inside
        values[outside] = self._sorted_lookup(x[outside] * self._right + y[outside])
        return values

    def _dense_lookup(self, x: IntArray, y: IntArray) -> SmallArray:
        keys = x * self._columns + y
        values: SmallArray = self._table[keys]
        missing = values == UNKNOWN
        if missing.any():
            new = np.unique(keys[missing])
            self._table[new] = self._decide(new // self._columns, new % self._columns)
            values[missing] = self._table[keys[missing]]
        return values

    def _sorted_lookup(self, keys: IntArray) -> SmallArray:
        distinct, inverse = np.unique(keys, return_inverse=True)
        at = np.minimum(np.searchsorted(self._keys, distinct), max(len(self._keys) - 1, 0))
        known = self._keys[at] == distinct if len(self._keys) else np.zeros(len(distinct), bool)
        values = np.where(known, self._values[at] if len(self._keys) else 0, UNKNOWN)
        values = values.astype(np.int8)
        if not known.all():
            new = distinct[~known]
            values[~known] = decided = self._decide(new // self._right, new % self._right)
            keys_all = np.concatenate([self._keys, new])
            order = np.argsort(keys_all, kind="stable")
            self._keys = keys_all[order]
            self._values = np.concatenate([self._values, decided])[order]
        result: SmallArray = values[inverse]
        return result
