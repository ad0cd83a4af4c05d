"""The gateway's request limits, from the same values the subgraphs enforce.

``gateway/limits.json`` is written by ``make schema`` (with the subgraph SDL) and read
by the gateway at start-up (gateway/src/policy.mjs): operation limits from
:mod:`mdm_common.limits`, and a body limit as large as the largest of the services'
own, each derived from the largest request its schema documents. A contract test
fails when the committed file is stale.
"""

from __future__ import annotations

import importlib
import json
from typing import Any

from mdm_common import limits
from mdm_infra.platform import GATEWAY_DIR, SERVICES

LIMITS_PATH = GATEWAY_DIR / "limits.json"


def service_body_limit(service: str) -> int:
    """The body limit a service enforces by default (its settings class)."""
    module = importlib.import_module(f"mdm_{service}.settings")
    settings_class = getattr(module, f"{service.title()}Settings")
    default: int = settings_class.model_fields["max_request_bytes"].default
    return default


def gateway_limits() -> dict[str, Any]:
    return {
        "maxBodyBytes": max(service_body_limit(s) for s in SERVICES),
        "maxDepth": limits.MAX_DEPTH,
        "maxAliases": limits.MAX_ALIASES,
        "maxTokens": limits.MAX_TOKENS,
    }


def current_text() -> str:
    return json.dumps(gateway_limits(), indent=2) + "\n"


def write() -> None:
    LIMITS_PATH.write_text(current_text())


def is_stale() -> bool:
    return not LIMITS_PATH.exists() or LIMITS_PATH.read_text() != current_text()
