"""After sign-in the console goes only to its own pages (no open redirect)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from mdm_console.pages.signin import _safe_next


@given(st.text())
def test_any_next_target_stays_on_the_console(target: str) -> None:
    chosen = _safe_next(target)
    assert chosen.startswith("/")
    assert not chosen.startswith("//")
    assert "\\" not in chosen


def test_local_paths_are_kept_and_others_dropped() -> None:
    assert _safe_next("/review?band=high") == "/review?band=high"
    assert _safe_next("//evil.example/") == "/"
    assert _safe_next("https://evil.example/") == "/"
    assert _safe_next("/\\evil.example") == "/"
    assert _safe_next(None) == "/"
