"""Postal addresses: German street spellings, house numbers, postal codes per country.

The display form keeps the source's spelling except for well-known abbreviations;
the comparison key (:func:`address_key`) folds every variant together.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pycountry

from mdm_profile.domain.quality.folding import fold
from mdm_profile.domain.quality.report import QualityReport, Severity

# Postal code formats (display form after normalisation). Countries not listed are
# kept as sent, upper-cased, and reported as not validated.
_POSTAL_CODES = {
    "DE": r"\d{5}", "AT": r"\d{4}", "CH": r"\d{4}", "LI": r"\d{4}", "LU": r"\d{4}",
    "BE": r"\d{4}", "DK": r"\d{4}", "NO": r"\d{4}", "FR": r"\d{5}", "IT": r"\d{5}",
    "ES": r"\d{5}", "FI": r"\d{5}", "SE": r"\d{3} \d{2}", "PL": r"\d{2}-\d{3}",
    "CZ": r"\d{3} \d{2}", "NL": r"\d{4} [A-Z]{2}", "PT": r"\d{4}-\d{3}",
    "GB": r"[A-Z]{1,2}\d[A-Z\d]? \d[A-Z]{2}", "US": r"\d{5}(-\d{4})?",
}  # fmt: skip
# Where sources often drop the separator, put it back: "1234AB" -> "1234 AB".
_REPAIRS = {
    "NL": (re.compile(r"^(\d{4})\s*([A-Z]{2})$"), r"\1 \2"),
    "PL": (re.compile(r"^(\d{2})\s*-?\s*(\d{3})$"), r"\1-\2"),
    "SE": (re.compile(r"^(\d{3})\s*(\d{2})$"), r"\1 \2"),
    "CZ": (re.compile(r"^(\d{3})\s*(\d{2})$"), r"\1 \2"),
    "PT": (re.compile(r"^(\d{4})\s*-?\s*(\d{3})$"), r"\1-\2"),
    "GB": (re.compile(r"^([A-Z]{1,2}\d[A-Z\d]?)\s*(\d[A-Z]{2})$"), r"\1 \2"),
}
_COUNTRY_ALIASES = {
    "deutschland": "DE", "germany": "DE", "brd": "DE", "d": "DE", "österreich": "AT",
    "oesterreich": "AT", "schweiz": "CH", "suisse": "CH", "svizzera": "CH",
    "niederlande": "NL", "holland": "NL", "frankreich": "FR", "italien": "IT",
    "spanien": "ES", "polen": "PL", "uk": "GB", "england": "GB", "usa": "US",
}  # fmt: skip

# "Hauptstr." / "Hauptstrasse" / "Haupt-Str." / "Hauptstraße" -> "Hauptstraße".
_STREET_SUFFIX = re.compile(r"(?i)(str)(?:\.|asse|aße)?(?=$|\s)")
_STREET_WORD = re.compile(r"(?i)\b(Straße|Strasse|Str\.)(?=\s|$)")
_HOUSE_NUMBER = re.compile(r"^(\d+)\s*([a-zA-Z])?(?:\s*([-/])\s*(\d+)\s*([a-zA-Z])?)?$")
_TRAILING_NUMBER = re.compile(r"^(.*?\D)\s*(\d+\s*[a-zA-Z]?(?:\s*[-/]\s*\d+\s*[a-zA-Z]?)?)$")


@dataclass(frozen=True)
class PostalAddress:
    street: str | None
    house_number: str | None
    postal_code: str | None
    city: str | None
    country: str | None  # ISO 3166-1 alpha-2


def normalise_country(raw: str | None, *, report: QualityReport) -> str | None:
    if not raw or not raw.strip():
        return None
    value = raw.strip()
    alias = _COUNTRY_ALIASES.get(value.casefold())
    if alias:
        code = alias
    else:
        try:
            code = pycountry.countries.lookup(value).alpha_2
        except LookupError:
            report.issue("country", "UNKNOWN_COUNTRY", Severity.WARNING)
            return None
    if code != value:
        report.fix("country", "COUNTRY_ISO_CODE")
    return str(code)


def normalise_street(raw: str) -> str:
    """German street spellings to the official "…straße" / "… Straße" form."""
    street = " ".join(raw.split())
    street = _STREET_WORD.sub("Straße", street)
    return _STREET_SUFFIX.sub(lambda m: m.group(1) + "aße", street)


def normalise_house_number(raw: str) -> str | None:
    """``"12 A"`` -> ``"12a"``, ``"12 - 14"`` -> ``"12-14"``; ``None`` if it is no house number.

    A range keeps its separator: "7/9" may be a building and a flat, not 7 to 9.
    """
    match = _HOUSE_NUMBER.match(raw.strip())
    if not match:
        return None
    first, letter, separator, second, second_letter = match.groups()
    number = first + (letter or "").lower()
    if second:
        number += separator + second + (second_letter or "").lower()
    return number


def normalise_postal_code(raw: str, country: str | None, *, report: QualityReport) -> str | None:
    """The code in the country's format; ``None`` (with a WARNING) if it cannot be one."""
    value = " ".join(raw.upper().split())
    if country is None:
        return value
    repair = _REPAIRS.get(country)
    if repair:
        value = repair[0].sub(repair[1], value)
    if country == "DE" and value.isdigit() and len(value) == 4:
        # Spreadsheets drop the leading zero of East German codes ("01067" -> "1067").
        value = "0" + value
        report.fix("postalCode", "LEADING_ZERO_RESTORED")
    pattern = _POSTAL_CODES.get(country)
    if pattern is None:
        report.issue("postalCode", "NOT_VALIDATED", Severity.INFO, f"no format known for {country}")
    elif not re.fullmatch(pattern, value):
        report.issue("postalCode", "INVALID_FOR_COUNTRY", Severity.WARNING, country)
        return None
    return value


def normalise_address(
    *,
    street: str | None,
    house_number: str | None,
    postal_code: str | None,
    city: str | None,
    country: str | None,
    report: QualityReport,
) -> PostalAddress | None:
    if not any(v and v.strip() for v in (street, house_number, postal_code, city)):
        return None
    iso = normalise_country(country, report=report)
    if iso is None and country is None:
        iso = "DE"
        report.issue("country", "ASSUMED", Severity.INFO, "no country sent; read as DE")

    clean_street, clean_number = (street or "").strip(), (house_number or "").strip()
    if clean_street and not clean_number:
        # "Hauptstr. 12a" in one field.
        match = _TRAILING_NUMBER.match(clean_street)
        if match:
            clean_street, clean_number = match.group(1).strip(), match.group(2)
            report.fix("houseNumber", "SPLIT_FROM_STREET")
    display_street = normalise_street(clean_street) if clean_street else None
    if display_street and display_street != clean_street:
        report.fix("street", "STREET_NORMALISED")

    number = None
    if clean_number:
        number = normalise_house_number(clean_number)
        if number is None:
            number = clean_number
            report.issue("houseNumber", "UNUSUAL", Severity.WARNING)
        elif number != clean_number:
            report.fix("houseNumber", "HOUSE_NUMBER_NORMALISED")
    elif display_street:
        report.issue("houseNumber", "MISSING", Severity.WARNING)

    code = None
    if postal_code and postal_code.strip():
        code = normalise_postal_code(postal_code, iso, report=report)
    else:
        report.issue("postalCode", "MISSING", Severity.WARNING)
    clean_city = " ".join((city or "").split()) or None
    if not clean_city:
        report.issue("city", "MISSING", Severity.WARNING)
    return PostalAddress(display_street, number, code, clean_city, iso)


def address_key(address: PostalAddress) -> str:
    """Identity of an address for sharing one node between profiles."""
    street = fold(normalise_street(address.street or "")).replace(" ", "")
    parts = (address.country or "", address.postal_code or "", fold(address.city or ""), street,
             (address.house_number or "").lower())  # fmt: skip
    return "|".join(parts)
