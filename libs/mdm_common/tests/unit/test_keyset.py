"""Pages read window by window are the pages of one ordered statement, whatever the
keys look like (including keys outside the prefix, filtered rows and the last code
point, the last one a key may hold)."""

from __future__ import annotations

import asyncio

from hypothesis import given, settings
from hypothesis import strategies as st

from mdm_common.keyset import UNBOUNDED, keyset_page, window_end

# The characters around the windows' ends, and the last one a key may hold.
KEY_TEXT = st.text(
    alphabet=st.sampled_from(["0", "1", "9", "a", "f", "z", "é", "\U0010fffe"]), max_size=5
)
KEYS = st.dictionaries(KEY_TEXT.filter(bool), st.booleans())  # no key is empty


class Nodes:
    """Keys with a flag (the rows a statement's other conditions keep), and a count
    of the statements asked."""

    def __init__(self, keys: dict[str, bool]) -> None:
        self.keys = keys
        self.statements = 0

    async def read_window(self, lower: str, strict: bool, upper: str, limit: int) -> list[str]:
        self.statements += 1
        inside = [
            k
            for k, kept in self.keys.items()
            if kept and (k > lower if strict else k >= lower) and k < upper
        ]
        return sorted(inside)[:limit]

    async def any_key_from(self, lower: str, strict: bool) -> str | None:
        self.statements += 1
        left = [k for k in self.keys if (k > lower if strict else k >= lower)]
        return max(left) if left else None  # not the first: any one will do

    def expected(self, after: str, limit: int) -> list[str]:
        return sorted(k for k, kept in self.keys.items() if kept and k > after)[:limit]


def _page(nodes: Nodes, after: str, limit: int, prefix: str = "") -> list[str]:
    return asyncio.run(
        keyset_page(
            after=after,
            limit=limit,
            read_window=nodes.read_window,
            any_key_from=nodes.any_key_from,
            prefix=prefix,
        )
    )


@given(
    keys=KEYS,
    after=KEY_TEXT,
    limit=st.integers(min_value=1, max_value=8),
    prefix=st.sampled_from(["", "j/", "0"]),
)
@settings(max_examples=400, deadline=None)
def test_a_page_is_the_page_of_the_ordered_statement(
    keys: dict[str, bool], after: str, limit: int, prefix: str
) -> None:
    nodes = Nodes({prefix + k: kept for k, kept in keys.items()})
    assert _page(nodes, prefix + after, limit, prefix) == nodes.expected(prefix + after, limit)


@given(keys=KEYS, limit=st.integers(1, 4))
@settings(max_examples=200, deadline=None)
def test_reading_page_after_page_reads_every_kept_key_once(
    keys: dict[str, bool], limit: int
) -> None:
    nodes = Nodes(keys)
    read: list[str] = []
    while True:
        page = _page(nodes, read[-1] if read else "", limit)
        read += page
        if len(page) < limit:
            break
    assert read == sorted(k for k, kept in keys.items() if kept)


def test_uuids_are_read_a_window_of_about_a_256th_at_a_time() -> None:
    keys = {f"{i:02x}{j:02x}-rest": True for i in range(256) for j in range(0, 256, 16)}
    nodes = Nodes(keys)
    page = _page(nodes, "7f", 40)
    assert page == nodes.expected("7f", 40)
    assert nodes.statements <= 5  # 16 keys a window: three windows, one lookup


@given(key=KEY_TEXT, prefix=st.sampled_from(["", "j/"]))
def test_a_window_ends_after_every_key_that_starts_alike(key: str, prefix: str) -> None:
    end = window_end(prefix + key, prefix)
    head = (prefix + key)[: len(prefix) + 2]
    assert end > prefix + key
    if end != UNBOUNDED:
        assert end > head + "\U0010fffe" * 3  # after every key that starts like it
