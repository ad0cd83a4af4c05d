"""Fixtures of the profile service's integration tests."""

from __future__ import annotations

import pytest

from .merges import PATHS


@pytest.fixture(params=PATHS)
def merge_path(request: pytest.FixtureRequest) -> str:
    """Which way a test's merges run: tests of merges hold for both."""
    return str(request.param)
