"""Jinja filters: dates and numbers in the user's language, the engine's words
on screen in the user's language."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal, format_percent
from jinja2 import Environment

from mdm_console import i18n
from mdm_console.i18n import _

# Shown where a value is missing: an en dash, as in print.
MISSING = "\u2013"


def _parse(value: Any) -> datetime | date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime | date):
        return value
    text = str(value)
    try:
        return datetime.fromisoformat(text) if "T" in text else date.fromisoformat(text)
    except ValueError:
        return None


def when(value: Any) -> str:
    parsed = _parse(value)
    if parsed is None:
        return MISSING if value in (None, "") else str(value)
    if isinstance(parsed, datetime):
        return format_datetime(parsed, format="medium", locale=i18n.locale())
    return format_date(parsed, format="medium", locale=i18n.locale())


def day(value: Any) -> str:
    parsed = _parse(value)
    if parsed is None:
        return MISSING if value in (None, "") else str(value)
    return format_date(parsed, format="medium", locale=i18n.locale())


def percent(value: Any, digits: int = 1) -> str:
    if value is None:
        return MISSING
    return format_percent(float(value), format="#,##0." + "0" * digits + " %", locale=i18n.locale())


def number(value: Any, digits: int = 2) -> str:
    if value is None:
        return MISSING
    return format_decimal(float(value), format="#,##0." + "0" * digits, locale=i18n.locale())


def full_name(person: dict[str, Any] | None) -> str:
    """A person's name with titles; a review side that is a company, its name."""
    if not person or person.get("missing"):
        return _("(no longer in the profile)")
    if person.get("company"):
        return person.get("name") or MISSING
    parts = [*person.get("titles", []), person.get("givenName") or "", person.get("familyName")]
    return " ".join(p for p in parts if p) or MISSING


def one_line(address: dict[str, Any] | None) -> str:
    if not address:
        return MISSING
    street = " ".join(p for p in (address.get("street"), address.get("houseNumber")) if p)
    place = " ".join(p for p in (address.get("postalCode"), address.get("city")) if p)
    return ", ".join(p for p in (street, place, address.get("country")) if p) or MISSING


def words(value: Any) -> str:
    """An engine or schema phrase (comparison level, guard, enum value) in the
    user's language; the phrase itself is the message id."""
    if value is None:
        return MISSING
    return i18n.gettext(str(value))


def code_words(value: Any) -> str:
    """A quality or lineage code ("NAME_SPLIT") in words: translated where the
    catalogue knows it, else the code itself in lower case ("name split")."""
    if not value:
        return MISSING
    text = str(value)
    translated = i18n.gettext(text)
    return translated if translated != text else text.replace("_", " ").lower()


def install_filters(env: Environment) -> None:
    env.filters.update(
        when=when,
        day=day,
        percent=percent,
        number=number,
        full_name=full_name,
        one_line=one_line,
        words=words,
        code_words=code_words,
    )
