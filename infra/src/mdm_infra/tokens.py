"""Development tokens for the gateway (HS256, the secret from the platform config).

They follow the gateway's rules like any token (gateway/src/tokens.mjs): issuer
``mdm-dev`` (allowed by the embedded platform only), audience ``mdm``, issued now,
expiring within the gateway's maximum lifetime (an hour by default).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

import jwt

AUDIENCE = "mdm"
ISSUER = "mdm-dev"
# The gateway's default MDM_JWT_MAX_LIFETIME_S; the embedded platform keeps it.
MAX_LIFETIME_S = 3600


def mint(secret: str, *, subject: str, roles: Iterable[str], ttl_s: int = MAX_LIFETIME_S) -> str:
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "sub": subject,
        "aud": AUDIENCE,
        "roles": sorted(set(roles)),
        "iat": now,
        "exp": now + ttl_s,
    }
    return jwt.encode(claims, secret, algorithm="HS256")


def renewing(
    secret: str, *, subject: str, roles: Iterable[str], ttl_s: int = MAX_LIFETIME_S
) -> Callable[[], str]:
    """A token source for runs longer than a token lives (benchmarks): a fresh token
    once nine tenths of the current one's life have passed."""
    wanted = sorted(set(roles))
    token = ""
    renew_at = 0.0

    def current() -> str:
        nonlocal token, renew_at
        if time.time() >= renew_at:
            token = mint(secret, subject=subject, roles=wanted, ttl_s=ttl_s)
            renew_at = time.time() + ttl_s * 0.9
        return token

    return current
