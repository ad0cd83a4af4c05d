"""E-mail addresses and phone numbers, with the well-kept libraries for each."""

from __future__ import annotations

from dataclasses import dataclass

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from phonenumbers import NumberParseException, PhoneNumberFormat, PhoneNumberType

from mdm_profile.domain.quality.report import QualityReport, Severity

# Domains of mail providers for everyone: sharing one says nothing about a family
# (household evidence) or a company (company domains).
MASS_MAIL_DOMAINS = frozenset({
    "1und1.de", "aol.com", "aol.de", "arcor.de", "email.de", "freenet.de", "gmail.com",
    "gmx.at", "gmx.ch", "gmx.com", "gmx.de", "gmx.net", "googlemail.com", "hotmail.com",
    "hotmail.de", "icloud.com", "kabelmail.de", "live.com", "live.de", "mac.com", "mail.de",
    "mail.ru", "mailbox.org", "me.com", "magenta.de", "msn.com", "online.de", "outlook.com",
    "outlook.de", "posteo.de", "proton.me", "protonmail.com", "t-online.de", "tutanota.com",
    "tutanota.de", "unitybox.de", "vodafone.de", "web.de", "yahoo.com", "yahoo.de",
    "yandex.ru", "ymail.com",
})  # fmt: skip


@dataclass(frozen=True)
class Phone:
    e164: str
    kind: str  # MOBILE, FIXED_LINE, VOIP, ... as libphonenumber classifies it


def normalise_email(raw: str, *, report: QualityReport) -> str | None:
    """Syntax-checked, domain lower-cased; ``None`` (with a WARNING) if unusable."""
    value = raw.strip()
    try:
        # Syntax only: deliverability needs DNS, which ingestion must not depend on.
        normalised = validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError:
        # The library's message repeats the address; the report must not.
        report.issue("email", "INVALID", Severity.WARNING)
        return None
    if normalised != raw:
        report.fix("email", "EMAIL_NORMALISED")
    return normalised


_KINDS = {
    PhoneNumberType.MOBILE: "MOBILE",
    PhoneNumberType.FIXED_LINE: "FIXED_LINE",
    PhoneNumberType.FIXED_LINE_OR_MOBILE: "FIXED_LINE_OR_MOBILE",
    PhoneNumberType.VOIP: "VOIP",
    PhoneNumberType.TOLL_FREE: "TOLL_FREE",
}


def normalise_phone(raw: str, *, region: str | None, report: QualityReport) -> Phone | None:
    """E.164 (``+4930123456``); national numbers are read in ``region`` (ISO alpha-2)."""
    try:
        parsed = phonenumbers.parse(raw, region or "DE")
    except NumberParseException:
        report.issue("phone", "UNPARSEABLE", Severity.WARNING)
        return None
    # A number is valid exactly when libphonenumber can type it (``is_valid_number``
    # is the same check); typing it once saves a second pass over the region's patterns.
    number_type = phonenumbers.number_type(parsed)
    if number_type == PhoneNumberType.UNKNOWN:
        report.issue("phone", "INVALID", Severity.WARNING)
        return None
    e164 = phonenumbers.format_number(parsed, PhoneNumberFormat.E164)
    if e164 != raw:
        report.fix("phone", "PHONE_E164")
    if region is None and not raw.strip().startswith(("+", "00")):
        report.issue("phone", "REGION_ASSUMED", Severity.INFO, "read as a German number")
    kind = _KINDS.get(number_type, "OTHER")
    return Phone(e164=e164, kind=kind)
