"""Why two persons at one address are taken for one household: evidence, not a guess.

Living at the same normalised address is the precondition, never enough by itself: a
flat share or an apartment block puts strangers at one address. A pair of residents
forms a household link only when the address comes with at least one more sign:

- ``SAME_FAMILY_NAME``: the folded family names are equal;
- ``DOUBLE_NAME``: one family name is a part of the other's double name
  ("Schmidt" and "Müller-Schmidt");
- ``PREVIOUS_NAME``: a source record of one carries a family name (or a part of a
  double name) that is the other's family name: a name changed by marriage;
- ``SHARED_LANDLINE``: the same fixed-line number (E.164);
- ``FAMILY_EMAIL_DOMAIN``: e-mail addresses at the same private domain (never at a
  mass provider such as web.de or gmail.com);
- ``SHARED_MOBILE``: the same mobile number; weaker, since a mobile belongs to a
  person rather than a home, and not enough alone.

Each sign has a weight; a pair's confidence is ``1 - prod(1 - weight)`` (independent
signs), and a pair is linked at :data:`LINK_CONFIDENCE` or more. At a crowded address
(an apartment block: many different family names) names are common enough between
strangers that name signs count half: namesakes there need a shared landline, a family
domain or a mobile as well.

Values are compared only here, in memory; what is stored and shown are the codes.
"""

from __future__ import annotations

import itertools
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum

from mdm_profile.domain.quality.contact import MASS_MAIL_DOMAINS
from mdm_profile.domain.quality.folding import fold


class Evidence(StrEnum):
    SAME_FAMILY_NAME = "SAME_FAMILY_NAME"
    DOUBLE_NAME = "DOUBLE_NAME"
    PREVIOUS_NAME = "PREVIOUS_NAME"
    SHARED_LANDLINE = "SHARED_LANDLINE"
    FAMILY_EMAIL_DOMAIN = "FAMILY_EMAIL_DOMAIN"
    SHARED_MOBILE = "SHARED_MOBILE"


WEIGHTS: dict[Evidence, float] = {
    Evidence.SAME_FAMILY_NAME: 0.8,
    Evidence.DOUBLE_NAME: 0.75,
    Evidence.PREVIOUS_NAME: 0.75,
    Evidence.SHARED_LANDLINE: 0.85,
    Evidence.FAMILY_EMAIL_DOMAIN: 0.75,
    Evidence.SHARED_MOBILE: 0.5,
}
NAME_EVIDENCE = frozenset({Evidence.SAME_FAMILY_NAME, Evidence.DOUBLE_NAME, Evidence.PREVIOUS_NAME})
# A pair with at least this confidence is linked; one weak sign (a shared mobile, or
# a name at a crowded address) stays below it.
LINK_CONFIDENCE = 0.7
# An address where this many different family names live is an apartment block.
CROWDED_FAMILY_NAMES = 5
CROWDED_NAME_FACTOR = 0.5

FIXED_LINE = "FIXED_LINE"
MOBILE = "MOBILE"


# Domains for examples and tests (RFC 2606, RFC 6761): a placeholder, not a family.
_PLACEHOLDER_DOMAINS = frozenset({"example.com", "example.net", "example.org"})
_PLACEHOLDER_SUFFIXES = (".example", ".invalid", ".localhost", ".test")
# A domain that residents of this many family names share at one address is an
# employer's or a placeholder, not a family's (a patchwork family has two or three).
DOMAIN_FAMILY_NAMES = 4


def family_domain(email: str | None) -> str | None:
    """The domain of an e-mail address if it may be a family's own, else None."""
    if not email or "@" not in email:
        return None
    domain = email.rsplit("@", 1)[1].strip().lower().rstrip(".")
    if not domain or "." not in domain or domain in MASS_MAIL_DOMAINS:
        return None
    if domain in _PLACEHOLDER_DOMAINS or domain.endswith(_PLACEHOLDER_SUFFIXES):
        return None
    return domain


def name_parts(family_name: str) -> frozenset[str]:
    """The folded parts of a double name ("Müller-Schmidt": mueller, schmidt); a
    simple name has none. Only a hyphen joins a double name: "von der Heide" is one."""
    if "-" not in family_name:
        return frozenset()
    return frozenset(p for p in (fold(part) for part in re.split(r"-+", family_name)) if p)


@dataclass(frozen=True)
class Resident:
    """What detection compares of one person at an address (values stay in memory)."""

    person_id: str
    family_name: str
    # Family names of the person's source records (including the golden one's source).
    record_family_names: tuple[str, ...] = ()
    phones: tuple[tuple[str, str], ...] = ()  # (E.164, kind)
    emails: tuple[str, ...] = ()

    @property
    def family_key(self) -> str:
        return fold(self.family_name)

    @property
    def previous_keys(self) -> frozenset[str]:
        """Other family names its records carry, and their double-name parts."""
        keys: set[str] = set()
        for name in self.record_family_names:
            folded = fold(name)
            if folded and folded != self.family_key:
                keys.add(folded)
                keys.update(name_parts(name))
        return frozenset(keys - {self.family_key})

    @property
    def landlines(self) -> frozenset[str]:
        return frozenset(e164 for e164, kind in self.phones if kind == FIXED_LINE)

    @property
    def mobiles(self) -> frozenset[str]:
        return frozenset(e164 for e164, kind in self.phones if kind != FIXED_LINE)

    @property
    def domains(self) -> frozenset[str]:
        return frozenset(d for d in (family_domain(e) for e in self.emails) if d)


@dataclass(frozen=True)
class Link:
    """Evidence that two residents live together, with its confidence."""

    first: str
    second: str
    evidence: frozenset[Evidence]
    confidence: float


@dataclass(frozen=True)
class _Facts:
    """A resident's comparison keys, computed once per detection run."""

    person_id: str
    family: str
    parts: frozenset[str]
    previous: frozenset[str]
    landlines: frozenset[str]
    mobiles: frozenset[str]
    domains: frozenset[str]
    names: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        names = {self.family, *self.parts, *self.previous} - {""}
        object.__setattr__(self, "names", frozenset(names))

    @classmethod
    def of(cls, resident: Resident) -> _Facts:
        return cls(
            resident.person_id,
            resident.family_key,
            name_parts(resident.family_name),
            resident.previous_keys,
            resident.landlines,
            resident.mobiles,
            resident.domains,
        )

    def blocking_keys(self) -> Iterable[str]:
        """Blocking keys: two residents are compared only if they share one."""
        yield from (f"n:{n}" for n in self.names)
        yield from (f"t:{t}" for t in self.landlines | self.mobiles)
        yield from (f"d:{d}" for d in self.domains)


def pair_evidence(a: Resident, b: Resident) -> frozenset[Evidence]:
    """The signs that ``a`` and ``b`` (at one address) live together."""
    return _evidence(_Facts.of(a), _Facts.of(b))


def _evidence(a: _Facts, b: _Facts) -> frozenset[Evidence]:
    found: set[Evidence] = set()
    if a.family and a.family == b.family:
        found.add(Evidence.SAME_FAMILY_NAME)
    elif (a.family and a.family in b.parts) or (b.family and b.family in a.parts):
        found.add(Evidence.DOUBLE_NAME)
    if (b.family and b.family in a.previous) or (a.family and a.family in b.previous):
        found.add(Evidence.PREVIOUS_NAME)
    if a.landlines & b.landlines:
        found.add(Evidence.SHARED_LANDLINE)
    if a.mobiles & b.mobiles:
        found.add(Evidence.SHARED_MOBILE)
    if a.domains & b.domains:
        found.add(Evidence.FAMILY_EMAIL_DOMAIN)
    return frozenset(found)


def confidence(evidence: Iterable[Evidence], *, crowded: bool = False) -> float:
    """``1 - prod(1 - weight)``; name signs count half at a crowded address."""
    doubt = 1.0
    for sign in evidence:
        weight = WEIGHTS[sign]
        if crowded and sign in NAME_EVIDENCE:
            weight *= CROWDED_NAME_FACTOR
        doubt *= 1.0 - weight
    return round(1.0 - doubt, 4)


def is_crowded(residents: Sequence[Resident]) -> bool:
    return len({r.family_key for r in residents if r.family_key}) >= CROWDED_FAMILY_NAMES


def _without_shared_domains(facts: list[_Facts]) -> list[_Facts]:
    """Drop domains that residents of many family names share (an employer's)."""
    names: dict[str, set[str]] = defaultdict(set)
    for fact in facts:
        for domain in fact.domains:
            names[domain].add(fact.family)
    common = {d for d, families in names.items() if len(families) >= DOMAIN_FAMILY_NAMES}
    if not common:
        return facts
    return [replace(f, domains=f.domains - common) for f in facts]


def links_at_address(
    residents: Sequence[Resident], *, address_alone: bool = False, crowded: bool | None = None
) -> list[Link]:
    """Every linked pair among the residents of one address.

    Only pairs sharing a name, a number or a private domain are compared, so a block of
    hundreds is not compared with itself pair by pair. ``address_alone`` links everyone
    at the address (for sources where an address is a home, e.g. a list of houses).
    ``crowded`` says whether the address is an apartment block when ``residents`` are
    only some of the people there (the candidates at a large address).
    """
    if address_alone:
        return [
            Link(a.person_id, b.person_id, frozenset(), 1.0)
            for a, b in itertools.combinations(residents, 2)
        ]
    if crowded is None:
        crowded = is_crowded(residents)
    facts = _without_shared_domains([_Facts.of(r) for r in residents])
    by_key: dict[str, list[int]] = defaultdict(list)
    for index, fact in enumerate(facts):
        for key in fact.blocking_keys():
            by_key[key].append(index)
    pairs = {pair for group in by_key.values() for pair in itertools.combinations(group, 2)}
    links = []
    for i, j in sorted(pairs):
        a, b = facts[i], facts[j]
        if a.person_id == b.person_id:
            continue
        evidence = _evidence(a, b)
        score = confidence(evidence, crowded=crowded)
        if score >= LINK_CONFIDENCE:
            links.append(Link(a.person_id, b.person_id, evidence, score))
    return links
