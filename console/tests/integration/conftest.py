from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from mdm_infra.platform import GATEWAY_DIR


@pytest.fixture(scope="session")
def supergraph_sdl(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The supergraph composed from the committed subgraph SDL."""
    node = shutil.which("node")
    assert node is not None
    out = tmp_path_factory.mktemp("supergraph") / "supergraph.graphql"
    subprocess.run(
        [node, "src/compose-cli.mjs", str(out)],
        cwd=GATEWAY_DIR,
        check=True,
        capture_output=True,
        timeout=60,
    )
    return Path(out).read_text()
