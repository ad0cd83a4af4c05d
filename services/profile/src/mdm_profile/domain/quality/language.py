"""Preferred language as an ISO 639-1 code, from codes and German or English names."""

from __future__ import annotations

from typing import Any

import pycountry

from mdm_profile.domain.quality.report import QualityReport, Severity

# pycountry knows English names only; sources here often write German ones.
_GERMAN_LANGUAGE_NAMES = {
    "deutsch": "de", "englisch": "en", "französisch": "fr", "franzoesisch": "fr",
    "italienisch": "it", "spanisch": "es", "türkisch": "tr", "tuerkisch": "tr",
    "polnisch": "pl", "russisch": "ru", "niederländisch": "nl", "arabisch": "ar",
}  # fmt: skip


def normalise_language(raw: str | None, *, report: QualityReport) -> str | None:
    if not raw or not raw.strip():
        report.issue("language", "MISSING", Severity.WARNING)
        return None
    value = raw.strip()
    german = _GERMAN_LANGUAGE_NAMES.get(value.casefold())
    if german:
        report.fix("language", "LANGUAGE_ISO_CODE")
        return german
    found = _language(value.split("-")[0].split("_")[0])
    if found is None:
        report.issue("language", "UNKNOWN", Severity.WARNING)
        return None
    code = getattr(found, "alpha_2", None)
    if code is None:
        report.issue("language", "NO_ISO_639_1_CODE", Severity.WARNING)
        return None
    if code != value:
        report.fix("language", "LANGUAGE_ISO_CODE")
    return str(code)


def _language(code: str) -> Any:
    """ISO 639-1 first: pycountry's fuzzy ``lookup`` reads "en" as the name of the
    language "En" (ISO 639-3 ``enc``), which has no two-letter code, and every
    English-speaking customer lost their language."""
    folded = code.lower()
    found = pycountry.languages.get(alpha_2=folded) if len(folded) == 2 else None
    if found is None and len(folded) == 3:
        found = pycountry.languages.get(alpha_3=folded)
    if found is not None:
        return found
    try:
        return pycountry.languages.lookup(code)
    except LookupError:
        return None
