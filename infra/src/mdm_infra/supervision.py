"""The platform's process supervisor: supervisord (PyPI ``supervisor``).

One supervisord per state directory runs every component as a program of its own.
It notices a program's exit at once (SIGCHLD) and starts it again
(``autorestart``); a program that keeps dying within ``startsecs`` is retried with a
growing delay and then given up (``FATAL``), which ``mdm_infra up`` repairs. The
platform starts the programs in dependency order through supervisord's XML-RPC
interface (a unix socket in the state directory, mode 0700) and waits for each to
answer: supervisord knows processes, not readiness. Why supervisord:
docs/decisions/0004-supervision.md.

What a killed supervisord left behind can still be found and stopped: its session
and ``MDM_PLATFORM_DIR=<state dir>`` in the environment mark a platform's processes
(:func:`leftover_pids`).
"""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import signal
import sys
import time
import xmlrpc.client
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from supervisor.xmlrpc import SupervisorTransport

from mdm_infra.process import ManagedProcess, StartupError, is_alive, log_tail, stat_fields

MARKER_ENV = "MDM_PLATFORM_DIR"
# A program that exits sooner than this after its start counts as a failed start.
START_SECONDS = 2
# Failed starts in a row (delays of 1, 2, 3 ... s) before supervisord gives up.
START_RETRIES = 10

# supervisord's fault codes (supervisor.xmlrpc.Faults) that are answers, not errors.
_ALREADY_STARTED = 60
_NOT_RUNNING = 70


@dataclass(frozen=True)
class Program:
    """One component as supervisord runs it."""

    name: str
    argv: Sequence[str]
    env: Mapping[str, str] = field(default_factory=dict)
    cwd: Path | None = None
    # Start order; supervisord stops programs in the reverse order.
    priority: int = 100
    # SIGTERM to the program's process group, SIGKILL after this long.
    stop_timeout_s: int = 15


@dataclass(frozen=True)
class ProgramInfo:
    state: str  # STOPPED, STARTING, RUNNING, BACKOFF, STOPPING, EXITED, FATAL, UNKNOWN
    pid: int  # 0 while no process runs


# supervisord's ini reader ends a value at a line break and at " ;" or " #" (an
# inline comment); such values cannot be written at all.
_UNWRITABLE = re.compile(r"[\r\n]|\s[;#]")


def _escaped(text: str) -> str:
    if _UNWRITABLE.search(text):
        raise ValueError(f"a supervised program's setting cannot hold {text!r}")
    # supervisord expands %(name)s in these values; a literal % is written %%.
    return text.replace("%", "%%")


def _env_value(name: str, value: str) -> str:
    # supervisord splits `environment` with a non-POSIX shlex and then strips quotes
    # off both ends: a double-quoted value may hold anything but a double quote, and
    # cannot begin or end with a single one.
    if '"' in value or value.startswith("'") or value.endswith("'"):
        raise ValueError(f"{name}: a supervised program's setting cannot hold {value!r}")
    return f'{name}="{_escaped(value)}"'


def render_config(programs: Iterable[Program], *, state_dir: Path, log_dir: Path) -> str:
    """supervisord's configuration for ``programs``; none starts by itself (the
    platform starts them in order), every one is restarted whenever it exits."""
    sections = [
        "[unix_http_server]",
        f"file={_escaped(str(state_dir / 'supervisor.sock'))}",
        "chmod=0700",
        "",
        "[supervisord]",
        f"logfile={_escaped(str(log_dir / 'supervisord.log'))}",
        "logfile_maxbytes=10MB",
        "logfile_backups=2",
        f"pidfile={_escaped(str(state_dir / 'supervisord.pid'))}",
        f"childlogdir={_escaped(str(log_dir))}",
        "nodaemon=true",
        # The user it already runs as (supervisord warns when none is named).
        f"user={os.getuid()}",
        "silent=true",
        f"environment={_env_value(MARKER_ENV, str(state_dir))}",
        "",
        # For people: `.venv/bin/supervisorctl -c <state dir>/supervisord.conf status`.
        "[supervisorctl]",
        f"serverurl=unix://{_escaped(str(state_dir / 'supervisor.sock'))}",
        "",
        "[rpcinterface:supervisor]",
        "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface",
    ]
    for program in programs:
        sections += [
            "",
            f"[program:{program.name}]",
            f"command={_escaped(shlex.join(program.argv))}",
            *([f"directory={_escaped(str(program.cwd))}"] if program.cwd else []),
            *(
                ["environment=" + ",".join(_env_value(k, v) for k, v in program.env.items())]
                if program.env
                else []
            ),
            f"priority={program.priority}",
            "autostart=false",
            "autorestart=true",
            f"startsecs={START_SECONDS}",
            f"startretries={START_RETRIES}",
            "stopsignal=TERM",
            f"stopwaitsecs={program.stop_timeout_s}",
            # The whole group: Celery's pool processes go with their worker.
            "stopasgroup=true",
            "killasgroup=true",
            "redirect_stderr=true",
            f"stdout_logfile={_escaped(str(log_dir / f'{program.name}.log'))}",
            "stdout_logfile_maxbytes=50MB",
            "stdout_logfile_backups=2",
        ]
    return "\n".join(sections) + "\n"


class Supervisor:
    """supervisord of one state directory: its configuration, daemon and XML-RPC API."""

    def __init__(self, state_dir: Path, log_dir: Path, *, python: str = sys.executable) -> None:
        self.state_dir = state_dir.resolve()
        self.log_dir = log_dir.resolve()
        self.python = python
        self._daemon: ManagedProcess | None = None

    @property
    def config_path(self) -> Path:
        return self.state_dir / "supervisord.conf"

    @property
    def socket_path(self) -> Path:
        return self.state_dir / "supervisor.sock"

    @property
    def pid_path(self) -> Path:
        return self.state_dir / "supervisord.pid"

    def write_config(self, programs: Iterable[Program]) -> None:
        """Write the configuration (0600: it holds the platform's secrets)."""
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        text = render_config(programs, state_dir=self.state_dir, log_dir=self.log_dir)
        fd = os.open(self.config_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(text)

    def api(self) -> Any:
        """supervisord's ``supervisor`` XML-RPC namespace (a new connection per use)."""
        transport = SupervisorTransport(None, None, f"unix://{self.socket_path}")
        return xmlrpc.client.ServerProxy("http://127.0.0.1", transport=transport).supervisor

    def is_running(self) -> bool:
        try:
            return bool(self.api().getState()["statename"] == "RUNNING")
        except (OSError, xmlrpc.client.Error):
            return False

    def start_daemon(self, *, timeout_s: float = 20) -> None:
        """Start supervisord in a session of its own (it outlives ``make run``)."""
        self._daemon = ManagedProcess(
            name="supervisord",
            argv=[self.python, "-m", "supervisor.supervisord", "-c", str(self.config_path)],
            log_path=self.log_dir / "supervisord.out",
            env={MARKER_ENV: str(self.state_dir)},
        )
        self._daemon.start()
        self._daemon.wait_ready(self.is_running, timeout_s=timeout_s)

    def reload(self) -> None:
        """Apply a rewritten configuration: changed programs are replaced (stopped)."""
        api = self.api()
        [[added, changed, removed]] = api.reloadConfig()
        for name in [*changed, *removed]:
            with contextlib.suppress(xmlrpc.client.Fault):
                api.stopProcessGroup(name, True)
            api.removeProcessGroup(name)
        for name in [*changed, *added]:
            api.addProcessGroup(name)

    def start(self, name: str) -> None:
        """Start a program (without waiting); one already running is left alone."""
        try:
            self.api().startProcess(name, False)
        except xmlrpc.client.Fault as fault:
            if fault.faultCode != _ALREADY_STARTED:
                raise

    def stop(self, name: str) -> None:
        """Stop a program and keep it stopped (no restart) until started again."""
        try:
            self.api().stopProcess(name, True)
        except xmlrpc.client.Fault as fault:
            if fault.faultCode != _NOT_RUNNING:
                raise

    def info(self, name: str) -> ProgramInfo:
        found = self.api().getProcessInfo(name)
        return ProgramInfo(state=found["statename"], pid=int(found["pid"]))

    def all_info(self) -> dict[str, ProgramInfo]:
        return {
            found["name"]: ProgramInfo(state=found["statename"], pid=int(found["pid"]))
            for found in self.api().getAllProcessInfo()
        }

    def shutdown(self, *, timeout_s: float = 120) -> None:
        """Stop every program (in reverse start order) and supervisord itself; then
        stop whatever a killed supervisord may have left behind."""
        daemon_pid = _read_pid(self.pid_path)
        with contextlib.suppress(OSError, xmlrpc.client.Error):
            self.api().shutdown()
        deadline = time.monotonic() + timeout_s
        while daemon_pid and is_alive(daemon_pid) and time.monotonic() < deadline:
            if self._daemon is not None and self._daemon.popen is not None:
                self._daemon.popen.poll()  # reap our own child
            time.sleep(0.1)
        if self._daemon is not None:
            self._daemon.stop(timeout_s=5)
            self._daemon = None
        stop_leftovers(self.state_dir)
        for path in (self.pid_path, self.socket_path):
            path.unlink(missing_ok=True)


def _read_pid(path: Path) -> int:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return 0


def leftover_pids(state_dir: Path) -> list[int]:
    """Processes of the platform of ``state_dir``, this process excepted: those with
    its marker in their environment, and those in the session of its supervisord
    (the pid it recorded), which also finds programs that overwrite their
    environment's memory with a process title, as Valkey does. No new process gets
    that number while the session has members."""
    marker = f"{MARKER_ENV}={state_dir.resolve()}".encode()
    session = str(_read_pid(state_dir.resolve() / "supervisord.pid") or "")
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            in_session = stat_fields(entry.name)[3] == session
            environ = b"" if in_session else (entry / "environ").read_bytes()
        except (OSError, IndexError):
            continue
        if (in_session or marker in environ.split(b"\0")) and is_alive(int(entry.name)):
            found.append(int(entry.name))
    return found


def stop_leftovers(state_dir: Path, *, timeout_s: float = 30) -> list[int]:
    """SIGTERM the platform's remaining processes, SIGKILL them after ``timeout_s``;
    return their pids."""
    pids = leftover_pids(state_dir)
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    while any(is_alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    for pid in pids:
        if is_alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    return pids


def wait_until(
    supervisor: Supervisor,
    name: str,
    check: Callable[[], bool],
    *,
    timeout_s: float,
    log_path: Path,
) -> None:
    """Poll ``check`` until it answers True; fail early when supervisord gave up."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        state = supervisor.info(name).state
        if state == "FATAL":
            raise StartupError(
                f"{name} kept exiting during start-up and was given up; "
                f"log {log_path}:\n{log_tail(log_path)}"
            )
        if state in {"RUNNING", "STARTING"}:
            with contextlib.suppress(Exception):
                if check():
                    return
        time.sleep(0.2)
    raise StartupError(
        f"{name} did not become ready within {timeout_s:.0f} s; "
        f"log {log_path}:\n{log_tail(log_path)}"
    )
