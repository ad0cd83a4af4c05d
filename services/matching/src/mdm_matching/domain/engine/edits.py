"""Typos: whether two values are one edit apart, decided without an edit distance.

A slip of one key (a letter replaced, added, dropped, or two neighbours swapped) is
what the comparisons call "one typo". The Damerau-Levenshtein distance says the same
(at most 1), but computes a whole table for every pair, and most compared values
differ in length by more than one, or in more than one place: this says so at once.
"""

from __future__ import annotations


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
