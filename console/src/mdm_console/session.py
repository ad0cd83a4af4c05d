"""Server-side sessions: the browser holds only an opaque id.

The session (who signed in, their roles, their gateway token, the CSRF token)
lives in the console's memory; the browser gets an HttpOnly, SameSite=Strict
cookie with a random id. Sessions end after an idle time and an absolute
limit. Starlette's ``request.session`` is this dict, so authlib's OpenID
Connect client keeps its state here too.

Held in memory because the console runs as one process: a restart signs
everybody out, which is safe (nothing is lost but the sign-in).
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

COOKIE = "mdm_console_session"


class Session(dict[str, Any]):
    """The session's data; :func:`rotate` gives it a new id (after sign-in)."""

    def __init__(self, sid: str | None, data: dict[str, Any] | None = None) -> None:
        super().__init__(data or {})
        self.sid = sid
        self.rotated = False

    def rotate(self) -> None:
        self.rotated = True

    def end(self) -> None:
        self.clear()


@dataclass
class _Entry:
    data: dict[str, Any]
    created: float
    seen: float


@dataclass
class SessionStore:
    idle_s: float
    max_s: float
    _entries: dict[str, _Entry] = field(default_factory=dict)

    def load(self, sid: str, now: float) -> dict[str, Any] | None:
        entry = self._entries.get(sid)
        if entry is None:
            return None
        if now - entry.seen > self.idle_s or now - entry.created > self.max_s:
            del self._entries[sid]
            return None
        entry.seen = now
        return dict(entry.data)

    def save(self, sid: str | None, data: dict[str, Any], now: float) -> str:
        """Store ``data`` under ``sid`` (a new id when None); return the id."""
        if sid is None or sid not in self._entries:
            sid = secrets.token_urlsafe(32)
            self._entries[sid] = _Entry(dict(data), created=now, seen=now)
        else:
            entry = self._entries[sid]
            entry.data = dict(data)
            entry.seen = now
        if len(self._entries) > 1000 and secrets.randbelow(50) == 0:
            self._sweep(now)
        return sid

    def delete(self, sid: str) -> None:
        self._entries.pop(sid, None)

    def _sweep(self, now: float) -> None:
        for sid in [
            s
            for s, e in self._entries.items()
            if now - e.seen > self.idle_s or now - e.created > self.max_s
        ]:
            del self._entries[sid]


class ServerSessions:
    """ASGI middleware: ``scope["session"]`` is the request's :class:`Session`."""

    def __init__(self, app: ASGIApp, *, store: SessionStore, secure: bool) -> None:
        self.app = app
        self.store = store
        self.secure = secure

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        now = time.monotonic()
        sid = _cookie(scope)
        data = self.store.load(sid, now) if sid else None
        session = Session(sid if data is not None else None, data)
        scope["session"] = session
        before = dict(session)

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                cookie = self._commit(session, before, now)
                if cookie is not None:
                    headers.append("set-cookie", cookie)
            await send(message)

        await self.app(scope, receive, send_with_cookie)

    def _commit(self, session: Session, before: dict[str, Any], now: float) -> str | None:
        if not session:
            if session.sid is None:
                return None
            self.store.delete(session.sid)
            return self._cookie_header("", max_age=0)
        if session.rotated and session.sid is not None:
            self.store.delete(session.sid)
            session.sid = None
        if session.sid is not None and dict(session) == before:
            return None
        new_sid = self.store.save(session.sid, dict(session), now)
        if new_sid == session.sid:
            return None
        session.sid = new_sid
        return self._cookie_header(new_sid, max_age=None)

    def _cookie_header(self, value: str, *, max_age: int | None) -> str:
        parts = [f"{COOKIE}={value}", "Path=/", "HttpOnly", "SameSite=Strict"]
        if max_age is not None:
            parts.append(f"Max-Age={max_age}")
        if self.secure:
            parts.append("Secure")
        return "; ".join(parts)


def _cookie(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"cookie":
            jar: SimpleCookie = SimpleCookie()
            jar.load(value.decode("latin-1"))
            if COOKIE in jar:
                return jar[COOKIE].value
    return None
