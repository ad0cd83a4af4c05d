"""What identifies a company: its register entry, VAT id, LEI, web domain, industry.

- **Register entry** (Handelsregister and its kin): the court that keeps it, the
  register (HRA, HRB, GnR, PR, VR, GsR) and the number, with the letter some courts
  append ("HRB 12345 B" in Berlin). "Amtsgericht München HRB 123456", "HRB123456,
  AG München" and "München, HRB 123 456" are one entry. The number alone repeats
  from court to court; with the court it is one company.
- **VAT id** (USt-IdNr.) and **LEI** (ISO 17442): compacted and checked with
  python-stdnum; a value that fails is kept raw and flagged.
- **Domain**: the host of the website ("https://www.mueller-maschinenbau.de/kontakt"
  -> "mueller-maschinenbau.de") and of business e-mail addresses; a mass mail
  provider's domain (web.de, gmail.com) says nothing about a company.
- **Industry code**: a WZ 2008 / NACE code ("62.01", "C 28.41"), written as "62.01".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from stdnum import lei
from stdnum.eu import vat
from stdnum.exceptions import ValidationError

from mdm_common.text import fold
from mdm_profile.domain.quality.contact import MASS_MAIL_DOMAINS
from mdm_profile.domain.quality.report import QualityReport, Severity

REGISTERS = ("HRA", "HRB", "GnR", "PR", "VR", "GsR")
_REGISTER = "|".join(REGISTERS)
_ENTRY = re.compile(
    rf"(?<![A-Za-z])(?P<register>{_REGISTER})\s*\.?\s*(?:nr\.?\s*)?"
    r"(?P<number>\d[\d ]{0,8}\d|\d)(?:\s*(?P<suffix>[A-Z]{1,2}))?(?![\w])",
    re.IGNORECASE,
)
_COURT_WORDS = re.compile(r"\b(?:amtsgericht|registergericht|ag|register|court)\b\.?", re.I)
_REGISTER_CASE = {r.casefold(): r for r in REGISTERS}
_HOST = re.compile(r"(?=.{4,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}")
_INDUSTRY = re.compile(r"(?:[A-U]\s*)?(?P<code>\d{2}(?:\.\d{1,2}(?:\.\d)?)?)", re.IGNORECASE)


@dataclass(frozen=True)
class RegisterEntry:
    court: str | None  # as written, spaces collapsed ("München"); None if not given
    register: str  # one of REGISTERS
    number: str  # digits, then the court's letter if any ("12345 B")

    @property
    def court_key(self) -> str | None:
        return fold(self.court) if self.court else None

    def __str__(self) -> str:
        entry = f"{self.register} {self.number}"
        return f"{entry}, {self.court}" if self.court else entry


def parse_register_entry(
    number: str | None, court: str | None, *, report: QualityReport
) -> RegisterEntry | None:
    """The entry in ``number`` (which may name the court too); ``court`` where it
    does not. ``None`` with a WARNING if no register and number can be read."""
    if not number or not number.strip():
        return None
    found = _ENTRY.search(number)
    if found is None:
        report.issue("registryNumber", "INVALID", Severity.WARNING, "no register and number")
        return None
    named = _court(number[: found.start()] + " " + number[found.end() :])
    given = _court(court)
    if given and named and fold(given) != fold(named):
        report.issue("registryCourt", "CONFLICT", Severity.WARNING, "the number names another")
    digits = found["number"].replace(" ", "")
    suffix = (found["suffix"] or "").upper()
    entry = RegisterEntry(
        court=given or named,
        register=_REGISTER_CASE[found["register"].casefold()],
        number=f"{digits} {suffix}" if suffix else digits,
    )
    if entry.court is None:
        report.issue("registryCourt", "MISSING", Severity.INFO, "the number alone may repeat")
    if str(entry) != number.strip():
        report.fix("registryNumber", "REGISTER_ENTRY_NORMALISED")
    return entry


def _court(text: str | None) -> str | None:
    """The court's place, without "Amtsgericht" and the like."""
    return " ".join(_COURT_WORDS.sub(" ", text or "").replace(",", " ").split()) or None


def normalise_vat_id(raw: str, *, report: QualityReport) -> str | None:
    """The compact EU VAT id ("DE136695976") if its checksum holds."""
    try:
        value: str = vat.validate(raw)
    except ValidationError:
        report.issue("vatId", "INVALID", Severity.WARNING)
        return None
    if value != raw:
        report.fix("vatId", "IDENTIFIER_COMPACTED")
    return value


def normalise_lei(raw: str, *, report: QualityReport) -> str | None:
    """The 20-character LEI if its check digits hold."""
    try:
        value: str = lei.validate(raw)
    except ValidationError:
        report.issue("lei", "INVALID", Severity.WARNING)
        return None
    if value != raw:
        report.fix("lei", "IDENTIFIER_COMPACTED")
    return value


def website_domain(raw: str, *, report: QualityReport) -> str | None:
    """The website's host without "www.", lower-case, in ASCII (IDNA)."""
    text = raw.strip()
    host = urlsplit(text if "//" in text else f"//{text}").hostname or ""
    try:
        host = host.encode("idna").decode("ascii").lower()
    except UnicodeError:
        host = ""
    host = host.removeprefix("www.")
    if not _HOST.fullmatch(host):
        report.issue("website", "INVALID", Severity.WARNING)
        return None
    if host != text:
        report.fix("website", "DOMAIN_FROM_WEBSITE")
    return host


def email_domain(email: str | None) -> str | None:
    """The domain of a (normalised) business address; ``None`` for a mass provider's."""
    if not email or "@" not in email:
        return None
    domain = email.rsplit("@", 1)[1].lower()
    return None if domain in MASS_MAIL_DOMAINS else domain


def normalise_industry_code(raw: str, *, report: QualityReport) -> str | None:
    """A WZ 2008 / NACE code without its section letter ("C 28.41" -> "28.41")."""
    found = _INDUSTRY.fullmatch(raw.strip())
    if found is None:
        report.issue("industryCode", "INVALID", Severity.WARNING)
        return None
    return found["code"]
