"""Development tokens for the gateway (HS256, the secret from the platform config)."""

from __future__ import annotations

import time
from collections.abc import Iterable

import jwt

AUDIENCE = "mdm"


def mint(secret: str, *, subject: str, roles: Iterable[str], ttl_s: int = 8 * 3600) -> str:
    now = int(time.time())
    claims = {"sub": subject, "roles": sorted(set(roles)), "aud": AUDIENCE, "iat": now,
              "exp": now + ttl_s}  # fmt: skip
    return jwt.encode(claims, secret, algorithm="HS256")
