from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from mdm_common import limits
from mdm_common.settings import ServiceSettings
from mdm_consent.domain.checks import MAX_BATCH
from mdm_consent.domain.double_opt_in import DEFAULT_WINDOW


class ConsentSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CONSENT_", extra="ignore", frozen=True)

    service_name: str = "consent"
    graph_database: str = "consent"
    # Admits the largest request the schema documents: a contact check of MAX_BATCH ids.
    max_request_bytes: int = Field(
        default=limits.request_bytes(MAX_BATCH * limits.ID_ITEM_BYTES), ge=1024
    )

    # The profile subgraph (called directly, signed with the gateway secret) to check
    # that a person exists before their consent events are recorded.
    profile_url: str = "http://127.0.0.1:4001/graphql"
    # The matching subgraph, called directly for data-subject requests (its copy of
    # a person's data is exported, erased or restricted with the rest).
    matching_url: str = "http://127.0.0.1:4002/graphql"
    # The distribution subgraph: whom the change stream sent a person's data, for the
    # recipients an access export names (Art. 15(1)(c)).
    distribution_url: str = "http://127.0.0.1:4004/graphql"

    # Merge events a worker records in one transaction: its own and those waiting
    # behind it (a batch re-matching job makes hundreds of merges a second).
    merge_events_per_pass: int = Field(default=500, ge=1)

    # The retention job: daily at this hour (UTC), persons per page (one task each).
    retention_hour_utc: int = Field(default=2, ge=0, le=23)
    retention_page: int = Field(default=200, ge=1, le=5000)
    # The expiry job (EXPIRED events for lapsed consents): daily at this hour (UTC),
    # an hour before retention so that its run sees the lapses recorded; persons per page.
    expiry_hour_utc: int = Field(default=1, ge=0, le=23)
    expiry_page: int = Field(default=200, ge=1, le=5000)

    # An event recorded as it happens (recordConsentEvent) lies within this many
    # seconds of the server's clock; older events are imported with their evidence.
    event_clock_skew_s: int = Field(default=300, ge=1, le=3600)

    # A double opt-in request (e-mail marketing, UWG §7(2) Nr. 2) lapses unless it is
    # confirmed within this many days; fixed on each request when it is recorded.
    double_opt_in_days: int = Field(default=DEFAULT_WINDOW.days, ge=1, le=365)
