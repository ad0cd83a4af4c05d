"""Files the gateway reads: ``python -m mdm_infra.sdl write|check``.

Subgraph SDL, request limits (:mod:`mdm_infra.limits`) and the console's trusted
documents (:mod:`mdm_infra.trusted_documents`).

The gateway composes the supergraph from the committed files in gateway/subgraphs/,
so a schema change is reviewed as a diff; ``check`` fails when one is stale.
"""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

from mdm_infra import limits, node, trusted_documents
from mdm_infra.config import GATEWAY_DIR, SERVICES

SDL_DIR = GATEWAY_DIR / "subgraphs"


def current_sdl(service: str) -> str:
    module = importlib.import_module(f"mdm_{service}.graphql.schema")
    return str(module.build_schema().as_str()) + "\n"


def sdl_path(service: str) -> Path:
    return SDL_DIR / f"{service}.graphql"


def stale_services() -> list[str]:
    return [
        s for s in SERVICES
        if not sdl_path(s).exists() or sdl_path(s).read_text() != current_sdl(s)
    ]  # fmt: skip


def supergraph(out: Path) -> str:
    """The supergraph the gateway composes from the committed SDL (written to ``out``)."""
    subprocess.run(  # noqa: S603 - the project's own composition script
        node.command("node", "src/compose-cli.mjs", str(out)),
        cwd=GATEWAY_DIR,
        check=True,
        capture_output=True,
        timeout=60,
    )
    return out.read_text()


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "check"
    if command == "write":
        for service in SERVICES:
            sdl_path(service).write_text(current_sdl(service))
        limits.write()
        trusted_documents.write()
        return 0
    stale = stale_services() + [
        name
        for name, module in (
            ("limits.json", limits),
            ("persisted-documents.json", trusted_documents),
        )
        if module.is_stale()
    ]
    if stale:
        sys.stderr.write(f"stale subgraph SDL: {', '.join(stale)}; run `make schema`\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
