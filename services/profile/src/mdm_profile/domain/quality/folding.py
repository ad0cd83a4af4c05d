"""Comparison keys: umlaut variants, case, accents and punctuation folded away.

The folding itself lives in :mod:`mdm_common.text` because matching compares with
the same keys the profile indexes.
"""

from __future__ import annotations

from mdm_common.text import fold

__all__ = ["fold"]
