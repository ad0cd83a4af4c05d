"""Comparison keys shared by the services: umlaut variants, case, accents folded away.

Only for comparing and indexing; the original spelling is always kept for display.
"""

from __future__ import annotations

import re
import unicodedata

from anyascii import anyascii

# German transliteration first, so "Müller", "Mueller" and "MUELLER" meet; the
# generic transliteration afterwards would turn "ü" into "u" instead.
_GERMAN = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "ẞ": "ss"})
_NON_ALNUM = re.compile(r"[^a-z0-9]+")


def fold(text: str) -> str:
    """``"Groß-Müller "`` -> ``"gross mueller"``; idempotent."""
    lowered = unicodedata.normalize("NFC", text).casefold().translate(_GERMAN)
    ascii_text = anyascii(lowered).lower()
    return _NON_ALNUM.sub(" ", ascii_text).strip()
