"""Settings every service shares; each service subclasses with its own env prefix."""

from __future__ import annotations

from ipaddress import IPv4Network, IPv6Network

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


def _loopback() -> list[IPv4Network | IPv6Network]:
    return [IPv4Network("127.0.0.0/8"), IPv6Network("::1/128")]


class ServiceSettings(BaseSettings):
    """Base settings of a subgraph service.

    A subclass sets ``model_config = SettingsConfigDict(env_prefix="PROFILE_")``
    and the defaults that differ per service (its database). Host and port are
    uvicorn's (``--host``, ``--port``). Built once at
    start-up in the service's ``app.py``.
    """

    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    service_name: str

    graph_uri: str = "bolt://127.0.0.1:7687"
    graph_user: str = "root"
    graph_password: SecretStr = SecretStr("")
    graph_database: str = "neo4j"
    graph_connect_timeout_s: float = 5.0

    broker_url: str = "redis://127.0.0.1:6379/0"

    # Shared with the gateway: it signs every subgraph request with this key, and a
    # subgraph refuses a request whose signature does not verify.
    gateway_secret: SecretStr = SecretStr("")
    gateway_signature_max_age_s: int = 60

    max_query_depth: int = 10
    max_query_aliases: int = 15
    max_query_tokens: int = 2000
    max_request_bytes: int = Field(default=256 * 1024, ge=1024)

    # Clients allowed to scrape /metrics (Prometheus text, no personal data, but the
    # platform's load and backlog): loopback; operations adds its scraper's network,
    # e.g. PROFILE_METRICS_ALLOWED_NETWORKS='["127.0.0.0/8", "::1/128", "10.1.2.0/24"]'.
    metrics_allowed_networks: list[IPv4Network | IPv6Network] = Field(default_factory=_loopback)
