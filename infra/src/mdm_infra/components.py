"""The platform's components: how supervisord runs each, and how each says it is ready."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace

import httpx

from mdm_infra import broker, graphdb, node
from mdm_infra.config import GATEWAY_DIR, SERVICES, PlatformConfig, asgi_server
from mdm_infra.process import StartupError
from mdm_infra.supervision import Program

WORKER_QUEUES = {"matching": "matching", "consent": "consent", "distribution": "distribution"}
# Workers that also run Celery beat (scheduled tasks: consent's daily retention job).
# One process per platform, so the schedule fires once.
WORKERS_WITH_BEAT = ("consent",)
WORKERS = tuple(f"{service}-worker" for service in WORKER_QUEUES)

BACKING_SERVERS = ("graph", "broker")
APPLICATION = (*SERVICES, *WORKERS, "gateway", "console")
# Start order; supervisord stops them in the reverse order.
COMPONENTS = (*BACKING_SERVERS, *APPLICATION)


def worker_argv(config: PlatformConfig, service: str, *, node: str | None = None) -> list[str]:
    """The command of a service's worker; ``node``: the name of one more worker of the
    same queue (any number may run, on any host: they share nothing but the broker and
    the graph), which never runs beat (the schedule must fire once)."""
    beat = ["--beat", "--schedule", str(config.state_dir / f"{service}-beat-schedule")]
    return [
        config.python,
        *f"-m celery -A mdm_{service}.tasks worker -Q {WORKER_QUEUES[service]}"
        f" -n {node or service}@%h"
        " --concurrency 1 --loglevel INFO --without-gossip --without-mingle".split(),
        *(beat if service in WORKERS_WITH_BEAT and node is None else []),
    ]


def programs(
    config: PlatformConfig, *, worker_env: Mapping[str, Mapping[str, str]] | None = None
) -> list[Program]:
    """Every component as a supervised program; ``worker_env``: a worker's own
    settings (by service), on top of the service's."""
    try:
        node_executable = node.executable()
    except node.NodeMissing as exc:
        raise StartupError(str(exc)) from exc
    worker_env = worker_env or {}
    found = [
        Program(
            "graph",
            config.graph.argv(config.python),
            env={graphdb.PASSWORD_ENV: config.secrets.graph_password},
            # ArcadeDB writes its own log/ folder into the working directory.
            cwd=config.state_dir,
            # A clean stop flushes the databases; give the JVM time for it.
            stop_timeout_s=30,
        ),
        Program("broker", config.broker.argv()),
        *(
            Program(
                name,
                asgi_server(
                    config.python, f"mdm_{name}.app:create_app", getattr(config.ports, name)
                ),
                env=config.service_env(name),
            )
            for name in SERVICES
        ),
        *(
            Program(
                f"{service}-worker",
                worker_argv(config, service),
                env=config.service_env(service) | dict(worker_env.get(service, {})),
            )
            for service in WORKER_QUEUES
        ),
        Program(
            "gateway",
            [node_executable, "src/server.mjs"],
            env=config.gateway_env(),
            cwd=GATEWAY_DIR,
        ),
        Program(
            "console",
            asgi_server(config.python, "mdm_console.app:create_app", config.ports.console),
            env=config.console_env(),
        ),
    ]
    # Start order; supervisord stops them in the reverse order.
    return [replace(p, priority=10 * (COMPONENTS.index(p.name) + 1)) for p in found]


def _answers(url: str) -> bool:
    return httpx.get(url, timeout=2).status_code == 200


def worker_answers(config: PlatformConfig, node: str) -> bool:
    """True once a Celery worker named ``node@...`` answers a ping through the broker."""
    from mdm_common.events import make_celery  # noqa: PLC0415 - Celery only when a worker runs

    app = make_celery("probe", config.broker.url)
    try:
        replies = app.control.ping(timeout=0.5)
    finally:
        app.close()
    return any(name.startswith(f"{node}@") for reply in replies for name in reply)


def readiness(config: PlatformConfig, name: str) -> Callable[[], bool]:
    """A check that answers True once component ``name`` serves (it may raise before)."""
    if name == "graph":
        return lambda: graphdb.is_ready(config.graph, config.secrets.graph_password)
    if name == "broker":
        return lambda: broker.is_ready(config.broker)
    if name in SERVICES:
        return lambda: _answers(config.service_url(name) + "/readyz")
    if name in WORKERS:
        service = name.removesuffix("-worker")
        return lambda: worker_answers(config, service)
    if name == "gateway":
        return lambda: _answers(f"http://127.0.0.1:{config.ports.gateway}/readiness")
    if name == "console":
        return lambda: _answers(config.console_url + "/readyz")
    raise ValueError(f"no component {name!r}")
