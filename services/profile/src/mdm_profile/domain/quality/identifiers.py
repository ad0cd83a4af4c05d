"""Identifiers a source knows a person by: tax and national ids, customer numbers, cards.

Each has a scheme and, where the scheme needs one, an issuer (the country of a
national id, the system of a customer number). Values are compacted to upper-case
letters and digits ("36 574 261 809" and "36574261809" are one id). Where a checksum
exists, python-stdnum validates it; a value that fails is kept raw, flagged and not
used. Matching compares them exactly and with one typo; two different valid ids of a
scheme a person holds only one of (tax, social security, national id) tell two
persons apart.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

import pycountry
from stdnum import luhn
from stdnum.de import idnr
from stdnum.eu import vat
from stdnum.exceptions import ValidationError
from stdnum.us import ssn

from mdm_common.errors import InvalidInput
from mdm_profile.domain.quality.report import QualityReport, Severity

MAX_IDENTIFIERS = 20
MAX_VALUE = 64
_NOT_ALNUM = re.compile(r"[^0-9A-Z]")
_MIN_LENGTH = 3


class Scheme(StrEnum):
    TAX_ID_DE = "TAX_ID_DE"  # Steuerliche Identifikationsnummer, checksum
    SOCIAL_SECURITY = "SOCIAL_SECURITY"  # issuer: country (US numbers are checked)
    NATIONAL_ID = "NATIONAL_ID"  # issuer: country
    PASSPORT = "PASSPORT"  # issuer: country; renewed passports have new numbers
    VAT_ID = "VAT_ID"  # of a sole trader; EU numbers with their checksums
    CUSTOMER_NUMBER = "CUSTOMER_NUMBER"  # issuer: the system that gave it
    LOYALTY_CARD = "LOYALTY_CARD"  # issuer: the programme; Luhn where it has 16 digits or more


# Schemes a person holds one of for life: two different valid values are two persons.
UNIQUE_PER_PERSON = frozenset({Scheme.TAX_ID_DE, Scheme.SOCIAL_SECURITY, Scheme.NATIONAL_ID})
_COUNTRY_ISSUED = frozenset({Scheme.SOCIAL_SECURITY, Scheme.NATIONAL_ID, Scheme.PASSPORT})


@dataclass(frozen=True)
class RawIdentifier:
    scheme: str
    value: str
    issuer: str | None = None


@dataclass(frozen=True, order=True)
class Identifier:
    scheme: str
    issuer: str  # "" where the scheme has none
    value: str


def _compact(value: str) -> str:
    return _NOT_ALNUM.sub("", value.upper())


def _stdnum(module: Callable[[str], str]) -> Callable[[str], str | None]:
    def check(value: str) -> str | None:
        try:
            return module(value)
        except ValidationError:
            return None

    return check


def _loyalty(value: str) -> str | None:
    if value.isdigit() and len(value) >= 16:  # card numbers end in a Luhn digit
        return value if luhn.is_valid(value) else None
    return value


_CHECKSUMS: dict[tuple[Scheme, str], Callable[[str], str | None]] = {
    (Scheme.TAX_ID_DE, "DE"): _stdnum(idnr.validate),
    (Scheme.SOCIAL_SECURITY, "US"): _stdnum(ssn.validate),
}


def _issuer(raw: RawIdentifier, scheme: Scheme, *, source: str) -> str:
    if scheme is Scheme.TAX_ID_DE:
        return "DE"
    if scheme is Scheme.CUSTOMER_NUMBER:
        return (raw.issuer or source).strip()
    if scheme in _COUNTRY_ISSUED:
        try:
            return str(pycountry.countries.lookup((raw.issuer or "").strip()).alpha_2)
        except LookupError:
            raise InvalidInput(
                f"An identifier of scheme {scheme} needs its issuing country (ISO 3166 code).",
                field="identifiers.issuer",
            ) from None
    return (raw.issuer or "").strip()


def normalise_identifiers(
    raws: tuple[RawIdentifier, ...], *, source: str, report: QualityReport
) -> tuple[tuple[Identifier, ...], tuple[tuple[str, str], ...]]:
    """The valid identifiers, and the invalid ones as received ((field, raw value) pairs).

    An unknown scheme or a missing issuing country breaks the API contract
    (:class:`InvalidInput`); a value that fails its checksum is a WARNING.
    """
    if len(raws) > MAX_IDENTIFIERS:
        raise InvalidInput(
            f"At most {MAX_IDENTIFIERS} identifiers per record.", field="identifiers"
        )
    valid: set[Identifier] = set()
    kept_raw: list[tuple[str, str]] = []
    for index, raw in enumerate(raws):
        try:
            scheme = Scheme(raw.scheme)
        except ValueError:
            known = ", ".join(Scheme)
            raise InvalidInput(
                f"Identifier scheme must be one of {known}.", field="identifiers.scheme"
            ) from None
        if len(raw.value) > MAX_VALUE or len(raw.issuer or "") > MAX_VALUE:
            raise InvalidInput(
                f"An identifier's value and issuer are at most {MAX_VALUE} characters.",
                field="identifiers.value",
            )
        issuer = _issuer(raw, scheme, source=source)
        value = _compact(raw.value)
        if scheme is Scheme.VAT_ID:
            checked = _stdnum(vat.validate)(value)
            issuer = checked[:2] if checked else issuer
        elif scheme is Scheme.LOYALTY_CARD:
            checked = _loyalty(value)
        else:
            check = _CHECKSUMS.get((scheme, issuer))
            checked = check(value) if check else value
        field = f"identifiers[{index}]"
        if not checked or len(checked) < _MIN_LENGTH:
            report.issue(field, "INVALID", Severity.WARNING)
            kept_raw.append((field, raw.value))
            continue
        if checked != raw.value:
            report.fix(field, "IDENTIFIER_COMPACTED")
        valid.add(Identifier(str(scheme), issuer, checked))
    return tuple(sorted(valid)), tuple(kept_raw)
