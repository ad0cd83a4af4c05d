"""supervisord as the platform drives it, on small programs of its own: a program that
dies is started again, a stopped one stays stopped, nothing outlives a shutdown."""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from mdm_infra.process import is_alive
from mdm_infra.supervision import Program, Supervisor, leftover_pids, stop_leftovers

SLEEPER = [sys.executable, "-c", "import time; print('up', flush=True); time.sleep(600)"]
# A program whose environment shows no marker, as Valkey's, whose process title
# overwrites the memory that /proc/<pid>/environ shows.
UNMARKED = ["/usr/bin/env", "-i", *SLEEPER]


def new_pid(supervisor: Supervisor, name: str, old: int, timeout_s: float = 10) -> int:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        info = supervisor.info(name)
        if info.pid and info.pid != old:
            return info.pid
        time.sleep(0.05)
    raise AssertionError(f"{name} was not started again: {supervisor.info(name)}")


@pytest.fixture
def supervisor(tmp_path: Path) -> Iterator[Supervisor]:
    supervisor = Supervisor(tmp_path, tmp_path / "logs")
    supervisor.write_config(
        [Program("sleeper", SLEEPER), Program("other", SLEEPER), Program("unmarked", UNMARKED)]
    )
    supervisor.start_daemon()
    yield supervisor
    supervisor.shutdown(timeout_s=20)


class TestADeadProgram:
    def test_is_started_again_at_once(self, supervisor: Supervisor) -> None:
        supervisor.start("sleeper")
        first = new_pid(supervisor, "sleeper", 0)
        killed_at = time.monotonic()
        os.kill(first, signal.SIGKILL)

        second = new_pid(supervisor, "sleeper", first)

        assert time.monotonic() - killed_at < 3
        assert is_alive(second)
        log = (supervisor.log_dir / "supervisord.log").read_text()
        assert "exited: sleeper (terminated by SIGKILL; not expected)" in log

    def test_stays_stopped_when_it_was_stopped(self, supervisor: Supervisor) -> None:
        supervisor.start("sleeper")
        pid = new_pid(supervisor, "sleeper", 0)
        supervisor.stop("sleeper")
        time.sleep(1.5)  # more than supervisord's loop takes to restart anything
        assert supervisor.info("sleeper").state == "STOPPED"
        assert not is_alive(pid)


class TestShutdown:
    def test_leaves_no_process_of_the_platform(self, supervisor: Supervisor) -> None:
        for name in ("sleeper", "other"):
            supervisor.start(name)
        pids = [new_pid(supervisor, name, 0) for name in ("sleeper", "other")]
        assert set(pids) <= set(leftover_pids(supervisor.state_dir))

        supervisor.shutdown(timeout_s=20)

        assert not supervisor.is_running()
        assert leftover_pids(supervisor.state_dir) == []

    def test_after_a_killed_supervisor_finds_and_stops_its_orphans(
        self, supervisor: Supervisor
    ) -> None:
        names = ("sleeper", "unmarked")
        for name in names:
            supervisor.start(name)
        orphans = [new_pid(supervisor, name, 0) for name in names]
        # Once they wrote their line: a program that writes after supervisord died
        # meets a closed pipe.
        for name in names:
            log = supervisor.log_dir / f"{name}.log"
            deadline = time.monotonic() + 10
            while "up" not in log.read_text() and time.monotonic() < deadline:
                time.sleep(0.05)
        daemon = int(supervisor.pid_path.read_text())
        os.kill(daemon, signal.SIGKILL)
        deadline = time.monotonic() + 5
        while is_alive(daemon) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert all(is_alive(pid) for pid in orphans)  # nobody watches them any more
        assert set(orphans) <= set(leftover_pids(supervisor.state_dir))

        assert set(orphans) <= set(stop_leftovers(supervisor.state_dir, timeout_s=5))

        assert not any(is_alive(pid) for pid in orphans)
