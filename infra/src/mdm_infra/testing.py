"""pytest plugin (loaded with ``-p mdm_infra.testing``): real servers as fixtures.

Everything runs on free loopback ports in a temporary directory, so a test run never
touches a running ``make run``. Servers start on first use and stop at session end.
Like ``make run``, the test platform runs every component under its own supervisord
(:mod:`mdm_infra.supervision`): a component that dies is started again.

Fault tests work on single components of the session's platform (the ``platform``
fixture). Names: ``graph``, ``broker``, ``profile``, ``matching``, ``consent``,
``matching-worker``, ``consent-worker``, ``gateway``, ``console``.

- ``platform.stop("broker")`` ... ``platform.start("broker")``: stopped and kept
  stopped (the supervisor does not restart it), then started again; ``start``
  returns once it answers. As a block: ``with platform.stopped("broker"): ...``.
- ``platform.pause("graph")`` ... ``platform.resume("graph")``: SIGSTOP / SIGCONT of
  its whole process group, a stalled server (connections stay open, nothing
  answers; the supervisor sees nothing wrong). As a block: ``with
  platform.paused("graph"): ...``.
- ``platform.kill("gateway")``: SIGKILL of its main process, a crash; the supervisor
  starts it again at once. ``platform.wait_ready("gateway")`` returns once it
  answers again (every started component without names).
- ``platform.status()``: each component's supervisor state (``RUNNING``,
  ``STARTING``, ``BACKOFF``, ``STOPPED``, ``FATAL``); ``platform.processes[name].pid``
  its current pid and ``.children()`` its child processes (Celery's pool).
- ``platform.stop_worker("matching")`` / ``platform.start_worker("matching",
  env={...})``: a worker stopped while its queue fills, started with settings of its
  own.

The platform is shared by the whole session: a test that stops or pauses a part
starts or resumes it before it ends (the ``stopped`` and ``paused`` blocks do);
``platform.repair()`` (what ``make run`` does on a running platform) brings back
whatever a failed test left stopped or dead.
"""

from __future__ import annotations

import os
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

from mdm_common.graph import GraphClient
from mdm_infra import tokens
from mdm_infra.client import GatewayClient
from mdm_infra.otlp import OtlpReceiver
from mdm_infra.platform import Platform, PlatformConfig, Ports, Secrets

ALL_ROLES = ("app", "steward", "compliance")

# No per-example deadline: the shared machines are too noisy for timing. In CI the
# examples are derived from the test itself, so a run is reproducible; developers'
# runs keep exploring new examples.
settings.register_profile("dev", deadline=None)
settings.register_profile("ci", deadline=None, derandomize=True)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


@pytest.fixture(scope="session")
def otlp_receiver() -> Iterator[OtlpReceiver]:
    receiver = OtlpReceiver()
    receiver.start()
    yield receiver
    receiver.stop()


@pytest.fixture(scope="session")
def platform_config(
    tmp_path_factory: pytest.TempPathFactory, otlp_receiver: OtlpReceiver
) -> PlatformConfig:
    return PlatformConfig(
        state_dir=tmp_path_factory.mktemp("platform"),
        ports=Ports.free(),
        secrets=Secrets.generate(),
        otlp_endpoint=otlp_receiver.endpoint,
        # The fault tests kill workers: their messages come back within a minute.
        broker_visibility_timeout_s=30,
    )


@pytest.fixture(scope="session")
def _platform(platform_config: PlatformConfig) -> Iterator[Platform]:
    platform = Platform(platform_config)
    yield platform
    platform.stop()


@pytest.fixture(scope="session")
def backing_servers(_platform: Platform) -> Platform:
    """Graph server and broker only (for repository and task tests)."""
    if "graph" not in _platform.processes:
        try:
            _platform.start_backing_servers()
        except BaseException:
            _platform.stop()
            raise
    return _platform


@pytest.fixture(scope="session")
def platform(backing_servers: Platform) -> Platform:
    """The whole platform: graph, broker, four subgraphs, workers, gateway."""
    if "gateway" not in backing_servers.processes:
        try:
            backing_servers.start_application()
        except BaseException:
            backing_servers.stop()
            raise
    return backing_servers


@pytest.fixture(scope="session")
def token_for(platform_config: PlatformConfig) -> Callable[..., str]:
    def mint(*roles: str, subject: str = "test-user") -> str:
        return tokens.mint(platform_config.secrets.jwt, subject=subject, roles=roles)

    return mint


@pytest.fixture
def gateway(platform: Platform, token_for: Callable[..., str]) -> Iterator[GatewayClient]:
    client = GatewayClient(platform.config.gateway_url, token_for(*ALL_ROLES))
    yield client
    client.close()


@pytest.fixture
def client_for(
    platform: Platform, token_for: Callable[..., str]
) -> Iterator[Callable[..., GatewayClient]]:
    clients: list[GatewayClient] = []

    def make(*roles: str) -> GatewayClient:
        client = GatewayClient(platform.config.gateway_url, token_for(*roles) if roles else None)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
async def graph_for(backing_servers: Platform) -> AsyncIterator[Callable[[str], GraphClient]]:
    """Async graph clients for a service's database on the test graph server."""
    config = backing_servers.config
    opened: list[GraphClient] = []

    def connect(database: str) -> GraphClient:
        client = GraphClient(
            uri=config.graph.bolt_uri, user="root", password=config.secrets.graph_password,
            database=database,
        )  # fmt: skip
        opened.append(client)
        return client

    yield connect
    for client in opened:
        await client.close()


def eventually(probe: Callable[[], Any], timeout_s: float = 20) -> Any:
    """``probe()`` once it answers something truthy (workers run asynchronously), or
    its last answer after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while True:
        found = probe()
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


def log_text(platform: Platform, name: str) -> str:
    path: Path = platform.config.log_dir / f"{name}.log"
    return path.read_text(errors="replace") if path.exists() else ""
