"""German and English: the browser's language unless the user chose one.

English is the source language of every message; ``translations/de`` holds the
German catalogue as .po files (``translations/en`` only the schema's words),
compiled in memory at start-up (no binary catalogue in the repository, no build
step).
"""

from __future__ import annotations

import io
from contextvars import ContextVar
from pathlib import Path

from babel import Locale, negotiate_locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations
from starlette.requests import Request

TRANSLATIONS_DIR = Path(__file__).resolve().parent / "translations"
LANGUAGES = ("en", "de")
DEFAULT_LANGUAGE = "en"
LANGUAGE_COOKIE = "mdm_console_lang"

_catalogues: dict[str, NullTranslations] = {}
_current: ContextVar[str] = ContextVar("console_language", default=DEFAULT_LANGUAGE)


def load_catalogues(directory: Path = TRANSLATIONS_DIR) -> None:
    for language in LANGUAGES:
        merged = Translations()
        # One catalogue file per area of the console (messages.po, compliance.po, ...);
        # English has only the words of the schema and the engine (enum values).
        for po in sorted((directory / language / "LC_MESSAGES").glob("*.po")):
            with po.open("rb") as source:
                catalogue = read_po(source, locale=language)
            compiled = io.BytesIO()
            write_mo(compiled, catalogue)
            compiled.seek(0)
            merged.merge(Translations(compiled))
        _catalogues[language] = merged


def language_of(request: Request) -> str:
    chosen = request.cookies.get(LANGUAGE_COOKIE)
    if chosen in LANGUAGES:
        return chosen
    header = request.headers.get("accept-language", "")
    preferred = [part.split(";")[0].strip().replace("-", "_") for part in header.split(",")]
    return negotiate_locale([p for p in preferred if p], LANGUAGES) or DEFAULT_LANGUAGE


def use(language: str) -> None:
    _current.set(language if language in LANGUAGES else DEFAULT_LANGUAGE)


def current() -> str:
    return _current.get()


def locale() -> Locale:
    return Locale.parse(current())


def gettext(message: str) -> str:
    return _catalogues.get(current(), NullTranslations()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return _catalogues.get(current(), NullTranslations()).ngettext(singular, plural, n)


_ = gettext
