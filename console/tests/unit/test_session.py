"""Server-side sessions: idle and absolute expiry, a new id on sign-in."""

from __future__ import annotations

from mdm_console.session import SessionStore


def test_a_session_ends_after_its_idle_time() -> None:
    store = SessionStore(idle_s=60, max_s=3600)
    sid = store.save(None, {"user": "a"}, now=0)
    assert store.load(sid, now=59) == {"user": "a"}
    assert store.load(sid, now=59 + 61) is None


def test_a_session_ends_after_its_absolute_limit_however_busy() -> None:
    store = SessionStore(idle_s=60, max_s=100)
    sid = store.save(None, {"user": "a"}, now=0)
    for t in range(30, 100, 30):
        assert store.load(sid, now=t) is not None
    assert store.load(sid, now=101) is None


def test_an_unknown_or_deleted_id_gets_nothing_and_saving_makes_a_new_id() -> None:
    store = SessionStore(idle_s=60, max_s=100)
    assert store.load("made-up", now=0) is None
    sid = store.save(None, {"x": 1}, now=0)
    store.delete(sid)
    assert store.load(sid, now=1) is None
    assert store.save(sid, {"x": 2}, now=1) != sid  # a forgotten id is not revived
