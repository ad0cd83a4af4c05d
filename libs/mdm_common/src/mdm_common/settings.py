"""Settings every service shares; each service subclasses with its own env prefix."""

from __future__ import annotations

from ipaddress import IPv4Network, IPv6Network

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from mdm_common import limits


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
    # Every graph call ends within this many seconds, answered or UNAVAILABLE.
    graph_timeout_s: float = Field(default=5.0, gt=0)

    broker_url: str = "redis://127.0.0.1:6379/0"
    # A message a worker took but never acknowledged (the worker was killed) goes
    # back to the queue after this many seconds; longer than any task runs.
    broker_visibility_timeout_s: int = Field(default=300, ge=5)
    # How often a worker looks for such messages (older than the visibility timeout)
    # and puts them back: a killed worker's task runs again within about
    # visibility timeout + this interval, on any worker of any host.
    broker_restore_interval_s: int = Field(default=10, ge=1)

    # Shared with the gateway: it signs every subgraph request with this key, and a
    # subgraph refuses a request whose signature does not verify. A signature is good
    # once, for max_age seconds after its timestamp and not before it (beyond the
    # skew); its nonce is remembered that long in the nonce store, by default the
    # broker's Valkey/Redis ("none": each process remembers its own; enough only
    # with one process per subgraph).
    gateway_secret: SecretStr = SecretStr("")
    gateway_signature_max_age_s: float = Field(default=5.0, gt=0, le=60)
    gateway_signature_skew_s: float = Field(default=1.0, ge=0, le=30)
    nonce_store_url: str = ""

    # mdm_common.limits: the same values as the gateway's; a service whose schema
    # documents a large request raises its body limit to admit it.
    max_query_depth: int = limits.SUBGRAPH_MAX_DEPTH
    max_query_aliases: int = limits.SUBGRAPH_MAX_ALIASES
    max_query_tokens: int = limits.SUBGRAPH_MAX_TOKENS
    max_request_bytes: int = Field(default=limits.request_bytes(0), ge=1024)

    # Clients allowed to scrape /metrics (Prometheus text, no personal data, but the
    # platform's load and backlog): loopback; operations adds its scraper's network,
    # e.g. PROFILE_METRICS_ALLOWED_NETWORKS='["127.0.0.0/8", "::1/128", "10.1.2.0/24"]'.
    metrics_allowed_networks: list[IPv4Network | IPv6Network] = Field(default_factory=_loopback)
