"""Typos: whether two values are one edit apart, decided without an edit distance.

A slip of one key (a letter replaced, added, dropped, or two neighbours swapped) is
what the comparisons call "one typo". The Damerau-Levenshtein distance says the same
(at most 1), but computes a whole table for every pair, and most compared values
differ in length by more than one, or in more than one place: this says so at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.integer[Any]]
BoolArray = npt.NDArray[np.bool_]
Letters = npt.NDArray[np.uint8] | npt.NDArray[np.uint16] | npt.NDArray[np.uint32]
# Pairs compared column-wise at once: a few MiB of letters each.
_ROWS_AT_ONCE = 1 << 18
# Letters compared first at each end.
_WINDOW = 8


def within_one_edit(x: str, y: str) -> bool:
    """Damerau-Levenshtein distance at most 1 (equal, or one letter replaced, added,
    dropped, or two neighbours swapped), without computing the distance: most pairs
    differ in length by more than one, or in more than one place, and are told apart
    at once."""
    if x == y:
        return True
    lx, ly = len(x), len(y)
    if lx - ly > 1 or ly - lx > 1:
        return False
    i, shorter = 0, min(lx, ly)
    while i < shorter and x[i] == y[i]:
        i += 1
    if lx == ly:
        return x[i + 1 :] == y[i + 1 :] or (
            i + 1 < lx and x[i] == y[i + 1] and x[i + 1] == y[i] and x[i + 2 :] == y[i + 2 :]
        )
    return x[i + 1 :] == y[i:] if lx > ly else x[i:] == y[i + 1 :]


class Spellings:
    """A vocabulary of strings laid out for deciding "one edit apart" of many pairs at once.

    Two values are one edit apart exactly when their common prefix ``p`` and common
    suffix ``s`` cover all but one letter: ``p + s >= len - 1`` for equal lengths
    (one letter replaced), ``p + s >= shorter`` for lengths one apart (one added or
    dropped); or, for equal lengths, the two letters after the prefix are swapped and
    the rest agrees. Prefix and suffix come from comparing the letters column-wise,
    the first few columns first: most values differ early at both ends.
    """

    def __init__(self, values: Sequence[str]) -> None:
        distinct: dict[str, int] = {}
        self._of = np.array([distinct.setdefault(v, len(distinct)) for v in values], dtype=np.int64)
        texts = list(distinct)
        self._lengths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
        width = max(int(self._lengths.max(initial=0)) + 2, _WINDOW)  # padding past the end
        codes = np.frombuffer("".join(texts).encode("utf-32-le"), dtype=np.uint32)
        top = int(codes.max(initial=0))
        dtype = np.uint8 if top < 0xFF else np.uint16 if top < 0xFFFF else np.uint32
        pad = np.iinfo(dtype).max  # no letter: values never agree on padding and a letter
        self._forward = np.full((len(texts), width), pad, dtype=dtype)
        self._backward = np.full((len(texts), width), pad, dtype=dtype)
        rows = np.repeat(np.arange(len(texts)), self._lengths)
        starts = np.cumsum(self._lengths) - self._lengths
        columns = np.arange(len(codes)) - np.repeat(starts, self._lengths)
        self._forward[rows, columns] = codes
        self._backward[rows, self._lengths[rows] - 1 - columns] = codes
        self._head = np.ascontiguousarray(self._forward[:, :_WINDOW])
        self._end = np.ascontiguousarray(self._backward[:, :_WINDOW])

    def within_one_edit(self, x: IntArray, y: IntArray) -> BoolArray:
        """Per pair of positions in the values: :func:`within_one_edit` of the two."""
        x, y = self._of[x], self._of[y]
        found: BoolArray = x == y
        lx, ly = self._lengths[x], self._lengths[y]
        open_ = np.flatnonzero(~found & (np.abs(lx - ly) <= 1))
        for start in range(0, len(open_), _ROWS_AT_ONCE):
            at = open_[start : start + _ROWS_AT_ONCE]
            found[at] = self._one_edit(x[at], y[at], lx[at], ly[at])
        return found

    def _one_edit(self, x: IntArray, y: IntArray, lx: IntArray, ly: IntArray) -> BoolArray:
        prefix = _first_difference(self._head, self._forward, x, y)
        suffix = _first_difference(self._end, self._backward, x, y)
        same_length = lx == ly
        covered = prefix + suffix >= np.where(same_length, lx - 1, np.minimum(lx, ly))
        # Two neighbours swapped: the letters after the prefix, crosswise.
        at = np.flatnonzero(
            same_length & ~covered & (prefix + 1 < lx) & (suffix >= lx - prefix - 2)
        )
        p, xs, ys, forward = prefix[at], x[at], y[at], self._forward
        covered[at] = (forward[xs, p] == forward[ys, p + 1]) & (
            forward[xs, p + 1] == forward[ys, p]
        )
        result: BoolArray = covered
        return result


def _first_difference(window: Letters, full: Letters, x: IntArray, y: IntArray) -> IntArray:
    """Where rows ``x`` and ``y`` first differ (two different values always do)."""
    differ = window[x] != window[y]
    first = np.argmax(differ, axis=1)
    later = np.flatnonzero(~differ[np.arange(len(x)), first])
    if len(later):
        first[later] = np.argmax(full[x[later]] != full[y[later]], axis=1)
    result: IntArray = first
    return result
