"""What a platform is made of: ports, secrets, where its state lives, each part's settings.

A running platform records its configuration in ``platform.json`` in its state
directory (0600), so ``make run`` can repair it and ``make stop`` stop it later.
"""

from __future__ import annotations

import json
import os
import secrets
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

from mdm_infra import broker, graphdb, tokens
from mdm_infra.ports import free_port

PROJECT_ROOT = Path(__file__).resolve().parents[3]
GATEWAY_DIR = PROJECT_ROOT / "gateway"
SERVICES = ("profile", "matching", "consent", "distribution")
RUNNING_CONFIG = "platform.json"
# The issuer of the console's gateway tokens, allowed next to the development tokens'.
CONSOLE_TOKEN_ISSUER = "mdm-console"  # noqa: S105 - an issuer name, not a secret


KEEP_ALIVE_S = 65  # seconds an idle keep-alive connection stays open (uvicorn)


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
        # Idle connections stay open longer than the gateway keeps them (its HTTP
        # client drops an idle socket after a few seconds): the client always closes
        # first, so it never sends a request on a socket the server is closing at the
        # same moment ("socket hang up", seen under load with uvicorn's 5 s default).
        "--timeout-keep-alive",
        str(KEEP_ALIVE_S),
    ]


@dataclass(frozen=True)
class Ports:
    gateway: int = 4000
    profile: int = 8101
    matching: int = 8102
    consent: int = 8103
    distribution: int = 8104
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
            # distribution -> consent: the contact check of each subscriber's purpose.
            "CONSENT_URL": self.service_url("consent") + "/graphql",
            # consent -> distribution: the change stream's recipients of a person.
            "DISTRIBUTION_URL": self.service_url("distribution") + "/graphql",
        }
        if name == "distribution":  # export jobs write their files here
            values["EXPORT_DIR"] = str(self.state_dir / "exports")
        return {prefix + k: v for k, v in values.items()} | self._otel_env(name)

    def console_env(self) -> dict[str, str]:
        # The platform runs on its own generated secrets: the development sign-in
        # is on. Production runs the console with an identity provider instead.
        return {
            "CONSOLE_GATEWAY_URL": self.gateway_url,
            "CONSOLE_JWT_SECRET": self.secrets.jwt,
            "CONSOLE_GATEWAY_TOKEN_ISSUER": CONSOLE_TOKEN_ISSUER,
            "CONSOLE_DEV_SIGNIN": "true",
            "CONSOLE_PUBLIC_URL": self.console_url,
        } | self._otel_env("console")

    def gateway_env(self) -> dict[str, str]:
        return {
            "MDM_GATEWAY_PORT": str(self.ports.gateway),
            "MDM_JWT_SECRET": self.secrets.jwt,
            "MDM_JWT_ISSUERS": f"{tokens.ISSUER},{CONSOLE_TOKEN_ISSUER}",
            "MDM_JWT_MAX_LIFETIME_S": str(tokens.MAX_LIFETIME_S),
            "MDM_GATEWAY_SECRET": self.secrets.gateway,
            "MDM_CORS_ORIGINS": self.console_url,
            **{f"MDM_{n.upper()}_URL": self.service_url(n) + "/graphql" for n in SERVICES},
        } | self._otel_env("gateway")

    # --- the running platform's record --------------------------------------------

    def save(self) -> None:
        """Record this configuration as the running platform's (0600: secrets)."""
        self.state_dir.mkdir(parents=True, exist_ok=True)
        record = asdict(self) | {"state_dir": str(self.state_dir)}
        fd = os.open(self.state_dir / RUNNING_CONFIG, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            json.dump(record, out, indent=2)

    @classmethod
    def load_running(cls, state_dir: Path) -> PlatformConfig | None:
        """The configuration of the platform last started in ``state_dir`` and not
        stopped since, if any."""
        path = state_dir / RUNNING_CONFIG
        if not path.exists():
            return None
        record = json.loads(path.read_text())
        return cls(
            state_dir=Path(record["state_dir"]),
            ports=Ports(**record["ports"]),
            secrets=Secrets(**record["secrets"]),
            otlp_endpoint=record["otlp_endpoint"],
            python=record["python"],
            graph_heap=record["graph_heap"],
            broker_visibility_timeout_s=record.get("broker_visibility_timeout_s", 300),
        )

    def forget_running(self) -> None:
        (self.state_dir / RUNNING_CONFIG).unlink(missing_ok=True)


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
