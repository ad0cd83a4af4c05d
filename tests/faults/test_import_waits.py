"""`mdm import` waits out a graph server that stalls mid-import: a batch answered
UNAVAILABLE is sent again, and every record is stored once."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from mdm_infra.platform import Platform

from .support import graph_paused

STALL_S = 7.0  # longer than the services' graph deadline (5 s): answers are UNAVAILABLE


def test_batches_answered_unavailable_are_sent_again(
    platform: Platform, token_for: Callable[..., str], tmp_path: Path
) -> None:
    run = uuid.uuid4().hex[:8]
    path = tmp_path / "kunden.csv"
    ids = [f"{run}-{i}" for i in range(12)]
    path.write_text(
        "Kundennummer;Vorname;Nachname\n" + "".join(f"{i};Kunde;Stau\n" for i in ids),
        encoding="utf-8",
    )
    command = [
        sys.executable,
        "-m",
        "mdm_profile.cli",
        "import",
        str(path),
        "--source",
        "crm",
        "--url",
        platform.config.gateway_url,
        "--token",
        token_for("app"),
        "--batch-size",
        "3",
        "--concurrency",
        "2",
        "--quiet",
    ]
    with graph_paused(platform):
        importing = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        time.sleep(STALL_S)
    out, err = importing.communicate(timeout=120)

    assert importing.returncode == 0, err
    # Nothing was written while the graph stood still: every record is new.
    assert "created 12, updated 0, with warnings 12, refused 0" in out
