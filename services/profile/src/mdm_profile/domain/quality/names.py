"""Person names: split full names, keep titles and suffixes apart, never guess.

Written here rather than with ``nameparser``: that library keeps its title and
suffix lists in module-global state tuned for English names ("Dipl.-Ing.",
"jun.", "Prof. Dr. med." or "Müller, Anna" with particles like "von der" need
patching it for every process), and it infers nothing we could not state in a
few tables. A salutation is taken only when the source sends one; it is never
derived from a first name.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from mdm_profile.domain.quality.report import QualityReport, Severity

# Academic and professional titles in their usual spelling, longest first where one
# begins another. Matched case-insensitively, token by token, at the start of a name;
# kept in this spelling ("PROF. DR." becomes "Prof. Dr.").
_TITLES = (
    "Prof. Dr.-Ing.", "Prof. Dr. med.", "Prof. Dr.", "Prof.", "Priv.-Doz.",
    "Dr. med. dent.", "Dr. med. vet.", "Dr. med.", "Dr. rer. nat.", "Dr. rer. pol.",
    "Dr. phil.", "Dr. jur.", "Dr.-Ing.", "Dr. h.c.", "Dr.", "Dres.",
    "Dipl.-Ing.", "Dipl.-Kfm.", "Dipl.-Kffr.", "Dipl.-Psych.", "Dipl.-Inf.", "Dipl.-Math.",
    "Dipl.-Volksw.", "Dipl.-Betriebsw.", "Mag.", "Ing.", "B.Sc.", "M.Sc.", "B.A.", "M.A.",
    "MBA", "LL.M.", "PhD", "Ph.D.",
)  # fmt: skip
# Each title as the lower-case tokens it is matched against, split once: names are
# parsed for every ingested record.
_TITLE_WORDS = tuple((title, title.lower().split(" ")) for title in _TITLES)
_TITLE_LENGTH = max(len(words) for _, words in _TITLE_WORDS)
_SUFFIXES = {"jun.": "jun.", "jr.": "jr.", "sen.": "sen.", "sr.": "sr.", "ii": "II",
             "iii": "III", "iv": "IV"}  # fmt: skip
_SALUTATIONS = {
    "herr": "Herr", "frau": "Frau", "hr.": "Herr", "fr.": "Frau", "mr": "Mr", "mr.": "Mr",
    "mrs": "Mrs", "mrs.": "Mrs", "ms": "Ms", "ms.": "Ms", "divers": "Divers",
}  # fmt: skip
# Name particles that belong to the family name ("Ludwig van Beethoven").
_PARTICLES = {"von", "van", "de", "der", "den", "zu", "zum", "zur", "vom", "di", "da", "del",
              "della", "le", "la", "ten", "ter", "af", "av", "y"}  # fmt: skip

_SPACES = re.compile(r"\s+")
# Capitalise after hyphens and apostrophes too: "müller-lüdenscheidt", "o'brien" (also with U+2019).
_AFTER_BREAK = re.compile(r"(^|[-'\u2019])(\w)")
# "Dr.med." or "Prof.Dr." written without spaces: split after each dot but the last.
_GLUED_DOTS = re.compile(r"(?<=\.)(?=[A-Za-zÄÖÜäöü])")


@dataclass(frozen=True)
class PersonName:
    given: str
    family: str
    titles: tuple[str, ...] = ()
    suffix: str | None = None
    salutation: str | None = None


def _clean(text: str | None) -> str:
    # NFKC: compatibility forms (ligatures, full-width letters, "ŉ") become the
    # letters they stand for, so case fixing is stable.
    return _SPACES.sub(" ", unicodedata.normalize("NFKC", text or "")).strip(" ,")


def _fix_case(part: str) -> str:
    """Title-case a name written all upper or all lower; leave mixed case alone.

    Letters whose case mapping is not reversible (e.g. Greek with iota subscript)
    would flip on every pass; such a name is left exactly as the source wrote it.
    """
    fixed = _fix_case_once(part)
    return fixed if _fix_case_once(fixed) == fixed else part


def _fix_case_once(part: str) -> str:
    if not part or not (part.isupper() or part.islower()):
        return part
    words = []
    parts = part.split(" ")
    for index, word in enumerate(parts):
        # Particles stay lower case ("VON DER HEIDE" -> "von der Heide"), unless a
        # particle is all there is ("De" as a family name on its own).
        if word.lower() in _PARTICLES and index < len(parts) - 1:
            words.append(word.lower())
            continue
        words.append(_AFTER_BREAK.sub(lambda m: m.group(1) + m.group(2).upper(), word.lower()))
    # NFC again: lower-casing "İ" yields "i" plus a combining dot.
    return unicodedata.normalize("NFC", " ".join(words))


def _take_prefixes(tokens: list[str]) -> tuple[str | None, list[str], list[str]]:
    salutation = None
    titles: list[str] = []
    while tokens:
        head = tokens[0].lower()
        if head in _SALUTATIONS and salutation is None and not titles:
            salutation = _SALUTATIONS[head]
            tokens = tokens[1:]
            continue
        lowered = [t.lower() for t in tokens[:_TITLE_LENGTH]]
        for title, words in _TITLE_WORDS:
            if lowered[: len(words)] == words:
                titles.append(title)
                tokens = tokens[len(words) :]
                break
        else:
            break
    return salutation, titles, tokens


def _take_suffix(tokens: list[str]) -> tuple[str | None, list[str]]:
    if len(tokens) > 1 and tokens[-1].lower() in _SUFFIXES:
        return _SUFFIXES[tokens[-1].lower()], tokens[:-1]
    return None, tokens


def _tokens(text: str) -> list[str]:
    return _GLUED_DOTS.sub(" ", _clean(text)).split()


@dataclass(frozen=True)
class _Parts:
    given: str
    family: str
    titles: tuple[str, ...] = ()
    suffix: str | None = None
    salutation: str | None = None


def _split_full(full: str) -> _Parts:
    if "," in full:  # "Müller, Anna" (family first)
        family_part, given_part = (p.strip() for p in full.split(",", 1))
        salutation, titles, given_tokens = _take_prefixes(_tokens(given_part))
        suffix, family_tokens = _take_suffix(_tokens(family_part))
        if suffix is None:
            suffix, given_tokens = _take_suffix(given_tokens)
    else:
        salutation, titles, rest = _take_prefixes(_tokens(full))
        suffix, rest = _take_suffix(rest)
        split = len(rest) - 1
        # Particles before the last word belong to the family name.
        while split > 1 and rest[split - 1].lower() in _PARTICLES:
            split -= 1
        given_tokens, family_tokens = rest[:split], rest[split:]
    return _Parts(
        " ".join(given_tokens), " ".join(family_tokens), tuple(titles), suffix, salutation
    )


def _split_fields(given: str, family: str) -> _Parts:
    # Titles and suffixes also hide in separate fields: "Dr. Anna" / "Meier jun.".
    salutation, titles, given_tokens = _take_prefixes(_tokens(given))
    suffix, family_tokens = _take_suffix(_tokens(family))
    return _Parts(
        " ".join(given_tokens) if titles or salutation else given,
        " ".join(family_tokens) if suffix else family,
        tuple(titles),
        suffix,
        salutation,
    )


def parse_name(
    *,
    full: str | None = None,
    given: str | None = None,
    family: str | None = None,
    salutation: str | None = None,
    report: QualityReport,
) -> PersonName:
    """Parse what a source sent: separate fields, a full name, or both (fields win)."""
    given_in, family_in, full_in = _clean(given), _clean(family), _clean(full)
    if not given_in and not family_in and full_in:
        parts = _split_full(full_in)
        report.fix("name", "NAME_SPLIT")
    else:
        parts = _split_fields(given_in, family_in)
    if parts.titles:
        report.fix("titles", "TITLE_EXTRACTED")
    if parts.suffix:
        report.fix("suffix", "SUFFIX_EXTRACTED")

    fixed_given, fixed_family = _fix_case(parts.given), _fix_case(parts.family)
    if (fixed_given, fixed_family) != (parts.given, parts.family):
        report.fix("name", "CASE_FIXED")

    explicit = _SALUTATIONS.get(_clean(salutation).lower()) if salutation else None
    if salutation and explicit is None:
        report.issue("salutation", "SALUTATION_UNKNOWN", Severity.WARNING)
    if not fixed_family:
        report.issue("familyName", "MISSING", Severity.WARNING)
    if not fixed_given:
        report.issue("givenName", "MISSING", Severity.WARNING)
    if explicit is None and parts.salutation is None:
        report.issue("salutation", "MISSING", Severity.INFO, "not derived from the first name")

    return PersonName(
        given=fixed_given,
        family=fixed_family,
        titles=parts.titles,
        suffix=parts.suffix,
        salutation=explicit or parts.salutation,
    )
