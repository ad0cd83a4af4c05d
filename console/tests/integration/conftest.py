from __future__ import annotations

import pytest

from mdm_infra import sdl


@pytest.fixture(scope="session")
def supergraph_sdl(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The supergraph composed from the committed subgraph SDL."""
    return sdl.supergraph(tmp_path_factory.mktemp("supergraph") / "supergraph.graphql")
