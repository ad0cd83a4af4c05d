"""The whole embedded platform: graph server, broker, three subgraphs, workers, gateway.

Used by ``make run`` / ``make stop`` (through :mod:`mdm_infra.cli`) and by the test
suite (through :mod:`mdm_infra.testing`, on free ports and a temporary directory).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path

import httpx

from mdm_infra import broker, graphdb
from mdm_infra.ports import free_port
from mdm_infra.process import ManagedProcess, StartupError, stop_process_group

PROJECT_ROOT = Path(__file__).resolve().parents[3]
GATEWAY_DIR = PROJECT_ROOT / "gateway"
SERVICES = ("profile", "matching", "consent")
WORKER_QUEUES = {"matching": "matching", "consent": "consent"}
# Workers that also run Celery beat (scheduled tasks: consent's daily retention job).
# One process per platform, so the schedule fires once.
WORKERS_WITH_BEAT = ("consent",)


def asgi_server(python: str, factory: str, port: int) -> list[str]:
    """The command line of one of the project's ASGI apps on 127.0.0.1 (uvicorn)."""
    return [
        python,
        "-m",
        "uvicorn",
        factory,
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--no-access-log",
        "--log-level",
        "warning",
    ]


@dataclass(frozen=True)
class Ports:
    gateway: int = 4000
    profile: int = 8101
    matching: int = 8102
    consent: int = 8103
    bolt: int = 7687
    graph_http: int = 2480
    broker: int = 6379
    console: int = 4100

    @classmethod
    def free(cls) -> Ports:
        return cls(**{name: free_port() for name in cls.__dataclass_fields__})

    @classmethod
    def from_env(cls) -> Ports:
        """Defaults, each overridable by ``MDM_<NAME>_PORT``."""
        defaults = cls()
        return cls(
            **{
                name: int(os.environ.get(f"MDM_{name.upper()}_PORT", getattr(defaults, name)))
                for name in cls.__dataclass_fields__
            }
        )


@dataclass(frozen=True)
class Secrets:
    jwt: str
    gateway: str
    graph_password: str

    @classmethod
    def generate(cls) -> Secrets:
        return cls(
            jwt=secrets.token_urlsafe(32),
            gateway=secrets.token_urlsafe(32),
            graph_password=secrets.token_urlsafe(16),
        )


@dataclass(frozen=True)
class PlatformConfig:
    state_dir: Path
    ports: Ports
    secrets: Secrets
    otlp_endpoint: str | None = None
    python: str = sys.executable
    graph_heap: str = "1g"
    # After how long a killed worker's unacknowledged messages are delivered again.
    broker_visibility_timeout_s: int = 300

    @property
    def gateway_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.gateway}/graphql"

    @property
    def console_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.console}"

    @property
    def log_dir(self) -> Path:
        return self.state_dir / "logs"

    @property
    def graph(self) -> graphdb.GraphServerConfig:
        return graphdb.GraphServerConfig(
            data_dir=self.state_dir / "data" / "graph",
            bolt_port=self.ports.bolt,
            http_port=self.ports.graph_http,
            databases=SERVICES,
            heap=self.graph_heap,
        )

    @property
    def broker(self) -> broker.BrokerConfig:
        return broker.BrokerConfig(
            data_dir=self.state_dir / "data" / "broker", port=self.ports.broker
        )

    def service_url(self, name: str) -> str:
        return f"http://127.0.0.1:{getattr(self.ports, name)}"

    def _otel_env(self, service_name: str) -> dict[str, str]:
        if not self.otlp_endpoint:
            return {}
        return {
            "OTEL_EXPORTER_OTLP_ENDPOINT": self.otlp_endpoint,
            "OTEL_SERVICE_NAME": service_name,
            # Short export delay so traces appear while someone is looking.
            "OTEL_BSP_SCHEDULE_DELAY": "200",
        }

    def service_env(self, name: str) -> dict[str, str]:
        prefix = name.upper() + "_"
        values = {
            "GRAPH_URI": self.graph.bolt_uri,
            "GRAPH_USER": "root",
            "GRAPH_PASSWORD": self.secrets.graph_password,
            "GRAPH_DATABASE": name,
            "BROKER_URL": self.broker.url,
            "BROKER_VISIBILITY_TIMEOUT_S": str(self.broker_visibility_timeout_s),
            "GATEWAY_SECRET": self.secrets.gateway,
            # Services that call another one directly (matching, consent -> profile).
            "PROFILE_URL": self.service_url("profile") + "/graphql",
            # consent -> matching, for data-subject requests.
            "MATCHING_URL": self.service_url("matching") + "/graphql",
        }
        return {prefix + k: v for k, v in values.items()} | self._otel_env(name)

    def console_env(self) -> dict[str, str]:
        # The platform runs on its own generated secrets: the development sign-in
        # is on. Production runs the console with an identity provider instead.
        return {
            "CONSOLE_GATEWAY_URL": self.gateway_url,
            "CONSOLE_JWT_SECRET": self.secrets.jwt,
            "CONSOLE_DEV_SIGNIN": "true",
            "CONSOLE_PUBLIC_URL": self.console_url,
        } | self._otel_env("console")

    def gateway_env(self) -> dict[str, str]:
        return {
            "MDM_GATEWAY_PORT": str(self.ports.gateway),
            "MDM_JWT_SECRET": self.secrets.jwt,
            "MDM_GATEWAY_SECRET": self.secrets.gateway,
            **{f"MDM_{n.upper()}_URL": self.service_url(n) + "/graphql" for n in SERVICES},
        } | self._otel_env("gateway")


@dataclass
class Platform:
    """Starts every part, waits until each answers, stops all of them."""

    config: PlatformConfig
    processes: dict[str, ManagedProcess] = field(default_factory=dict)

    def _spawn(self, name: str, argv: list[str], env: dict[str, str] | None = None,
               cwd: Path | None = None) -> ManagedProcess:  # fmt: skip
        self.config.state_dir.mkdir(parents=True, exist_ok=True)
        proc = ManagedProcess(
            name=name, argv=argv, env=env or {}, cwd=cwd,
            log_path=self.config.log_dir / f"{name}.log",
        )  # fmt: skip
        proc.start()
        self.processes[name] = proc
        self._save_state()
        return proc

    def start_backing_servers(self, *, timeout_s: float = 90) -> None:
        cfg = self.config
        graph = self._spawn(
            "graph", cfg.graph.argv(cfg.python),
            env={graphdb.PASSWORD_ENV: cfg.secrets.graph_password},
            # ArcadeDB writes its own log/ folder into the working directory.
            cwd=cfg.state_dir,
        )  # fmt: skip
        valkey = self._spawn("broker", cfg.broker.argv())
        valkey.wait_ready(lambda: broker.is_ready(cfg.broker), timeout_s=timeout_s)
        graph.wait_ready(
            lambda: graphdb.is_ready(cfg.graph, cfg.secrets.graph_password), timeout_s=timeout_s
        )

    def start_application(self, *, timeout_s: float = 60) -> None:
        cfg = self.config
        node = shutil.which("node")
        if node is None:
            raise StartupError("Node.js is needed for the gateway but `node` is not on PATH.")
        for name in SERVICES:
            self._spawn(
                name,
                asgi_server(cfg.python, f"mdm_{name}.app:create_app", getattr(cfg.ports, name)),
                env=cfg.service_env(name),
            )
        for service in WORKER_QUEUES:
            self._spawn_worker(service)
        gateway = self._spawn(
            "gateway", [node, "src/server.mjs"], env=cfg.gateway_env(), cwd=GATEWAY_DIR
        )
        console = self._spawn(
            "console",
            asgi_server(cfg.python, "mdm_console.app:create_app", cfg.ports.console),
            env=cfg.console_env(),
        )
        with httpx.Client(timeout=2) as client:

            def answers(url: str) -> Callable[[], bool]:
                return lambda: client.get(url).status_code == 200

            for name in SERVICES:
                self.processes[name].wait_ready(
                    answers(self.config.service_url(name) + "/readyz"), timeout_s=timeout_s
                )
            gateway.wait_ready(
                answers(f"http://127.0.0.1:{cfg.ports.gateway}/readiness"), timeout_s=timeout_s
            )
            console.wait_ready(answers(cfg.console_url + "/healthz"), timeout_s=timeout_s)
        for service in WORKER_QUEUES:
            self.processes[f"{service}-worker"].wait_ready(
                partial(self._worker_answers, service), timeout_s=timeout_s
            )

    def _spawn_worker(self, service: str, env: dict[str, str] | None = None) -> ManagedProcess:
        cfg = self.config
        beat = (["--beat", "--schedule", str(cfg.state_dir / f"{service}-beat-schedule")]
                if service in WORKERS_WITH_BEAT else [])  # fmt: skip
        return self._spawn(
            f"{service}-worker",
            [cfg.python, "-m", "celery", "-A", f"mdm_{service}.tasks", "worker",
             "-Q", WORKER_QUEUES[service], "-n", f"{service}@%h", "--concurrency", "1",
             "--loglevel", "INFO", "--without-gossip", "--without-mingle", *beat],
            env=cfg.service_env(service) | (env or {}),
        )  # fmt: skip

    def stop_worker(self, service: str) -> None:
        """Stop a service's worker (and its pool processes); its queue keeps filling."""
        proc = self.processes.pop(f"{service}-worker", None)
        if proc is not None:
            proc.stop()
        self._save_state()

    def start_worker(
        self, service: str, *, env: dict[str, str] | None = None, timeout_s: float = 60
    ) -> None:
        """Start a service's worker again (``env``: settings of its own) and wait until
        it answers."""
        self._spawn_worker(service, env).wait_ready(
            partial(self._worker_answers, service), timeout_s=timeout_s
        )

    def _worker_answers(self, service: str) -> bool:
        from mdm_common.events import make_celery  # noqa: PLC0415 - Celery only when a worker runs

        app = make_celery("probe", self.config.broker.url)
        try:
            replies = app.control.ping(timeout=0.5)
        finally:
            app.close()
        return any(name.startswith(f"{service}@") for reply in replies for name in reply)

    def start(self) -> None:
        try:
            self.start_backing_servers()
            self.start_application()
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        # Gateway and services first, the servers they depend on last.
        workers = [n for n in self.processes if n.endswith("-worker")]
        order = ["console", "gateway", *workers, *SERVICES, "broker", "graph"]
        for name in order:
            proc = self.processes.pop(name, None)
            if proc is not None:
                proc.stop()
        self._state_path.unlink(missing_ok=True)

    # --- state on disk, so `make stop` can stop what `make run` started ----------

    @property
    def _state_path(self) -> Path:
        return self.config.state_dir / "pids.json"

    def _save_state(self) -> None:
        self.config.state_dir.mkdir(parents=True, exist_ok=True)
        pids = {name: proc.pid for name, proc in self.processes.items()}
        self._state_path.write_text(json.dumps(pids, indent=2))


def stop_recorded(state_dir: Path) -> list[str]:
    """Stop the processes a previous ``up`` recorded; return their names."""
    path = state_dir / "pids.json"
    if not path.exists():
        return []
    pids: dict[str, int] = json.loads(path.read_text())
    order = [
        "console",
        "gateway",
        *[n for n in pids if n.endswith("-worker")],
        *SERVICES,
        "broker",
        "graph",
    ]
    stopped = []
    for name in order:
        if name in pids:
            stop_process_group(pids[name])
            stopped.append(name)
    path.unlink(missing_ok=True)  # the platform itself may have removed it meanwhile
    return stopped


def load_dev_config(state_dir: Path) -> PlatformConfig:
    """The `make run` configuration: ports from the environment, secrets kept on disk."""
    secrets_path = state_dir / "dev-secrets.json"
    if secrets_path.exists():
        dev_secrets = Secrets(**json.loads(secrets_path.read_text()))
    else:
        dev_secrets = Secrets.generate()
        state_dir.mkdir(parents=True, exist_ok=True)
        secrets_path.write_text(json.dumps(asdict(dev_secrets)))
        secrets_path.chmod(0o600)
    return PlatformConfig(
        state_dir=state_dir,
        ports=Ports.from_env(),
        secrets=dev_secrets,
        otlp_endpoint=os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or None,
    )
