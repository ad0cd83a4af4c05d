"""Company comparisons and guards.

Levels run from "agrees exactly" to "differs"; ``None`` where a side does not know
the value. What identifies a company legally (register entry, VAT id, LEI) is strong
evidence when it agrees; when two valid values disagree, the pair is two legal
entities, and a guard vetoes it whatever the rest says, as does a branch met with its
head office or another branch: a branch shares its head office's register entry, VAT
id and domain, but it is not the same customer.
"""

from __future__ import annotations

import jellyfish

from mdm_matching.domain.engine.companies.features import CompanyRecord
from mdm_matching.domain.engine.comparisons import ADDRESS, CLOSE, Comparison, Vector, address_level
from mdm_matching.domain.engine.edits import within_one_edit

NAME = Comparison(
    "name",
    (
        "exact",
        "same words, other order",
        "one typo or close (Jaro-Winkler >= 0.92)",
        "one name's words within the other's",
        "different",
    ),
)
REGISTER = Comparison("registerEntry", ("same entry", "number one typo apart", "different"))
VAT = Comparison("vatId", ("same", "different"))
LEI = Comparison("lei", ("same", "different"))
DOMAIN = Comparison("domain", ("shared domain", "different"))
LEGAL_FORM = Comparison("legalForm", ("same", "different"))
COMPANY_COMPARISONS: tuple[Comparison, ...] = (
    NAME,
    REGISTER,
    VAT,
    LEI,
    DOMAIN,
    ADDRESS,
    LEGAL_FORM,
)

REGISTERS_DIFFER = "register entries differ"
VAT_IDS_DIFFER = "VAT ids differ"
LEIS_DIFFER = "LEIs differ"
BRANCH_AND_HEAD = "a branch and its head office"
BRANCHES_DIFFER = "branches at different places"
COMPANY_GUARDS = (REGISTERS_DIFFER, VAT_IDS_DIFFER, LEIS_DIFFER, BRANCH_AND_HEAD, BRANCHES_DIFFER)
# Guards that settle a pair without a steward: a name that says "branch" (of another
# place) is no mistake of a source, the branch is not the customer its head office is.
BRANCH_GUARDS = frozenset({BRANCH_AND_HEAD, BRANCHES_DIFFER})


def name_level(x: str, y: str) -> int | None:
    if not x or not y:
        return None
    if x == y:
        return 0
    a, b = x.split(), y.split()
    if sorted(a) == sorted(b):
        return 1
    if within_one_edit(x, y) or _one_word_mistyped(a, b):
        return 2
    shorter, longer = (set(a), set(b)) if len(a) <= len(b) else (set(b), set(a))
    if shorter <= longer:
        return 3
    return NAME.differs


def _one_word_mistyped(a: list[str], b: list[str]) -> bool:
    """All words the same but one, and that one mistyped. Company names are made of
    few common words: Jaro-Winkler over the whole name calls "mueller bau nord" and
    "mueller bau sued" (two companies) close."""
    if len(a) != len(b):
        return False
    differing = [(x, y) for x, y in zip(a, b, strict=True) if x != y]
    if len(differing) != 1:
        return False
    x, y = differing[0]
    return within_one_edit(x, y) or (
        min(len(x), len(y)) >= 5 and jellyfish.jaro_winkler_similarity(x, y) >= CLOSE
    )


def register_level(a: CompanyRecord, b: CompanyRecord) -> int | None:
    """Numbers are counted per court: the same number at two courts is two entries."""
    if not a.register or not b.register:
        return None
    courts_agree = not a.court or not b.court or a.court == b.court
    if a.register == b.register and courts_agree:
        return 0
    kind_a, number_a = a.register.split("|", 1)
    kind_b, number_b = b.register.split("|", 1)
    if kind_a == kind_b and courts_agree and within_one_edit(number_a, number_b):
        return 1
    return REGISTER.differs


def _same(x: str | None, y: str | None) -> int | None:
    if not x or not y:
        return None
    return 0 if x == y else 1


def domain_level(a: CompanyRecord, b: CompanyRecord) -> int | None:
    if not a.domains or not b.domains:
        return None
    return 0 if set(a.domains) & set(b.domains) else DOMAIN.differs


def compare(a: CompanyRecord, b: CompanyRecord) -> Vector:
    """The comparison vector of a pair, in the order of :data:`COMPANY_COMPARISONS`."""
    return (
        name_level(a.name, b.name),
        register_level(a, b),
        _same(a.vat, b.vat),
        _same(a.lei, b.lei),
        domain_level(a, b),
        address_level(a, b),
        _same(a.legal_form, b.legal_form),
    )


def conflicts_of(vector: Vector, a: CompanyRecord, b: CompanyRecord) -> tuple[str, ...]:
    """The guards a pair violates (``vector``: ``compare(a, b)``)."""
    found = []
    if vector[1] == REGISTER.differs:
        found.append(REGISTERS_DIFFER)
    if vector[2] == VAT.differs:
        found.append(VAT_IDS_DIFFER)
    if vector[3] == LEI.differs:
        found.append(LEIS_DIFFER)
    if a.is_branch != b.is_branch:
        found.append(BRANCH_AND_HEAD)
    elif a.is_branch and not within_one_edit(a.branch or "", b.branch or ""):
        found.append(BRANCHES_DIFFER)
    return tuple(found)
