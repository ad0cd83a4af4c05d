"""Launchers report a clear error when a server does not come up, and stop cleanly."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from mdm_infra.process import ManagedProcess, StartupError, is_alive


def python(code: str, tmp_path: Path, name: str = "probe") -> ManagedProcess:
    return ManagedProcess(name=name, argv=[sys.executable, "-c", code], log_path=tmp_path / "p.log")


def test_a_process_that_exits_during_start_up_is_reported_with_its_log(tmp_path: Path) -> None:
    proc = python("import sys; print('port already in use'); sys.exit(3)", tmp_path, "graph")
    proc.start()
    with pytest.raises(StartupError, match=r"graph exited with code 3") as raised:
        proc.wait_ready(lambda: False, timeout_s=10)
    assert "port already in use" in str(raised.value)


def test_a_server_that_never_answers_times_out(tmp_path: Path) -> None:
    proc = python("import time; time.sleep(30)", tmp_path, "broker")
    proc.start()
    try:
        with pytest.raises(StartupError, match=r"broker did not become ready within 1 s"):
            proc.wait_ready(lambda: False, timeout_s=1)
    finally:
        proc.stop()


def test_stop_ends_the_whole_process_group(tmp_path: Path) -> None:
    # A parent with a child, like Celery's prefork pool.
    code = (
        "import subprocess, sys, time;"
        "c = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']);"
        "print(c.pid, flush=True); time.sleep(60)"
    )
    proc = python(code, tmp_path)
    proc.start()
    log = tmp_path / "p.log"
    proc.wait_ready(lambda: log.read_text().strip().isdigit(), timeout_s=10)
    child = int(log.read_text().strip())

    proc.stop(timeout_s=5)

    assert not is_alive(proc.pid)
    assert not is_alive(child)


def test_stop_escalates_when_sigterm_is_ignored(tmp_path: Path) -> None:
    code = (
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN);"
        "print('up', flush=True); time.sleep(60)"
    )
    proc = python(code, tmp_path)
    proc.start()
    proc.wait_ready(lambda: "up" in (tmp_path / "p.log").read_text(), timeout_s=10)
    proc.stop(timeout_s=1)
    assert not is_alive(proc.pid)
