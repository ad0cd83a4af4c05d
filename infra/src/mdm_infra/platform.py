"""The whole embedded platform: graph server, broker, four subgraphs, workers, gateway,
console, each a program of one supervisord (:mod:`mdm_infra.supervision`).

Used by ``make run`` / ``make stop`` (through :mod:`mdm_infra.cli`) and by the test
suite (through :mod:`mdm_infra.testing`, on free ports and a temporary directory).
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from mdm_infra.components import (
    APPLICATION,
    BACKING_SERVERS,
    COMPONENTS,
    WORKER_QUEUES,
    WORKERS,
    WORKERS_WITH_BEAT,
    programs,
    readiness,
)
from mdm_infra.config import (
    CONSOLE_TOKEN_ISSUER,
    GATEWAY_DIR,
    PROJECT_ROOT,
    SERVICES,
    PlatformConfig,
    Ports,
    Secrets,
    asgi_server,
    load_dev_config,
)
from mdm_infra.process import children_of
from mdm_infra.supervision import ProgramInfo, Supervisor, stop_leftovers, wait_until

__all__ = [
    "APPLICATION",
    "BACKING_SERVERS",
    "COMPONENTS",
    "CONSOLE_TOKEN_ISSUER",
    "GATEWAY_DIR",
    "PROJECT_ROOT",
    "SERVICES",
    "WORKERS",
    "WORKERS_WITH_BEAT",
    "WORKER_QUEUES",
    "Platform",
    "PlatformConfig",
    "Ports",
    "Secrets",
    "SupervisedProcess",
    "asgi_server",
    "load_dev_config",
]


@dataclass
class SupervisedProcess:
    """A started component; its pid is asked of supervisord each time (a restart
    gives it a new one)."""

    name: str
    supervisor: Supervisor
    log_path: Path

    @property
    def info(self) -> ProgramInfo:
        return self.supervisor.info(self.name)

    @property
    def pid(self) -> int:
        return self.info.pid

    def children(self) -> list[int]:
        """Pids of the processes this one started (e.g. Celery's pool processes)."""
        return children_of(self.pid)


@dataclass
class Platform:
    """Starts every part, waits until each answers, stops all of them; and, for fault
    tests, stops, pauses or kills single parts (see :mod:`mdm_infra.testing`)."""

    config: PlatformConfig
    # A worker's own settings (by service), set by start_worker(env=...).
    worker_env: dict[str, dict[str, str]] = field(default_factory=dict)

    @cached_property
    def supervisor(self) -> Supervisor:
        return Supervisor(self.config.state_dir, self.config.log_dir, python=self.config.python)

    @classmethod
    def running(cls, state_dir: Path) -> Platform | None:
        """The platform last started in ``state_dir`` and not stopped since, whatever
        state its parts are in; None if there is none."""
        config = PlatformConfig.load_running(state_dir)
        return None if config is None else cls(config)

    @property
    def processes(self) -> dict[str, SupervisedProcess]:
        """The components started and not stopped since, as supervisord sees them now
        (whoever started them: this object, ``make run`` or a repair)."""
        if not self.supervisor.is_running():
            return {}
        states = self.supervisor.all_info()
        return {
            name: SupervisedProcess(name, self.supervisor, self.config.log_dir / f"{name}.log")
            for name in COMPONENTS
            if name in states and states[name].state != "STOPPED"
        }

    # --- starting ---------------------------------------------------------------

    def _ensure_supervisor(self) -> None:
        if self.supervisor.is_running():
            return
        # A supervisord that died leaves its programs running unsupervised: stop them
        # (they hold the ports) and start over under a new one.
        stop_leftovers(self.config.state_dir)
        self.supervisor.write_config(programs(self.config, worker_env=self.worker_env))
        self.config.save()
        self.supervisor.start_daemon()

    def _launch(self, names: tuple[str, ...] | list[str]) -> None:
        self._ensure_supervisor()
        for name in names:
            self.supervisor.start(name)

    def wait_ready(self, *names: str, timeout_s: float = 90) -> None:
        """Wait until each of ``names`` (default: all started) answers."""
        for name in names or tuple(self.processes):
            wait_until(
                self.supervisor,
                name,
                readiness(self.config, name),
                timeout_s=timeout_s,
                log_path=self.config.log_dir / f"{name}.log",
            )

    def start_backing_servers(self, *, timeout_s: float = 90) -> None:
        self._launch(BACKING_SERVERS)
        self.wait_ready(*BACKING_SERVERS, timeout_s=timeout_s)

    def start_application(self, *, timeout_s: float = 120) -> None:
        self._launch(APPLICATION)
        self.wait_ready(*APPLICATION, timeout_s=timeout_s)

    def start(self, *names: str, timeout_s: float = 90) -> None:
        """Start the whole platform (no ``names``), or start the named components
        again (after :meth:`stop` of them) and wait until they answer."""
        if names:
            self._launch(list(names))
            self.wait_ready(*names, timeout_s=timeout_s)
            return
        try:
            self.start_backing_servers()
            self.start_application()
        except BaseException:
            self.stop()
            raise

    def repair(self, *, timeout_s: float = 90) -> list[str]:
        """Bring a half-dead platform back whole; return the components (re)started.

        With supervisord alive, components it stopped, gave up on or never started
        are started. Without it, its orphaned programs are stopped and everything
        starts again under a new supervisord.
        """
        if not self.supervisor.is_running():
            self.start()
            return list(COMPONENTS)
        states = self.supervisor.all_info()
        idle = [n for n in COMPONENTS if states[n].state in {"STOPPED", "EXITED", "FATAL"}]
        self._launch(idle)
        self.wait_ready(*COMPONENTS, timeout_s=timeout_s)
        return idle

    # --- single components, for operations and fault tests -------------------------

    def status(self) -> dict[str, str]:
        """Each component's supervisor state (RUNNING, STARTING, BACKOFF, STOPPED, ...)."""
        return {name: info.state for name, info in self.supervisor.all_info().items()}

    def _pid(self, name: str) -> int:
        pid = self.supervisor.info(name).pid
        if not pid:
            raise RuntimeError(f"{name} has no running process")
        return pid

    def kill(self, name: str, sig: signal.Signals = signal.SIGKILL) -> int:
        """Send ``sig`` (default: SIGKILL, a crash) to a component's main process;
        supervisord notices the exit and starts it again. Returns the killed pid."""
        pid = self._pid(name)
        os.kill(pid, sig)
        return pid

    def pause(self, name: str) -> None:
        """SIGSTOP a component's whole process group: it holds its connections and
        answers nothing (a stalled server), and supervisord does not restart it."""
        os.killpg(self._pid(name), signal.SIGSTOP)

    def resume(self, name: str) -> None:
        """SIGCONT after :meth:`pause`."""
        os.killpg(self._pid(name), signal.SIGCONT)

    def stop(self, *names: str) -> None:
        """Stop the whole platform (no ``names``), or stop the named components and
        keep them stopped (no restart) until :meth:`start` of them."""
        if names:
            for name in names:
                self.supervisor.stop(name)
            return
        # supervisord stops its programs in the reverse start order: console and
        # gateway first, the graph server last.
        self.supervisor.shutdown()
        self.config.forget_running()

    @contextlib.contextmanager
    def stopped(self, *names: str, timeout_s: float = 90) -> Iterator[None]:
        """``names`` stopped while the block runs, started again (and answering) after."""
        self.stop(*names)
        try:
            yield
        finally:
            self.start(*names, timeout_s=timeout_s)

    @contextlib.contextmanager
    def paused(self, *names: str) -> Iterator[None]:
        """``names`` stalled (SIGSTOP) while the block runs, resumed after."""
        for name in names:
            self.pause(name)
        try:
            yield
        finally:
            for name in names:
                self.resume(name)

    # --- workers ------------------------------------------------------------------

    def stop_worker(self, service: str) -> None:
        """Stop a service's worker (and its pool processes); its queue keeps filling."""
        self.stop(f"{service}-worker")

    def start_worker(
        self, service: str, *, env: dict[str, str] | None = None, timeout_s: float = 60
    ) -> None:
        """Start a service's worker again (``env``: settings of its own, kept until the
        next start_worker) and wait until it answers."""
        self._ensure_supervisor()
        if (env or {}) != self.worker_env.get(service, {}):
            self.worker_env[service] = dict(env or {})
            self.supervisor.write_config(programs(self.config, worker_env=self.worker_env))
            self.supervisor.reload()
        self.start(f"{service}-worker", timeout_s=timeout_s)
