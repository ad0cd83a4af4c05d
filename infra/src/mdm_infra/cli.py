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
    # Demo data on a fresh start (and kept on a repair); a platform started by others
    # (the test suite) gets none.
    if fresh or demo_marker.exists():
        client = GatewayClient(config.gateway_url, token)
        try:
            ids = demo.ensure_loaded(client, demo_marker)
        finally:
            client.close()
    elapsed = time.monotonic() - started
    print(f"""
MDM platform is up ({elapsed:.1f} s); logs in {config.log_dir}

  Console:   {config.console_url}   (stewards and compliance officers; development sign-in)
  Gateway:   {config.gateway_url}
  Token:     {token}
             (roles {", ".join(ALL_ROLES)}; mint others with
              .venv/bin/python -m mdm_infra token --roles app)
""")
    if ids:
        print(f"""Sample query (demo person {ids[0]}):

export TOKEN={token}
curl -s {config.gateway_url} \\
  -H "authorization: Bearer $TOKEN" -H "content-type: application/json" \\
  -d '{json.dumps({"query": demo.sample_query(ids[0])})}'
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mdm-platform", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("up", help="start everything with demo data, or repair what runs")
    sub.add_parser("down", help="stop everything `up` started")
    tok = sub.add_parser("token", help="mint a development token")
    tok.add_argument("--roles", default=",".join(ALL_ROLES))
    tok.add_argument("--subject", default="developer")
    tok.add_argument("--ttl", type=int, default=8 * 3600)
    args = parser.parse_args(argv)
    if args.command == "up":
        return up()
    if args.command == "down":
        return down()
    return token(args.roles, args.subject, args.ttl)


if __name__ == "__main__":
    sys.exit(main())
