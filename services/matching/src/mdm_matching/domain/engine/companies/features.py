"""What the engine knows about one company: folded, comparable values.

Built from the profile's cleaned company (name key without the legal form, register
entry, VAT id, LEI, domains, address). A branch ("Müller Bau Niederlassung Köln")
shares its head office's legal entity, register entry, VAT id and domain: its name's
branch part is kept apart, so that the guard can tell the two apart.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import asdict, astuple, dataclass
from typing import Any

from mdm_common.text import fold
from mdm_matching.domain.engine.edits import within_one_edit
from mdm_matching.domain.engine.features import street_key

# Words that start a branch's part of a company name, folded ("Niederlassung Köln",
# "Zweigniederlassung Hamburg", "Filiale Nord").
BRANCH_WORDS = frozenset(
    {
        "niederlassung",
        "zweigniederlassung",
        "filiale",
        "zweigstelle",
        "betriebsstaette",
        "geschaeftsstelle",
        "standort",
        "vertriebsbuero",
        "aussenstelle",
    }
)


@dataclass(frozen=True, slots=True)
class CompanyRecord:
    """One company as the engine compares it. ``None`` (or empty) means unknown."""

    id: str
    name: str  # folded name key, legal form and branch part left out ("mueller bau")
    branch: str | None = None  # the branch part's place ("koeln"; "" for none named)
    legal_form: str | None = None
    register: str | None = None  # register and number ("HRB|12345 B")
    court: str | None = None  # folded register court
    vat: str | None = None
    lei: str | None = None
    domains: tuple[str, ...] = ()
    postal_code: str | None = None
    street: str | None = None
    house_number: str | None = None
    city: str | None = None

    @property
    def is_branch(self) -> bool:
        return self.branch is not None

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def from_json(cls, stored: str) -> CompanyRecord:
        data: dict[str, Any] = json.loads(stored)
        return cls(**data | {"domains": tuple(data.get("domains") or ())})


def company_fingerprint(record: CompanyRecord) -> str:
    """Changes exactly when a compared value changes: a steward's NOT_A_MATCH on two
    companies holds while both fingerprints stay the same."""
    values = ["" if v is None else str(v) for v in astuple(record)[1:]]
    return hashlib.sha256("\x1f".join(values).encode()).hexdigest()[:24]


def _branch_word(word: str) -> bool:
    """A branch word, also with one typo ("niederlasung"): a branch whose word was
    mistyped must not look like its head office."""
    return word in BRANCH_WORDS or (
        len(word) >= 7 and any(within_one_edit(word, known) for known in BRANCH_WORDS)
    )


# Branch words long enough to be found glued to a neighbour ("bauniederlassung",
# "niederlassungkoeln": a space lost in a source).
_GLUED = tuple(word for word in BRANCH_WORDS if len(word) >= 8)


def _unglued(words: list[str]) -> list[str]:
    found = []
    for word in words:
        glued = next((w for w in _GLUED if w in word), None)
        if glued is None or _branch_word(word):
            found.append(word)
            continue
        before, _, after = word.partition(glued)
        found += [part for part in (before, glued, after) if part]
    return found


def split_branch(name_key: str) -> tuple[str, str | None]:
    """``"mueller bau niederlassung koeln"`` -> ``("mueller bau", "koeln")``; a name
    without a branch word -> ``(name, None)``. The first word is never one: a company
    may be called "Filiale Schmidt"."""
    words = _unglued(fold(name_key).split())
    for i, word in enumerate(words[1:], start=1):
        if _branch_word(word):
            return " ".join(words[:i]), " ".join(words[i + 1 :])
    return " ".join(words), None


def make_company_record(
    id: str,  # noqa: A002 - the profile id
    *,
    name_key: str,
    legal_form: str | None = None,
    register: str | None = None,
    court: str | None = None,
    vat: str | None = None,
    lei: str | None = None,
    domains: Iterable[str] = (),
    postal_code: str | None = None,
    street: str | None = None,
    house_number: str | None = None,
    city: str | None = None,
) -> CompanyRecord:
    """``register``: register and number as the profile parsed them ("HRB 12345 B");
    the other values as the profile cleaned them."""
    name, branch = split_branch(name_key)
    return CompanyRecord(
        id=id,
        name=name,
        branch=branch,
        legal_form=legal_form or None,
        register="|".join(register.split(" ", 1)) if register else None,
        court=fold(court) or None if court else None,
        vat=vat.replace(" ", "").upper() if vat else None,
        lei=lei.replace(" ", "").upper() if lei else None,
        domains=tuple(sorted({d.lower() for d in domains if d})),
        postal_code=fold(postal_code or "").replace(" ", "") or None,
        street=street_key(street),
        house_number=fold(house_number or "").replace(" ", "") or None,
        city=fold(city or "") or None,
    )
