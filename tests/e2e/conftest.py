"""Purposes the shared end-to-end documents (queries.py) refer to, registered once."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from mdm_infra import demo
from mdm_infra.client import GatewayClient
from mdm_infra.platform import Platform

PROFILING = {
    "code": "profiling", "name": "Personalised offers",
    "description": "Offers on our website chosen from what a customer bought.",
    "legalBasis": "CONSENT", "channels": ["PERSONALISED_WEB"],
    "dataCategories": ["identity", "email", "postal_address"], "retentionDays": 365,
    "directMarketing": True,
}  # fmt: skip


@pytest.fixture(scope="session")
def platform(platform: Platform, token_for: Callable[..., str]) -> Platform:
    """The platform of mdm_infra.testing, with the purposes queries.py uses registered."""
    client = GatewayClient(platform.config.gateway_url, token_for("compliance"))
    try:
        demo.ensure_newsletter(client)
        client.execute(demo.REGISTER_PURPOSE, {"input": PROFILING})
        client.execute(demo.PUBLISH_NOTICE, {"input": {
            "purpose": "profiling", "language": "de", "text": "Ja, zeigt mir passende Angebote.",
        }})  # fmt: skip
    finally:
        client.close()
    return platform
