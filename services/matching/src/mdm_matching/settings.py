from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from mdm_common.settings import ServiceSettings


class MatchingSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="MATCHING_", extra="ignore", frozen=True)

    service_name: str = "matching"
    graph_database: str = "matching"
