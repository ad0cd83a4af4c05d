"""Suppression after erasure: keyed hashes that stop an erased person coming back.

Erasure (GDPR Art. 17) deletes a person's records, but source systems keep sending
them. To refuse those without keeping the clear values, erasure stores a keyed hash
(HMAC-SHA256) of a few normalised keys of each erased record, and ingestion refuses
every record that yields one of them. Without the key nobody can test a guessed
value against the list; rotating the key makes every old entry unmatchable.

Which keys, and why none of them is a contact point alone: household members
legitimately share a landline, an address and sometimes an e-mail address; twins
share a family name and a birth date. The given name tells them apart, so every key
but the record's own id pairs what identifies with the given name:

- ``record:<source>|<sourceId>``: the same record sent again;
- ``name-birth:<given>|<family>|<birth date ISO>`` when the birth date is known;
- ``email-given:<e-mail, lower-cased>|<given>``;
- ``mobile-given:<E.164>|<given>``, for mobile numbers only (landlines are shared).

Names are folded (:func:`mdm_common.text.fold`), so "Müller", "Mueller" and
"MÜLLER" give one key. A key whose parts are missing is not made: an empty given
name would turn "email-given" into a shared contact point again.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from mdm_profile.domain.quality.folding import fold
from mdm_profile.domain.records import CleanRecord

# Derives the key from the gateway secret when none is configured (embedded stack).
DERIVATION_LABEL = b"mdm profile suppression v1"
MOBILE = "MOBILE"


class SuppressionKind(StrEnum):
    RECORD = "record"
    NAME_BIRTH = "name-birth"
    EMAIL_GIVEN = "email-given"
    MOBILE_GIVEN = "mobile-given"


@dataclass(frozen=True)
class SuppressionEntry:
    hash: str
    kind: SuppressionKind


def derive_key(configured: str, *, gateway_secret: str) -> bytes:
    """The configured key, or one derived from the gateway secret when none is set."""
    if configured:
        return configured.encode()
    return hmac.new(gateway_secret.encode(), DERIVATION_LABEL, hashlib.sha256).digest()


def normalised_keys(record: CleanRecord) -> list[tuple[SuppressionKind, str]]:
    """The clear keys of one record (never stored, never logged)."""
    keys = [(SuppressionKind.RECORD, f"record:{record.source}|{record.source_id}")]
    given, family = fold(record.given_name), fold(record.family_name)
    if not given:
        return keys
    if family and record.birth_date is not None:
        keys.append((SuppressionKind.NAME_BIRTH,
                     f"name-birth:{given}|{family}|{record.birth_date.isoformat()}"))  # fmt: skip
    if record.email:
        keys.append((SuppressionKind.EMAIL_GIVEN, f"email-given:{record.email.lower()}|{given}"))
    if record.phone is not None and record.phone.kind == MOBILE:
        keys.append((SuppressionKind.MOBILE_GIVEN, f"mobile-given:{record.phone.e164}|{given}"))
    return keys


class Suppressor:
    """Turns records into suppression entries with one secret key."""

    def __init__(self, key: bytes) -> None:
        if not key:
            raise ValueError("A suppression key is required.")
        self._key = key

    def hash(self, clear: str) -> str:
        return hmac.new(self._key, clear.encode(), hashlib.sha256).hexdigest()

    def entries(self, record: CleanRecord) -> list[SuppressionEntry]:
        return [SuppressionEntry(self.hash(clear), kind) for kind, clear in normalised_keys(record)]

    def entries_of(self, records: Iterable[CleanRecord]) -> list[SuppressionEntry]:
        """Entries of many records, each hash once."""
        found: dict[str, SuppressionEntry] = {}
        for record in records:
            for entry in self.entries(record):
                found.setdefault(entry.hash, entry)
        return list(found.values())


class SuppressionList(Protocol):
    async def matching(self, hashes: Sequence[str]) -> set[str]:
        """Those of ``hashes`` that are on the list (one statement)."""
        ...

    async def add(
        self, entries: Sequence[SuppressionEntry], *, request_id: str, at: datetime
    ) -> int:
        """Put entries on the list (an entry already there stays as it was)."""
        ...
