"""Waiting for a paged job run (retention, expiry) through the gateway."""

from __future__ import annotations

import time
from typing import Any

from mdm_infra.client import GatewayClient


def when_done(
    client: GatewayClient, query: str, field: str, run_id: str, *, timeout_s: float = 120
) -> dict[str, Any]:
    """The run as ``query`` reads it (``field``) once it is no longer RUNNING, or at the
    deadline (the caller's assertion on its status then says what went wrong)."""
    deadline = time.monotonic() + timeout_s
    while True:
        run: dict[str, Any] = client.execute(query, {"id": run_id})[field]
        if run["status"] != "RUNNING" or time.monotonic() > deadline:
            return run
        time.sleep(0.2)
