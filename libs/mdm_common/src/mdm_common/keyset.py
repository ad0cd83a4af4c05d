"""Reading every node of a kind in key order, a page at a time, at any size.

``WHERE n.key > $after RETURN ... ORDER BY n.key LIMIT $n`` is served by the graph
server as: every node after ``after`` found through the index, then all of them
sorted, then the first ``n`` kept. One page therefore costs as much as the rest of
the data, and reading everything costs the square of its size: at a million
persons the first page of the profile's ids took 3 s of the graph server (load 1-2)
and the sync's pages missed the 5 s graph deadline. A range with both ends
(``n.key >= $lower AND n.key < $upper``) is found through the index alone, so a page
is read in **windows**: the keys that share their first two characters after a
fixed ``prefix`` (for random UUIDs, a 256th of the data: about 4,000 of a million),
sorted and cut in the window. Windows with nothing in them are skipped by asking
for any one key at or after the bound (no order, found through the index).

The answer is the same as the single statement's, whatever the keys look like;
only the cost differs. Keys are compared as the graph server compares strings (by
code point), as Python does, and hold no U+10FFFF (a noncharacter; ids never do).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from mdm_common.graph import Transaction

T = TypeVar("T")

WINDOW_CHARACTERS = 2  # after the prefix: a window's keys share these
# Above every key: keys never hold U+10FFFF, a Unicode noncharacter.
UNBOUNDED = chr(0x10FFFF)

# (lower, strictly_after, upper, limit) -> the rows with lower <(=) key < upper,
# in key order, at most ``limit``.
ReadWindow = Callable[[str, bool, str, int], Awaitable[list[T]]]
# (lower, strictly_after) -> any one key at or after ``lower`` (None: none left).
AnyKeyFrom = Callable[[str, bool], Awaitable[str | None]]


def window_end(key: str, prefix: str = "") -> str:
    """The first string after every key that starts like ``key`` in its first
    :data:`WINDOW_CHARACTERS` characters after ``prefix`` (:data:`UNBOUNDED` if no
    string is)."""
    head = key[: len(prefix) + WINDOW_CHARACTERS]
    while len(head) > len(prefix) and head[-1] == UNBOUNDED:  # a window's end as ``key``
        head = head[:-1]
    if len(head) <= len(prefix):
        return UNBOUNDED
    return head[:-1] + chr(ord(head[-1]) + 1)


async def keyset_page(
    *,
    after: str,
    limit: int,
    read_window: ReadWindow[T],
    any_key_from: AnyKeyFrom,
    prefix: str = "",
) -> list[T]:
    """The first ``limit`` rows whose key is greater than ``after``, in key order
    (as ``WHERE key > $after ORDER BY key LIMIT $limit``), read window by window."""
    found: list[T] = []
    lower, strict = after, True
    while len(found) < limit:
        if len(lower) >= len(prefix) + WINDOW_CHARACTERS:
            upper = window_end(lower, prefix)
            rows = await read_window(lower, strict, upper, limit - len(found))
        else:
            rows = []
        if not rows:
            # Nothing in this window (or no window yet): the window of any key left.
            some = await any_key_from(lower, strict)
            if some is None:
                break
            upper = window_end(max(some, prefix), prefix)
            rows = await read_window(lower, strict, upper, limit - len(found))
        found += rows
        if len(found) < limit:  # the window is read to its end
            if upper == UNBOUNDED:
                break
            lower, strict = upper, False
    return found


# --- the statements' parts ---------------------------------------------------------


def in_window(node: str, key: str) -> str:
    """The condition of a window on ``node.key``, with :func:`window_params`
    (``node`` and ``key`` come from code constants, never from input)."""
    return f"{node}.{key} >= $lower AND {node}.{key} < $upper AND {node}.{key} <> $skip"


def window_params(lower: str, strict: bool, upper: str) -> dict[str, str]:
    return {"lower": lower, "upper": upper, "skip": lower if strict else ""}


def any_key_reader(
    tx: Transaction, operation: str, label: str, key: str, *, below: str = UNBOUNDED
) -> AnyKeyFrom:
    """:data:`AnyKeyFrom` of the nodes of ``label`` by their ``key`` (only keys below
    ``below``), one statement with ``LIMIT 1`` and no order."""

    async def any_key(lower: str, strict: bool) -> str | None:
        rows = await tx.run(
            operation,
            f"MATCH (n:{label}) WHERE {in_window('n', key)} RETURN n.{key} AS key LIMIT 1",
            **window_params(lower, strict, below),
        )
        return str(rows[0]["key"]) if rows else None

    return any_key
