"""A person's golden profile (the foundation slice: name and e-mail)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from email_validator import EmailNotValidError, validate_email

from mdm_common.errors import InvalidInput

MAX_NAME_LENGTH = 200


@dataclass(frozen=True)
class Person:
    id: str
    given_name: str
    family_name: str
    email: str | None
    created_at: datetime


@dataclass(frozen=True)
class PersonDraft:
    """What a caller submits; :meth:`validated` returns a cleaned copy or raises."""

    given_name: str
    family_name: str
    email: str | None = None

    def validated(self) -> PersonDraft:
        return PersonDraft(
            given_name=_name(self.given_name, field="givenName"),
            family_name=_name(self.family_name, field="familyName"),
            email=_email(self.email) if self.email is not None else None,
        )


def _name(value: str, *, field: str) -> str:
    cleaned = " ".join(value.split())
    if not cleaned:
        raise InvalidInput(f"{field} must not be empty.", field=field)
    if len(cleaned) > MAX_NAME_LENGTH:
        raise InvalidInput(f"{field} is longer than {MAX_NAME_LENGTH} characters.", field=field)
    if any(not ch.isprintable() for ch in cleaned):
        raise InvalidInput(f"{field} contains control characters.", field=field)
    return cleaned


def _email(value: str) -> str:
    try:
        # Syntax only: deliverability needs DNS, which ingestion must not depend on.
        return validate_email(value.strip(), check_deliverability=False).normalized
    except EmailNotValidError as exc:
        # The library's message repeats the address; ours must not (no personal data).
        raise InvalidInput("email is not a valid e-mail address.", field="email") from exc
