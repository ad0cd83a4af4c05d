"""Reading consent records leaves a trace: who read whose records, when, through what."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from mdm_common.auth import Principal
from mdm_common.errors import InvalidInput
from mdm_common.read_audit.records import ReadAudit, roles_of
from mdm_consent.domain import merges
from mdm_consent.domain.consents import PERSON_ID
from mdm_consent.domain.models import ConsentEvent, MergeLink
from mdm_consent.domain.stores import Stores

MAX_AUDIT_PAGE = 500
MAX_EXPORT = 10_000  # reads of one person listed in a data-subject export


async def read_histories(
    person_ids: Sequence[str], stores: Stores, *, reader: Principal, operation: str,
    now: datetime,
) -> dict[str, list[ConsentEvent]]:  # fmt: skip
    """The histories, and the audit entry of this read in the same (write) transaction:
    a read that cannot be audited is not served."""
    _checked_ids(person_ids)
    await _audited(person_ids, stores, reader=reader, operation=operation, now=now)
    return await stores.consents.history_of(person_ids)


async def read_history_document(
    person_id: str, stores: Stores, *, reader: Principal, now: datetime
) -> list[ConsentEvent]:
    """One person's (merge group's) history for the printable document, audited."""
    _checked_ids([person_id])
    await _audited([person_id], stores, reader=reader, operation="consent history document",
                   now=now, scope="printable document")  # fmt: skip
    return (await stores.consents.history_of([person_id]))[person_id]


async def read_merges(
    person_id: str, stores: Stores, *, reader: Principal, now: datetime
) -> list[MergeLink]:
    found = await merges.merges_of(person_id, stores)
    await _audited([person_id], stores, reader=reader, operation="consent merges", now=now)
    return found


async def audited_export(
    person_ids: Sequence[str], stores: Stores, *, reader: Principal, scope: str, now: datetime
) -> None:
    """Audit a data-subject export: it discloses everything held on the persons."""
    await _audited(person_ids, stores, reader=reader, operation="data-subject export",
                   now=now, scope=scope)  # fmt: skip


async def audited_reads(
    person_ids: Sequence[str],
    stores: Stores,
    *,
    reader: Principal,
    operation: str,
    scope: str,
    now: datetime,
) -> None:
    """Audit a read that names persons and discloses what their records show (e.g. the
    re-consent worklist): one entry per person read."""
    await _audited(person_ids, stores, reader=reader, operation=operation, now=now, scope=scope)


async def audited_view(
    stores: Stores, *, reader: Principal, operation: str, scope: str, now: datetime
) -> None:
    """Audit a read of a view that names no person (figures, records of processing)."""
    await _audited([], stores, reader=reader, operation=operation, now=now, scope=scope)


def _checked_ids(person_ids: Sequence[str]) -> None:
    # Checked before the audit entry is written: it names what was asked for.
    if any(not PERSON_ID.match(p) for p in person_ids):
        raise InvalidInput("personId is not a person id.", field="personId")


async def _audited(
    person_ids: Sequence[str], stores: Stores, *, reader: Principal, operation: str,
    now: datetime, scope: str | None = None,
) -> None:  # fmt: skip
    await stores.audits.record(
        ReadAudit(
            id=str(uuid.uuid4()),
            reader=reader.subject,
            roles=roles_of(reader),
            operation=operation,
            person_ids=tuple(dict.fromkeys(person_ids)),
            at=now,
            scope=scope,
        )
    )


async def reads_of(
    person_id: str, stores: Stores, *, since: datetime | None, limit: int
) -> list[ReadAudit]:
    _checked_ids([person_id])
    if not 1 <= limit <= MAX_AUDIT_PAGE:
        raise InvalidInput(f"first must be 1-{MAX_AUDIT_PAGE}.", field="first")
    return await stores.audits.of_person(person_id, since=since, limit=limit)


async def view_reads(stores: Stores, *, since: datetime | None, limit: int) -> list[ReadAudit]:
    if not 1 <= limit <= MAX_AUDIT_PAGE:
        raise InvalidInput(f"first must be 1-{MAX_AUDIT_PAGE}.", field="first")
    return await stores.audits.without_person(since=since, limit=limit)
