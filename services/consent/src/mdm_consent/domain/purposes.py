"""The purpose registry: what personal data is used for, on which legal basis.

Use cases run inside a transaction the caller owns and never commit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

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

    def to_purpose(self, *, now: datetime, created_by: str) -> Purpose:
        if not self.channels:
            raise InvalidInput("A purpose needs at least one channel.", field="channels")
        if not self.data_categories or not all(DATA_CATEGORY.match(c)
                                               for c in self.data_categories):  # fmt: skip
            raise InvalidInput("dataCategories needs one or more lower-case codes.",
                               field="dataCategories")  # fmt: skip
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
        )  # fmt: skip


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
    return notice
