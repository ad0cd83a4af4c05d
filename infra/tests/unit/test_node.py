"""The gateway runs on the project's own Node.js from PyPI, not on the machine's."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from mdm_infra import node
from mdm_infra.config import GATEWAY_DIR


def version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.strip().lstrip("v").split("."))


def test_node_is_the_pinned_22_lts_that_the_gateways_packages_ask_for() -> None:
    out = subprocess.run(node.command("node", "--version"), capture_output=True, text=True)
    assert out.returncode == 0
    assert (22, 15) <= version(out.stdout)[:2] < (23, 0)
    assert Path(node.executable()).is_relative_to(Path(sys.prefix))


def test_npm_and_its_scripts_find_the_same_node() -> None:
    # npm runs package scripts through a shell with PATH: `node` there must be ours.
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "mdm_infra.node",
            "npm",
            "exec",
            "--offline",
            "--",
            "node",
            "-p",
            "process.execPath",
        ],
        capture_output=True,
        text=True,
        cwd=GATEWAY_DIR,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert Path(out.stdout.strip()).resolve() == Path(node.executable()).resolve()


def test_an_unknown_program_is_refused() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "mdm_infra.node", "python"], capture_output=True, text=True
    )
    assert out.returncode == 2
    assert "usage" in out.stderr
