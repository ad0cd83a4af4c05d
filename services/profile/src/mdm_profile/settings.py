from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from mdm_common.settings import ServiceSettings


class ProfileSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="PROFILE_", extra="ignore", frozen=True)

    service_name: str = "profile"
    graph_database: str = "profile"
