"""The purpose registry: what personal data is used for, on which legal basis.

Use cases run inside a transaction the caller owns and never commit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TypeVar

from mdm_common.contracts import DataCategory, Event
from mdm_common.errors import Conflict, InvalidInput, NotFound
from mdm_consent.domain.models import Channel, LegalBasis, NoticeVersion, Purpose
from mdm_consent.domain.stores import Stores

PURPOSE_CODE = re.compile(r"^[a-z][a-z0-9_.-]{1,63}$")
LANGUAGE = re.compile(r"^[a-z]{2}(-[A-Z]{2})?$")
DATA_CATEGORY = re.compile(r"^[a-z][a-z0-9_.-]{0,63}$")
MAX_NAME = 200
MAX_DESCRIPTION = 4000
MAX_NOTICE = 100_000
MAX_RETENTION_DAYS = 36_500
T = TypeVar("T")


def checked_code(code: str, *, field: str = "code") -> str:
    if not PURPOSE_CODE.match(code):
        raise InvalidInput(
            f"{field} must be a code of 2-64 lower-case letters, digits, '_', '.', '-'.",
            field=field,
        )
    return code


def checked_language(language: str, *, field: str = "language") -> str:
    if not LANGUAGE.match(language):
        raise InvalidInput(f"{field} must be a language code such as 'de' or 'de-AT'.",
                           field=field)  # fmt: skip
    return language


def _text(value: str, *, field: str, limit: int) -> str:
    value = value.strip()
    if not value or len(value) > limit:
        raise InvalidInput(f"{field} needs 1-{limit} characters.", field=field)
    return value


def checked_data_categories(categories: tuple[str, ...]) -> tuple[str, ...]:
    """The categories of personal data the platform really holds (Art. 30(1)(c)): a
    purpose names them from that list, so each binds real attributes (retention, exports)."""
    if not categories:
        raise InvalidInput("dataCategories needs one or more categories.", field="dataCategories")
    unknown = [c for c in categories if c not in DataCategory.DESCRIPTIONS]
    if unknown:
        raise InvalidInput(
            f"dataCategories names categories the platform does not hold: {', '.join(unknown)}; "
            f"known: {', '.join(DataCategory.DESCRIPTIONS)}.",
            field="dataCategories",
            details={"reason": "UNKNOWN_DATA_CATEGORY", "unknown": unknown},
        )
    return categories


@dataclass(frozen=True)
class PurposeDraft:
    code: str
    name: str
    description: str
    legal_basis: LegalBasis
    channels: tuple[Channel, ...]
    data_categories: tuple[str, ...]
    retention_days: int
    direct_marketing: bool
    consent_validity_days: int | None = None
    # UWG §7(3) Nr. 2: what the purpose advertises; none: no existing-customer exception.
    product_categories: tuple[str, ...] = ()

    def to_purpose(self, *, now: datetime, created_by: str) -> Purpose:
        if not self.channels:
            raise InvalidInput("A purpose needs at least one channel.", field="channels")
        checked_data_categories(self.data_categories)
        if not all(DATA_CATEGORY.match(c) for c in self.product_categories):
            raise InvalidInput(
                "productCategories holds lower-case codes only.", field="productCategories"
            )
        if not 1 <= self.retention_days <= MAX_RETENTION_DAYS:
            raise InvalidInput(f"retentionDays must be 1-{MAX_RETENTION_DAYS}.",
                               field="retentionDays")  # fmt: skip
        validity = self.consent_validity_days
        if validity is not None and not 1 <= validity <= MAX_RETENTION_DAYS:
            raise InvalidInput(f"consentValidityDays must be 1-{MAX_RETENTION_DAYS}.",
                               field="consentValidityDays")  # fmt: skip
        return Purpose(
            code=checked_code(self.code), name=_text(self.name, field="name", limit=MAX_NAME),
            description=_text(self.description, field="description", limit=MAX_DESCRIPTION),
            legal_basis=self.legal_basis, channels=tuple(dict.fromkeys(self.channels)),
            data_categories=tuple(dict.fromkeys(self.data_categories)),
            retention_days=self.retention_days, direct_marketing=self.direct_marketing,
            consent_validity_days=validity, created_at=now, created_by=created_by,
            product_categories=tuple(dict.fromkeys(self.product_categories)),
        )  # fmt: skip


@dataclass(frozen=True)
class PurposeUpdate:
    """A change of a registered purpose; ``None`` keeps a value. The code, the legal
    basis and the direct-marketing flag never change: another basis is another
    purpose (register it, and ask for consent again where that is the basis)."""

    reason: str
    name: str | None = None
    description: str | None = None
    channels: tuple[Channel, ...] | None = None
    data_categories: tuple[str, ...] | None = None
    retention_days: int | None = None
    consent_validity_days: int | None = None
    clear_consent_validity: bool = False
    product_categories: tuple[str, ...] | None = None


@dataclass(frozen=True)
class PurposeChange:
    """One change of a purpose, kept for the records of processing (Art. 30, 5(2))."""

    purpose: str
    revision: int  # the purpose's revision after the change
    changed_at: datetime
    changed_by: str
    reason: str
    changes: dict[str, tuple[object, object]]  # field: (before, after)


_CHANGEABLE = {
    "name": "name",
    "description": "description",
    "channels": "channels",
    "data_categories": "dataCategories",
    "retention_days": "retentionDays",
    "consent_validity_days": "consentValidityDays",
    "product_categories": "productCategories",
}
MIN_REASON = 10
MAX_REASON = 2000


def _given(value: T | None, current: T) -> T:
    return current if value is None else value


async def update_purpose(
    code: str, update: PurposeUpdate, stores: Stores, *, now: datetime, actor: str
) -> tuple[Purpose, PurposeChange | None]:
    """Change a purpose (audited with its reason); nothing changed: nothing written."""
    reason = update.reason.strip()
    if not MIN_REASON <= len(reason) <= MAX_REASON:
        raise InvalidInput(f"reason needs {MIN_REASON}-{MAX_REASON} characters.", field="reason")
    current = await known_purpose(stores, code, field="code")
    validity = _given(update.consent_validity_days, current.consent_validity_days)
    if update.clear_consent_validity:
        validity = None
    draft = PurposeDraft(
        code=current.code, name=_given(update.name, current.name),
        description=_given(update.description, current.description),
        legal_basis=current.legal_basis, channels=_given(update.channels, current.channels),
        data_categories=_given(update.data_categories, current.data_categories),
        retention_days=_given(update.retention_days, current.retention_days),
        direct_marketing=current.direct_marketing, consent_validity_days=validity,
        product_categories=_given(update.product_categories, current.product_categories),
    )  # fmt: skip
    checked = draft.to_purpose(now=current.created_at, created_by=current.created_by)
    changes = {
        name: (getattr(current, attribute), getattr(checked, attribute))
        for attribute, name in _CHANGEABLE.items()
        if getattr(current, attribute) != getattr(checked, attribute)
    }
    if not changes:
        return current, None
    revision = (current.revision or 0) + 1
    updated = replace(checked, notices=current.notices, revision=revision)
    change = PurposeChange(current.code, revision, now, actor, reason, changes)
    if not await stores.purposes.update(updated, expected_revision=current.revision,
                                        change=change):  # fmt: skip
        raise Conflict("The purpose was changed meanwhile; read it again and retry.",
                       field="code", details={"reason": "CHANGED_MEANWHILE"})  # fmt: skip
    # Channels, categories or validity may now answer contact checks differently.
    stores.events.record(Event.PURPOSE_CHANGED, purpose=updated.code)
    return updated, change


async def changes_of(stores: Stores, code: str) -> list[PurposeChange]:
    purpose = await known_purpose(stores, code, field="code")
    return await stores.purposes.changes(purpose.code)


@dataclass(frozen=True)
class NoticeDraft:
    purpose: str
    language: str
    text: str
    material: bool


async def register_purpose(
    draft: PurposeDraft, stores: Stores, *, now: datetime, actor: str
) -> Purpose:
    purpose = draft.to_purpose(now=now, created_by=actor)
    if not await stores.purposes.create(purpose):
        raise Conflict(f"A purpose with code {purpose.code} exists already.", field="code",
                       details={"reason": "DUPLICATE_PURPOSE"})  # fmt: skip
    return purpose


class PurposeCache:
    """Purposes of one process by code, each valid while its stored revision is the same.

    The single contact check reads the purpose's revision with the person's facts in
    one statement and takes the purpose from here when the revision matches: one
    round trip to the graph instead of two, and never a stale notice list (a new
    version changes the revision in the transaction that publishes it).
    """

    def __init__(self) -> None:
        self._purposes: dict[str, Purpose] = {}

    def get(self, code: str, revision: int | None) -> Purpose | None:
        found = self._purposes.get(code)
        if revision is None or found is None or found.revision != revision:
            return None
        return found

    def put(self, purpose: Purpose) -> Purpose:
        if purpose.revision is not None:
            self._purposes[purpose.code] = purpose
        return purpose


def unknown_purpose(code: str, *, field: str = "purpose") -> NotFound:
    return NotFound(f"No purpose with code {code}.", field=field,
                    details={"reason": "UNKNOWN_PURPOSE"})  # fmt: skip


async def known_purpose(
    stores: Stores, code: str, *, field: str = "purpose", texts: bool = False
) -> Purpose:
    purpose = await stores.purposes.get(checked_code(code, field=field), texts=texts)
    if purpose is None:
        raise unknown_purpose(code, field=field)
    return purpose


async def publish_notice(
    draft: NoticeDraft, stores: Stores, *, now: datetime, actor: str
) -> NoticeVersion:
    """The next version of a purpose's notice text, hashed (SHA-256) as published."""
    purpose = await known_purpose(stores, draft.purpose)
    text = draft.text.strip()
    if not text or len(text) > MAX_NOTICE:
        raise InvalidInput(f"A notice text needs 1-{MAX_NOTICE} characters.", field="text")
    notice = NoticeVersion(
        purpose=purpose.code, version=purpose.latest_version + 1,
        language=checked_language(draft.language), text=text,
        sha256=NoticeVersion.hash_of(text),
        # The first version has no earlier consents to renew.
        material=draft.material and purpose.latest_version > 0, published_at=now,
        published_by=actor,
    )  # fmt: skip
    if not await stores.purposes.add_notice(notice):
        raise Conflict("Another notice version was published at the same time; try again.",
                       field="purpose")  # fmt: skip
    if notice.material:  # consents given under older texts need renewing
        stores.events.record(Event.PURPOSE_CHANGED, purpose=notice.purpose)
    return notice
