"""`make run` / `make stop` as a user runs them: the CLI behind both, on free ports."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import httpx

from mdm_infra.platform import Ports
from mdm_infra.process import is_alive


def test_up_prints_a_working_sample_query_and_down_leaves_nothing(tmp_path: Path) -> None:
    ports = Ports.free()
    env = os.environ | {
        f"MDM_{name.upper()}_PORT": str(getattr(ports, name)) for name in ports.__dataclass_fields__
    }
    env |= {"MDM_STATE_DIR": str(tmp_path)}
    env.pop("OTEL_EXPORTER_OTLP_ENDPOINT", None)

    up = subprocess.run(
        [sys.executable, "-m", "mdm_infra", "up"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    try:
        assert up.returncode == 0, up.stderr + up.stdout
        url = re.search(r"Gateway:\s+(\S+)", up.stdout).group(1)  # type: ignore[union-attr]
        token = re.search(r"Token:\s+(\S+)", up.stdout).group(1)  # type: ignore[union-attr]
        payload = re.search(r"-d '(.+)'", up.stdout).group(1)  # type: ignore[union-attr]
        assert url == f"http://127.0.0.1:{ports.gateway}/graphql"

        answer = httpx.post(
            url,
            content=payload,
            headers={"authorization": f"Bearer {token}", "content-type": "application/json"},
        ).json()
        assert "errors" not in answer, answer
        person = answer["data"]["person"]
        assert person["givenName"] == "Anna"
        assert person["consents"][0]["purpose"] == "newsletter"

        again = subprocess.run([sys.executable, "-m", "mdm_infra", "up"], env=env,
                               capture_output=True, text=True, timeout=60)  # fmt: skip
        assert again.returncode == 1
        assert "already running" in again.stdout
    finally:
        pids = (
            json.loads((tmp_path / "pids.json").read_text())
            if (tmp_path / "pids.json").exists()
            else {}
        )
        down = subprocess.run(
            [sys.executable, "-m", "mdm_infra", "down"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert down.returncode == 0
    assert set(pids) == {
        "graph",
        "broker",
        "profile",
        "matching",
        "consent",
        "matching-worker",
        "gateway",
    }
    assert [name for name, pid in pids.items() if is_alive(pid)] == []
    leftovers = subprocess.run(["pgrep", "-f", str(tmp_path)], capture_output=True, text=True)
    assert leftovers.stdout == ""
