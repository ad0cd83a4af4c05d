"""Who is calling: gateway-signed requests and the roles they carry.

The gateway verifies the client's JWT, forwards its claims in the request body
(``extensions.jwt.payload``) and signs the exact body it sends with a secret shared
only with the subgraphs (headers ``x-mdm-gateway-timestamp``, ``x-mdm-gateway-nonce``
and ``x-mdm-gateway-signature``: base64url HMAC-SHA256 over
``"<timestamp>.<nonce>.<body>"``). A subgraph therefore trusts forwarded claims only
when the signature verifies, and refuses everything else: a client cannot skip the
gateway or forge claims. A signature is good for a few seconds after its timestamp
(not before it, beyond a small clock skew) and only once: its nonce is remembered
for that window (:mod:`mdm_common.replay`), so a captured request cannot be replayed.

Asking the shared nonce store is a network round trip. A request whose document
cannot write (no ``mutation`` or ``subscription`` in it) runs while the store
answers, and its answer is held back until then: a replay gets the refusal, never
the data, and leaves no read-audit record (the audit waits for the same answer,
:data:`FIRST_USE_SCOPE_KEY`). Anything else is checked before it runs.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import re
import secrets
import time
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mdm_common.replay import NonceRegistry

SIGNATURE_HEADER = "x-mdm-gateway-signature"
TIMESTAMP_HEADER = "x-mdm-gateway-timestamp"
NONCE_HEADER = "x-mdm-gateway-nonce"
PRINCIPAL_SCOPE_KEY = "mdm.principal"
# For a read run before its nonce is confirmed: the awaitable answer, True on first use.
FIRST_USE_SCOPE_KEY = "mdm.nonce_first_use"


class Role(StrEnum):
    APP = "app"
    STEWARD = "steward"
    COMPLIANCE = "compliance"
    ADMIN = "admin"


@dataclass(frozen=True)
class Principal:
    """The authenticated caller. ``subject`` is an opaque id, never a person's name."""

    subject: str
    roles: frozenset[Role] = field(default_factory=frozenset)

    def has_any(self, roles: frozenset[Role]) -> bool:
        return Role.ADMIN in self.roles or bool(self.roles & roles)


def sign(secret: bytes, timestamp: str, nonce: str, body: bytes) -> str:
    message = b".".join((timestamp.encode(), nonce.encode(), body))
    digest = hmac.new(secret, message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def new_nonce() -> str:
    return secrets.token_urlsafe(16)


def signed_headers(secret: bytes, body: bytes) -> dict[str, str]:
    """The headers that make ``body`` a gateway-signed request, good once."""
    timestamp, nonce = str(int(time.time() * 1000)), new_nonce()
    return {
        TIMESTAMP_HEADER: timestamp,
        NONCE_HEADER: nonce,
        SIGNATURE_HEADER: sign(secret, timestamp, nonce, body),
    }


class SignatureError(Exception):
    pass


# 16 random bytes in base64url at the least; the gateway sends 22 characters.
_NONCE = re.compile(r"[A-Za-z0-9_-]{22,64}")
_TIMESTAMP = re.compile(r"[0-9]{1,16}")  # milliseconds since the epoch


def verify(
    secret: bytes,
    *,
    timestamp: str | None,
    nonce: str | None,
    signature: str | None,
    body: bytes,
    max_age_s: float,
    skew_s: float,
) -> str:
    """Check a signature's key, body and time and return its nonce; whether that was
    used before is the caller's second question (:mod:`mdm_common.replay`)."""
    if not timestamp or not signature or not nonce:
        raise SignatureError("Requests must come through the gateway.")
    if not _TIMESTAMP.fullmatch(timestamp) or not _NONCE.fullmatch(nonce):
        raise SignatureError("Malformed gateway signature headers.")
    age = time.time() - int(timestamp) / 1000
    if age > max_age_s:
        raise SignatureError("Gateway signature expired.")
    if age < -skew_s:
        raise SignatureError("Gateway signature timestamp is in the future.")
    expected = sign(secret, timestamp, nonce, body).encode()
    if not hmac.compare_digest(expected, signature.encode("utf-8", "surrogatepass")):
        raise SignatureError("Invalid gateway signature.")
    return nonce


def principal_from_body(body: bytes) -> Principal | None:
    """Read the forwarded JWT claims; ``None`` when the request carries none."""
    try:
        return principal_from_request(json.loads(body))
    except (ValueError, RecursionError):
        return None


def principal_from_request(request: Any) -> Principal | None:
    """The forwarded JWT claims of a decoded request body; ``None`` without any."""
    try:
        payload: Any = request["extensions"]["jwt"]["payload"]
    except (KeyError, TypeError, IndexError):
        return None
    if not isinstance(payload, dict) or not isinstance(payload.get("sub"), str):
        return None
    raw_roles = payload.get("roles", [])
    roles = frozenset(Role(r) for r in raw_roles if r in Role.__members__.values())
    return Principal(subject=payload["sub"], roles=roles)


# The operation keywords of a document that may change something, as whole GraphQL
# names. Found anywhere (even inside a string), the request counts as a write: a
# false alarm only costs the wait.
_WRITES = re.compile(r"(?<![_0-9A-Za-z])(?:mutation|subscription)(?![_0-9A-Za-z])")


def reads_only(request: Any) -> bool:
    """True if a decoded request body holds one document that cannot write."""
    query = request.get("query") if isinstance(request, dict) else None
    return isinstance(query, str) and _WRITES.search(query) is None


def _decoded(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        return None


class GatewayOnly:
    """ASGI middleware for the GraphQL route: bounded body, verified single-use gateway
    signature.

    Reads the whole body once (refusing more than ``max_bytes``), checks the
    signature and that its nonce is new, puts the :class:`Principal` into the ASGI
    scope and replays the body to the wrapped application. A read-only document runs
    while the nonce store is asked; its response is sent only on first use.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        secret: bytes,
        nonces: NonceRegistry,
        max_bytes: int,
        max_age_s: float,
        skew_s: float,
    ) -> None:
        if not secret:
            raise ValueError("A gateway secret is required to serve GraphQL.")
        self.app = app
        self.secret = secret
        self.nonces = nonces
        self.max_bytes = max_bytes
        self.max_age_s = max_age_s
        self.skew_s = skew_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        body = bytearray()
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body.extend(message.get("body", b""))
            more = message.get("more_body", False)
            if len(body) > self.max_bytes:
                await _refuse(send, 413, "PAYLOAD_TOO_LARGE", "Request body too large.")
                return
        try:
            nonce = verify(
                self.secret,
                timestamp=headers.get(TIMESTAMP_HEADER),
                nonce=headers.get(NONCE_HEADER),
                signature=headers.get(SIGNATURE_HEADER),
                body=bytes(body),
                max_age_s=self.max_age_s,
                skew_s=self.skew_s,
            )
        except SignatureError as exc:
            await _refuse(send, 401, "UNAUTHENTICATED", str(exc))
            return
        await self._serve_once(scope, receive, send, body=bytes(body), nonce=nonce)

    async def _serve_once(
        self, scope: Scope, receive: Receive, send: Send, *, body: bytes, nonce: str
    ) -> None:
        """Serve a verified request if its nonce is used for the first time."""
        request = _decoded(body)
        scope = dict(scope)
        scope[PRINCIPAL_SCOPE_KEY] = principal_from_request(request)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        # After the signature: only the gateway's own nonces reach the memory.
        first_use = asyncio.ensure_future(self.nonces.first_use(nonce))
        if not reads_only(request):
            if not await first_use:
                await _refuse(send, 401, "UNAUTHENTICATED", "Gateway signature already used.")
                return
            await self.app(scope, replay, send)
            return

        scope[FIRST_USE_SCOPE_KEY] = first_use
        held: list[Message] = []

        async def hold(message: Message) -> None:
            held.append(message)

        try:
            await self.app(scope, replay, hold)
        finally:
            # Settled either way: a failed read must not leave the store's answer unread.
            used_once = await first_use
        if not used_once:
            await _refuse(send, 401, "UNAUTHENTICATED", "Gateway signature already used.")
            return
        for message in held:
            await send(message)


async def _refuse(send: Send, status: int, code: str, message: str) -> None:
    payload = json.dumps(
        {"data": None, "errors": [{"message": message, "extensions": {"code": code}}]}
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})
