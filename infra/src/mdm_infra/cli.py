"""``python -m mdm_infra up|down|token|backup|restore|dead-letters``: the commands
behind make run / make stop / make backup / make restore."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from mdm_infra import backup, demo, tokens
from mdm_infra.client import GatewayClient
from mdm_infra.platform import COMPONENTS, PROJECT_ROOT, Platform, load_dev_config
from mdm_infra.process import StartupError
from mdm_infra.supervision import stop_leftovers

STATE_DIR = Path(os.environ.get("MDM_STATE_DIR", PROJECT_ROOT / ".run")).resolve()
ALL_ROLES = ("app", "steward", "compliance")


def up() -> int:
    """Start the platform, or repair the one that runs: parts that died or were
    stopped start again; a platform whose supervisor died starts over."""
    started = time.monotonic()
    platform = Platform.running(STATE_DIR)
    fresh = platform is None
    try:
        if platform is None:
            stop_leftovers(STATE_DIR)
            platform = Platform(load_dev_config(STATE_DIR))
            platform.start()
            print("Started: " + ", ".join(COMPONENTS))
        else:
            restarted = platform.repair()
            print(
                "The platform was running; started again: " + ", ".join(restarted)
                if restarted
                else "The platform is running; every part answers."
            )
    except StartupError as exc:
        print(f"Start-up failed: {exc}", file=sys.stderr)
        return 1
    config = platform.config
    token = tokens.mint(config.secrets.jwt, subject="developer", roles=ALL_ROLES)
    demo_marker = STATE_DIR / "demo.json"
    ids: list[str] = []
    subscriber: dict[str, object] = {}
    # Demo data on a fresh start (and kept on a repair); a platform started by others
    # (the test suite) gets none.
    if fresh or demo_marker.exists():
        admin = tokens.mint(config.secrets.jwt, subject="developer", roles=(*ALL_ROLES, "admin"))
        client = GatewayClient(config.gateway_url, admin)
        try:
            ids = demo.ensure_loaded(client, demo_marker)
            subscriber = demo.ensure_subscriber(client)
        finally:
            client.close()
    elapsed = time.monotonic() - started
    print(f"""
MDM platform is up ({elapsed:.1f} s); logs in {config.log_dir}

  Console:   {config.console_url}   (stewards and compliance officers; development sign-in)
  Gateway:   {config.gateway_url}
  Token:     {token}
             (roles {", ".join(ALL_ROLES)}, valid for an hour; mint others with
              .venv/bin/python -m mdm_infra token --roles app)
""")
    if ids:
        print(f"""Sample query (demo person {ids[0]}):

export TOKEN={token}
curl -s {config.gateway_url} \\
  -H "authorization: Bearer $TOKEN" -H "content-type: application/json" \\
  -d '{json.dumps({"query": demo.sample_query(ids[0])})}'
""")
    if subscriber:
        stream = subscriber["stream"]
        assert isinstance(stream, dict)
        print(f"""Change stream: subscriber {subscriber["name"]} (newsletter over e-mail) reads the
  Redis stream {stream["key"]} on {config.broker.url}
  (XRANGE, XREADGROUP); subscribers, lag, webhooks, export: docs/distribution.md
""")
    print("A part that dies is restarted by itself; `make run` again repairs the rest.")
    print("Stop everything with: make stop")
    return 0


def down() -> int:
    platform = Platform.running(STATE_DIR)
    if platform is None:
        leftovers = stop_leftovers(STATE_DIR)
        print(
            f"Stopped {len(leftovers)} processes left by a platform whose supervisor had died."
            if leftovers
            else "Nothing was running."
        )
        return 0
    running = list(platform.processes)
    platform.stop()
    print("Stopped: " + (", ".join(running) or "what was left of the platform"))
    return 0


def token(roles: str, subject: str, ttl_s: int) -> int:
    config = load_dev_config(STATE_DIR)
    print(tokens.mint(config.secrets.jwt, subject=subject, roles=roles.split(","), ttl_s=ttl_s))
    return 0


def back_up(target: Path) -> int:
    try:
        archives = backup.backup(load_dev_config(STATE_DIR), target)
    except (backup.BackupError, OSError) as exc:
        print(f"Backup failed: {exc}", file=sys.stderr)
        return 1
    sizes = ", ".join(f"{a.name} {_size(a.size)}" for a in archives)
    print(f"Backed up to {target}: {sizes}")
    return 0


def _size(size: int) -> str:
    return f"{size / 1e6:.1f} MB" if size >= 1e6 else f"{size / 1e3:.0f} kB"


def restore(source: Path) -> int:
    try:
        backup.restore(load_dev_config(STATE_DIR), source)
    except (backup.BackupError, StartupError, OSError) as exc:
        print(f"Restore failed: {exc}", file=sys.stderr)
        return 1
    print(
        f"Restored {', '.join(a.name for a in backup.read_manifest(source))} from {source}; "
        "start the platform with: make run"
    )
    return 0


def dead_letters(limit: int, broker_url: str | None) -> int:
    from mdm_common.dead_letters import list_dead_letters  # noqa: PLC0415 - Celery only here
    from mdm_common.events import make_celery  # noqa: PLC0415

    app = make_celery("admin", broker_url or load_dev_config(STATE_DIR).broker.url)
    try:
        for entry in list_dead_letters(app, limit=limit):
            print(json.dumps(entry))
    finally:
        app.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mdm-platform", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("up", help="start everything with demo data, or repair what runs")
    sub.add_parser("down", help="stop everything `up` started")
    tok = sub.add_parser("token", help="mint a development token")
    tok.add_argument("--roles", default=",".join(ALL_ROLES))
    tok.add_argument("--subject", default="developer")
    tok.add_argument(
        "--ttl",
        type=int,
        default=tokens.MAX_LIFETIME_S,
        help=f"seconds; the gateway refuses more than {tokens.MAX_LIFETIME_S}",
    )
    back = sub.add_parser("backup", help="back up the four databases into a new directory")
    back.add_argument("directory", type=Path)
    rest = sub.add_parser("restore", help="replace the databases with a backup (platform stopped)")
    rest.add_argument("directory", type=Path)
    dead = sub.add_parser("dead-letters", help="list failed tasks (newest first), one JSON a line")
    dead.add_argument("--limit", type=int, default=100)
    dead.add_argument("--broker-url", help="default: the platform's broker")
    args = parser.parse_args(argv)
    if args.command == "backup":
        return back_up(args.directory)
    if args.command == "restore":
        return restore(args.directory)
    if args.command == "dead-letters":
        return dead_letters(args.limit, args.broker_url)
    if args.command == "up":
        return up()
    if args.command == "down":
        return down()
    return token(args.roles, args.subject, args.ttl)


if __name__ == "__main__":
    sys.exit(main())
