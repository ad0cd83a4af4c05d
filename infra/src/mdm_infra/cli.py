"""``python -m mdm_infra up|down|token``: the commands behind make run / make stop."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from mdm_infra import demo, tokens
from mdm_infra.client import GatewayClient
from mdm_infra.platform import PROJECT_ROOT, Platform, load_dev_config, stop_recorded
from mdm_infra.process import StartupError, is_alive

STATE_DIR = Path(os.environ.get("MDM_STATE_DIR", PROJECT_ROOT / ".run"))
ALL_ROLES = ("app", "steward", "compliance")


def up() -> int:
    state = STATE_DIR / "pids.json"
    if state.exists():
        pids = json.loads(state.read_text())
        if any(is_alive(pid) for pid in pids.values()):
            print("The platform is already running (make stop stops it).")
            return 1
        state.unlink()
    config = load_dev_config(STATE_DIR)
    started = time.monotonic()
    platform = Platform(config)
    try:
        platform.start()
    except StartupError as exc:
        print(f"Start-up failed: {exc}", file=sys.stderr)
        return 1
    token = tokens.mint(config.secrets.jwt, subject="developer", roles=ALL_ROLES)
    client = GatewayClient(config.gateway_url, token)
    try:
        ids = demo.ensure_loaded(client, STATE_DIR / "demo.json")
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

Sample query (demo person {ids[0]}):

export TOKEN={token}
curl -s {config.gateway_url} \\
  -H "authorization: Bearer $TOKEN" -H "content-type: application/json" \\
  -d '{json.dumps({"query": demo.sample_query(ids[0])})}'

Stop everything with: make stop
""")
    return 0


def down() -> int:
    stopped = stop_recorded(STATE_DIR)
    print("Stopped: " + ", ".join(stopped) if stopped else "Nothing was running.")
    return 0


def token(roles: str, subject: str, ttl_s: int) -> int:
    config = load_dev_config(STATE_DIR)
    print(tokens.mint(config.secrets.jwt, subject=subject, roles=roles.split(","), ttl_s=ttl_s))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mdm-platform", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("up", help="start everything with demo data")
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
    args = parser.parse_args(argv)
    if args.command == "up":
        return up()
    if args.command == "down":
        return down()
    return token(args.roles, args.subject, args.ttl)


if __name__ == "__main__":
    sys.exit(main())
