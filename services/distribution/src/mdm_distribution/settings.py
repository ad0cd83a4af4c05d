from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from mdm_common.settings import ServiceSettings


class DistributionSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="DISTRIBUTION_", extra="ignore", frozen=True)

    service_name: str = "distribution"
    graph_database: str = "distribution"
    # A pass's transaction holds its reads of the profile and consent (domain/distribute.py):
    # longer than a request's deadline, so that a pass of 200 persons under load completes.
    graph_timeout_s: float = Field(default=15.0, gt=0)

    # The profile subgraph (golden records) and the consent subgraph (the contact
    # check of each subscriber's purpose), called directly, signed with the gateway secret.
    profile_url: str = "http://127.0.0.1:4001/graphql"
    consent_url: str = "http://127.0.0.1:4003/graphql"

    # The change stream: one Redis stream per subscriber, on this Redis/Valkey server
    # (empty: the broker's). Production may point it at a Redis of its own.
    stream_url: str = ""
    stream_prefix: str = "mdm:changes:"
    # Entries a subscriber's stream keeps (approximately, XADD MAXLEN ~): older ones are
    # trimmed, whether read or not. A consumer further behind rebuilds from a bulk export.
    stream_max_entries: int = Field(default=1_000_000, ge=1000)
    # How often the stream relay looks for entries to append (the lag's floor).
    stream_poll_s: float = Field(default=0.05, gt=0, le=5)

    # Change events a worker distributes in one pass: its own and those waiting behind it.
    events_per_pass: int = Field(default=200, ge=1, le=500)

    # Webhooks: each delivery is retried with exponential back-off (jittered) from the
    # first to the longest pause; after the last attempt it goes to the dead letters.
    webhook_timeout_s: float = Field(default=10.0, gt=0, le=60)
    webhook_attempts: int = Field(default=8, ge=1, le=30)
    webhook_first_retry_s: float = Field(default=1.0, gt=0)
    webhook_max_retry_s: float = Field(default=300.0, gt=0)
    # After a secret is rotated, deliveries carry a signature with the old secret too
    # for this long, so a receiver can switch without losing a delivery.
    webhook_secret_overlap_s: int = Field(default=86_400, ge=0)
    # Webhook URLs must be https, except on these hosts (development, tests).
    webhook_plain_http_hosts: list[str] = Field(default_factory=lambda: ["127.0.0.1", "localhost"])

    # Where export jobs write their files (a directory per job), on a volume the workers
    # and whoever fetches the files share.
    export_dir: Path = Path("exports")

    @property
    def stream_redis_url(self) -> str:
        return self.stream_url or self.broker_url
