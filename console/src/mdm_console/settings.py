"""The console's settings: ``CONSOLE_`` environment variables, read once at start-up."""

from __future__ import annotations

import httpx
from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from mdm_common.auth import Role

# Roles that may use the console at all; ``app`` is for applications, not people.
CONSOLE_ROLES = frozenset({Role.STEWARD, Role.COMPLIANCE, Role.ADMIN})


class ConsoleSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CONSOLE_", extra="ignore", frozen=True)

    # The only server the console talks to.
    gateway_url: str = "http://127.0.0.1:4000/graphql"
    gateway_timeout_s: float = Field(default=10.0, gt=0)
    # What /readyz asks to learn whether the gateway serves; empty: the gateway's own
    # readiness endpoint, /readiness at the origin of gateway_url.
    gateway_readiness_url: str = ""
    # The gateway's JWT secret: the console signs a short-lived gateway token per
    # signed-in user with the roles the identity provider (or the development
    # sign-in) granted. The token never leaves the server.
    jwt_secret: SecretStr = SecretStr("")
    # At most the gateway's MDM_JWT_MAX_LIFETIME_S (an hour by default); the issuer
    # must be one of its MDM_JWT_ISSUERS.
    gateway_token_ttl_s: int = Field(default=15 * 60, ge=60, le=3600)
    gateway_token_issuer: str = Field(default="mdm-console", min_length=1)

    # Development sign-in (choose roles, no password): only set by the platform
    # launcher when it runs with its own generated development secrets.
    dev_signin: bool = False

    # OpenID Connect (production): the company's identity provider.
    oidc_issuer: str = ""
    oidc_client_id: str = ""
    oidc_client_secret: SecretStr = SecretStr("")
    oidc_scopes: str = "openid profile email"
    # The ID-token claim that lists the user's groups, and which group gives which
    # console role, e.g. {"mdm-stewards": "steward", "dpo": "compliance"}.
    oidc_groups_claim: str = "groups"
    oidc_role_mapping: dict[str, Role] = Field(default_factory=dict)

    # Where browsers reach the console (redirect URI of the identity provider).
    public_url: str = "http://127.0.0.1:4100"
    # Idle time after which a session ends, and the absolute limit.
    session_idle_s: int = Field(default=30 * 60, ge=60)
    session_max_s: int = Field(default=10 * 3600, ge=300)
    # Set the Secure flag on the session cookie (on behind TLS; off on loopback).
    secure_cookies: bool = False

    page_size: int = Field(default=25, ge=5, le=100)

    @property
    def gateway_readiness(self) -> str:
        if self.gateway_readiness_url:
            return self.gateway_readiness_url
        return str(httpx.URL(self.gateway_url).copy_with(path="/readiness", query=None))

    @property
    def oidc_enabled(self) -> bool:
        return bool(self.oidc_issuer and self.oidc_client_id)

    @model_validator(mode="after")
    def _one_way_in(self) -> ConsoleSettings:
        if not self.jwt_secret.get_secret_value():
            raise ValueError("CONSOLE_JWT_SECRET is required: the console signs gateway tokens.")
        if not (self.dev_signin or self.oidc_enabled):
            raise ValueError(
                "No sign-in configured: set CONSOLE_OIDC_ISSUER and CONSOLE_OIDC_CLIENT_ID "
                "(production) or run the embedded platform (development sign-in)."
            )
        return self
