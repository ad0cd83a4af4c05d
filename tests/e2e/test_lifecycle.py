"""`make run` / `make stop` as a user runs them: the CLI behind both, on free ports."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import httpx

from mdm_infra.platform import COMPONENTS, Platform, Ports
from mdm_infra.process import is_alive
from mdm_infra.supervision import leftover_pids


def cli(command: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mdm_infra", command],
        env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def printed(label: str, output: str) -> str:
    found = re.search(label, output)
    assert found, output
    return found.group(1)


def run_sample_query(output: str) -> dict[str, object]:
    url = printed(r"Gateway:\s+(\S+)", output)
    token = printed(r"export TOKEN=(\S+)", output)
    payload = printed(r"-d '(.+)'", output)
    headers = {"authorization": f"Bearer {token}", "content-type": "application/json"}
    answer: dict[str, object] = httpx.post(url, content=payload, headers=headers).json()
    return answer


def down_and_check_nothing_is_left(env: dict[str, str], state_dir: Path) -> None:
    running = Platform.running(state_dir)
    pids = {name: proc.pid for name, proc in running.processes.items()} if running else {}
    down = cli("down", env)
    assert down.returncode == 0, down.stderr
    assert set(pids) == set(COMPONENTS)
    assert [name for name, pid in pids.items() if is_alive(pid)] == []
    assert leftover_pids(state_dir) == []
    # supervisord too (its command line names the state directory).
    leftovers = subprocess.run(["pgrep", "-f", str(state_dir)], capture_output=True, text=True)
    assert leftovers.stdout == ""


def test_up_answers_the_printed_query_and_down_leaves_nothing(tmp_path: Path) -> None:
    ports = Ports.free()
    env = dict(os.environ) | {
        f"MDM_{name.upper()}_PORT": str(getattr(ports, name)) for name in ports.__dataclass_fields__
    }
    env["MDM_STATE_DIR"] = str(tmp_path)
    env.pop("OTEL_EXPORTER_OTLP_ENDPOINT", None)

    up = cli("up", env)
    try:
        assert up.returncode == 0, up.stderr + up.stdout
        assert (
            printed(r"Gateway:\s+(\S+)", up.stdout) == f"http://127.0.0.1:{ports.gateway}/graphql"
        )
        console = printed(r"Console:\s+(\S+)", up.stdout)
        assert console == f"http://127.0.0.1:{ports.console}"
        signin = httpx.get(console + "/signin")
        assert signin.status_code == 200
        assert "Development sign-in" in signin.text
        answer = run_sample_query(up.stdout)
        assert "errors" not in answer, answer
        person = answer["data"]["person"]  # type: ignore[index]
        assert person["givenName"] == "Anna"
        assert person["consents"][0]["purpose"] == "newsletter"

        # Again on a whole platform: nothing to repair, the same answer.
        again = cli("up", env)
        assert again.returncode == 0, again.stderr
        assert "every part answers" in again.stdout
        assert printed(r"demo person ([0-9a-f-]+)", again.stdout) == printed(
            r"demo person ([0-9a-f-]+)", up.stdout
        )
    finally:
        down_and_check_nothing_is_left(env, tmp_path)

    # A restart keeps the data and does not load the demo a second time.
    restarted = cli("up", env)
    try:
        assert restarted.returncode == 0, restarted.stderr + restarted.stdout
        first_id = printed(r"demo person ([0-9a-f-]+)", up.stdout)
        assert printed(r"demo person ([0-9a-f-]+)", restarted.stdout) == first_id
        answer = run_sample_query(restarted.stdout)
        assert answer["data"]["person"]["id"] == first_id  # type: ignore[index]
    finally:
        down_and_check_nothing_is_left(env, tmp_path)
