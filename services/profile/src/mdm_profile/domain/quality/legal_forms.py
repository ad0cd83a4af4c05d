"""Legal forms of companies, recognised in the form a source writes them, and company
names made comparable.

"Müller Maschinenbau G.m.b.H.", "MUELLER MASCHINENBAU GMBH" and "Müller Maschinenbau
Gesellschaft mit beschränkter Haftung" are one name with one legal form: the form is
told apart from the name and written as the register writes it ("GmbH"), and the
name's comparison key folds umlauts, case and punctuation ("mueller maschinenbau").

The table is our own: cleanco (the package that strips legal terms from names) has no
KG, UG (haftungsbeschränkt), e.K. or SE among its German terms and says which terms it
found, not which form they name, and a register spelling is what stewards read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mdm_common.text import fold

_AND = r"\s*(?:&|\+|und|u\.)\s*"
_CO = r"co\.?\s*"
_GMBH = r"g\.?\s*m\.?\s*b\.?\s*h\.?"
_HB = r"haftungsbeschr(?:ä|ae|a)nkt"

# (how the register writes it, the patterns a source writes it in), longest first
# where one form ends like another ("GmbH & Co. KG" before "KG").
_FORMS: tuple[tuple[str, str], ...] = (
    ("GmbH & Co. KGaA", rf"{_GMBH}{_AND}{_CO}k\.?\s*g\.?\s*a\.?\s*a\.?"),
    ("AG & Co. KGaA", rf"ag{_AND}{_CO}k\.?\s*g\.?\s*a\.?\s*a\.?"),
    ("SE & Co. KGaA", rf"se{_AND}{_CO}k\.?\s*g\.?\s*a\.?\s*a\.?"),
    ("UG (haftungsbeschränkt) & Co. KG", rf"ug\s*\(?\s*{_HB}\s*\)?{_AND}{_CO}k\.?\s*g\.?"),
    ("GmbH & Co. KG", rf"{_GMBH}{_AND}{_CO}k\.?\s*g\.?"),
    ("AG & Co. KG", rf"ag{_AND}{_CO}k\.?\s*g\.?"),
    ("UG (haftungsbeschränkt)", rf"ug\s*\(\s*{_HB}\s*\)|ug\s+{_HB}|ug"),
    ("gGmbH", rf"g{_GMBH}|gemeinnützige\s+gmbh"),
    (
        "GmbH",
        rf"{_GMBH}|mbh|ges\.?\s*m\.?\s*b\.?\s*h\.?|gesellschaft mit beschr(?:ä|ae|a)nkter haftung",
    ),
    ("KGaA", r"k\.?\s*g\.?\s*a\.?\s*a\.?|kommanditgesellschaft auf aktien"),
    ("AG", r"a\.?\s*g\.?|aktiengesellschaft"),
    ("SE", r"s\.?\s*e\.?|societas europaea"),
    ("KG", r"k\.?\s*g\.?|kommanditgesellschaft"),
    ("OHG", r"o\.?\s*h\.?\s*g\.?|offene handelsgesellschaft"),
    ("e.K.", r"e\.\s*k\.|e\.?\s*kfm\.?|e\.?\s*kfr\.?|ek|eingetragene[rs]?\s+kauf(?:mann|frau)"),
    ("eG", r"e\.\s*g\.|eg|eingetragene genossenschaft"),
    ("e.V.", r"e\.\s*v\.|ev|eingetragener verein"),
    ("PartG mbB", r"partg\s*mbb|partnerschaftsgesellschaft mbb"),
    ("PartG", r"partg|partnerschaftsgesellschaft"),
    ("GbR", r"g\.?\s*b\.?\s*r\.?|gesellschaft bürgerlichen rechts"),
    ("PLC", r"p\.?\s*l\.?\s*c\.?|public limited company"),
    ("Ltd", r"ltd\.?|limited"),
    ("LLC", r"l\.?\s*l\.?\s*c\.?"),
    ("LLP", r"l\.?\s*l\.?\s*p\.?"),
    ("Inc.", r"inc\.?|incorporated"),
    ("Corp.", r"corp\.?|corporation"),
    ("S.à r.l.", r"s\.?\s*(?:à|a)\s*r\.?\s*l\.?|sarl"),
    ("SAS", r"s\.?\s*a\.?\s*s\.?"),
    ("S.p.A.", r"s\.?\s*p\.?\s*a\.?"),
    ("S.r.l.", r"s\.?\s*r\.?\s*l\.?"),
    ("S.L.", r"s\.\s*l\.|sl"),
    ("S.A.", r"s\.\s*a\.|sa"),
    ("B.V.", r"b\.?\s*v\.?"),
    ("N.V.", r"n\.?\s*v\.?"),
    ("Sp. z o.o.", r"sp\.?\s*z\s*o\.?\s*o\.?"),
    ("s.r.o.", r"s\.\s*r\.\s*o\.|sro"),
    ("A/S", r"a/s"),
    ("ApS", r"aps"),
    ("AB", r"ab"),
    ("Oy", r"oy|oyj"),
)
LEGAL_FORMS = tuple(form for form, _ in _FORMS)

# A form at the end of a name, after a space or a comma ("Müller GmbH", "Müller,
# GmbH"); the name must keep something before it.
_AT_END = [
    (form, re.compile(rf"(?P<name>.*?\S)[\s,]+(?:{pattern})\s*$", re.IGNORECASE))
    for form, pattern in _FORMS
]
_WHOLE = [(form, re.compile(rf"\s*(?:{pattern})\s*", re.IGNORECASE)) for form, pattern in _FORMS]
# Words that join a name's parts and are written in either form: "Müller & Söhne".
_JOINERS = frozenset({"und", "and"})


@dataclass(frozen=True)
class CompanyName:
    name: str  # the name without its legal form, spaces collapsed
    legal_form: str | None  # as the register writes it


def split_legal_form(raw: str) -> CompanyName:
    """The name and the legal form at its end, if it has one."""
    text = " ".join(raw.split())
    for form, pattern in _AT_END:
        found = pattern.fullmatch(text)
        if found:
            return CompanyName(found["name"].rstrip(" ,"), form)
    return CompanyName(text, None)


def legal_form_of(raw: str) -> str | None:
    """A legal form written alone ("G.m.b.H.", "gmbh & co kg"), as the register writes
    it; ``None`` if it is none of :data:`LEGAL_FORMS`."""
    text = " ".join(raw.split())
    return next((form for form, pattern in _WHOLE if pattern.fullmatch(text)), None)


def name_key(name: str) -> str:
    """A company name's comparison key, without its legal form: ``"Müller & Söhne
    G.m.b.H."`` -> ``"mueller soehne"``."""
    words = fold(split_legal_form(name).name).split()
    return " ".join(word for word in words if word not in _JOINERS)


def display_name(company: CompanyName) -> str:
    """The name with its legal form as the register writes it."""
    return f"{company.name} {company.legal_form}" if company.legal_form else company.name
