from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from mdm_common.settings import ServiceSettings
from mdm_profile.domain.golden import DEFAULT_RULES, Rule
from mdm_profile.domain.suppression import derive_key

DEFAULT_SOURCES = {"crm": 1, "erp": 1, "shop": 2, "pos": 2, "support": 3, "newsletter": 3,
                   "api": 4}  # fmt: skip


class ProfileSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="PROFILE_", extra="ignore", frozen=True)

    service_name: str = "profile"
    graph_database: str = "profile"
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

    @property
    def survivorship_rules(self) -> dict[str, Rule]:
        return DEFAULT_RULES | self.survivorship

    @property
    def suppression_key_bytes(self) -> bytes:
        return derive_key(
            self.suppression_key.get_secret_value(),
            gateway_secret=self.gateway_secret.get_secret_value(),
        )
