from __future__ import annotations

from dataclasses import fields

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import SettingsConfigDict

from mdm_common import limits
from mdm_common.settings import ServiceSettings
from mdm_profile.domain.golden import ATTRIBUTES, DEFAULT_RULES, Rule
from mdm_profile.domain.quality.identifiers import MAX_IDENTIFIERS, MAX_VALUE
from mdm_profile.domain.records import MAX_BATCH, MAX_FIELD_LENGTH, MAX_SOURCE_ID, RawRecord
from mdm_profile.domain.sources import RECTIFICATION
from mdm_profile.domain.suppression import derive_key

DEFAULT_SOURCES = {"crm": 1, "erp": 1, "shop": 2, "pos": 2, "support": 3, "newsletter": 3,
                   "api": 4}  # fmt: skip


def largest_ingest_bytes() -> int:
    """The list data of the largest documented ingest: MAX_BATCH records, every text
    at its longest (field names counted as written in Python, no shorter in JSON)."""
    skip = {"source_id", "recorded_at", "identifiers"}
    texts = [f.name for f in fields(RawRecord) if f.name not in skip]
    record = sum(len(name) + 3 + limits.text_bytes(MAX_FIELD_LENGTH) for name in texts)
    identifier = len('{"scheme":"CUSTOMER_NUMBER","value":,"issuer":},')
    identifier += 2 * limits.text_bytes(MAX_VALUE)
    record += len('"identifiers":[]') + MAX_IDENTIFIERS * identifier
    record += len('"sourceId":') + limits.text_bytes(MAX_SOURCE_ID)
    record += len('"recordedAt":"2026-12-31T23:59:59.999999+00:00",{}')
    return MAX_BATCH * record


class ProfileSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="PROFILE_", extra="ignore", frozen=True)

    service_name: str = "profile"
    graph_database: str = "profile"
    # Admits the largest request the schema documents (largest_ingest_bytes).
    max_request_bytes: int = Field(default=limits.request_bytes(largest_ingest_bytes()), ge=1024)
    # Source systems allowed to send records, with their trust (1 = most trusted), e.g.
    # PROFILE_SOURCES='{"crm": 1, "shop": 2}'.
    sources: dict[str, int] = Field(default_factory=lambda: dict(DEFAULT_SOURCES))
    # Survivorship rule per attribute, merged over the defaults, e.g.
    # PROFILE_SURVIVORSHIP='{"email": "SOURCE_PRIORITY"}'.
    survivorship: dict[str, Rule] = Field(default_factory=dict)
    # Household candidates: same normalised address and, unless turned off, the same
    # family name (spelling variants folded).
    household_by_family_name: bool = True
    # Key of the suppression list's HMACs (docs/data-subject-requests.md). Production
    # sets its own (PROFILE_SUPPRESSION_KEY) and keeps it: a new key makes every
    # existing entry unmatchable, so erased persons could be ingested again. Empty:
    # derived from the gateway secret, so that the embedded stack works as it is.
    suppression_key: SecretStr = SecretStr("")

    @field_validator("survivorship")
    @classmethod
    def _known_attributes_and_rules(cls, value: dict[str, Rule]) -> dict[str, Rule]:
        for attribute, rule in value.items():
            if attribute not in ATTRIBUTES:
                raise ValueError(
                    f"no survivorship for {attribute!r}; known: {', '.join(ATTRIBUTES)}"
                )
            if rule is Rule.ALL_VALUES:
                raise ValueError("ALL_VALUES is the identifiers' own rule, not a choice")
            if rule is Rule.RECTIFIED:
                raise ValueError("RECTIFIED marks values a rectification set, not a choice")
        return value

    @field_validator("sources")
    @classmethod
    def _no_reserved_source(cls, value: dict[str, int]) -> dict[str, int]:
        if RECTIFICATION in value:
            raise ValueError(f"{RECTIFICATION!r} is reserved for rectified values (Art. 16)")
        return value

    @property
    def survivorship_rules(self) -> dict[str, Rule]:
        return DEFAULT_RULES | self.survivorship

    @property
    def suppression_key_bytes(self) -> bytes:
        return derive_key(
            self.suppression_key.get_secret_value(),
            gateway_secret=self.gateway_secret.get_secret_value(),
        )
