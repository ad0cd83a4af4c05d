"""The suppression key of the use-case tests (any non-empty key will do)."""

from __future__ import annotations

from mdm_profile.domain.suppression import Suppressor

SUPPRESSOR = Suppressor(b"integration-test suppression key")
