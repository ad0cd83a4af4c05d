"""The access export (GDPR Art. 15, 20): everything the three services hold on a
person's merge group, each item with its purposes, retention and source, the
recipients, transfers, rights and the merges with their evidence; rendered as JSON or
CSV and audited (docs/data-subject-requests.md, Export). Erasure and restriction are
in :mod:`mdm_consent.domain.fulfilment`."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from mdm_common.auth import Principal
from mdm_common.contracts import DataCategory, PersonalDataItem
from mdm_common.errors import Conflict
from mdm_common.read_audit.records import ReadAudit
from mdm_consent.domain import (
    audit,
    double_opt_in,
    export_document,
    export_recipients,
    merge_accounts,
)
from mdm_consent.domain.fulfilment import (
    CONSENT,
    DISTRIBUTION,
    EXPORT_TYPES,
    MATCHING,
    PROFILE,
    Held,
    PrivacyServices,
)
from mdm_consent.domain.models import (
    ConsentEvent,
    LegalBasis,
    Purpose,
)
from mdm_consent.domain.processing import ProcessingDescription
from mdm_consent.domain.requests import (
    DataSubjectRequest,
    RequestStatus,
    known,
)
from mdm_consent.domain.stores import Stores, Transactions


class ExportFormat(StrEnum):
    JSON = "JSON"
    CSV = "CSV"


@dataclass(frozen=True)
class Export:
    request_id: str
    person_ids: tuple[str, ...]
    generated_at: datetime
    generated_by: str
    format: ExportFormat
    media_type: str
    content: str
    sha256: str
    items: int


CSV_COLUMNS = (
    "service",
    "personId",
    "origin",
    "category",
    "field",
    "value",
    "source",
    "sourceId",
    "recordedAt",
    "purposes",
    "retentionDays",
)


def _consent_items(
    events: Sequence[ConsentEvent],
    requests: Sequence[DataSubjectRequest],
    reads: Sequence[ReadAudit],
) -> list[PersonalDataItem]:
    items = []
    for e in events:
        proof = {
            "purpose": e.purpose,
            "channel": e.channel,
            "noticeVersion": e.notice_version,
            "noticeSha256": e.notice_sha256,
            "occurredAt": e.occurred_at.isoformat(),
            "collectionPoint": e.collection_point,
            "method": e.method,
            "actor": e.actor,
            "language": e.language,
            "evidenceRef": e.evidence_ref,
            "confirms": e.confirms,
            "birthDate": e.birth_date.isoformat() if e.birth_date else None,
        }
        proof |= e.imported.fields() if e.imported else {}
        proof |= double_opt_in.proof_fields(e) | {"submissionId": e.submission_id}
        items.append(
            PersonalDataItem(
                e.person_id,
                "consentEvent",
                DataCategory.CONSENT,
                e.type.value,
                _compact(proof),
                source=e.collection_point,
                source_id=e.id,
                recorded_at=e.recorded_at,
            )
        )
    for r in requests:
        summary = {
            "type": r.type.value,
            "status": r.status.value,
            "due": r.due.isoformat(),
            "receivedVia": r.received_via.value,
        }
        items.append(
            PersonalDataItem(
                r.person_id,
                "request",
                DataCategory.CONSENT,
                "request",
                _compact(summary),
                source_id=r.id,
                recorded_at=r.received_at,
            )
        )
    # Art. 15(1)(c): who the records were disclosed to; here, who read them.
    for a in reads:
        for pid in a.person_ids:
            items.append(
                PersonalDataItem(
                    pid,
                    "readAudit",
                    DataCategory.CONSENT,
                    a.operation,
                    _compact({"reader": a.reader, "roles": list(a.roles)}),
                    source_id=a.id,
                    recorded_at=a.at,
                )
            )
    return items


def _compact(values: dict[str, Any]) -> str:
    return json.dumps(
        {k: v for k, v in values.items() if v is not None},
        separators=(",", ":"),
        ensure_ascii=False,
        sort_keys=True,
    )


def _applying(purposes: Sequence[Purpose], events: Iterable[ConsentEvent]) -> list[Purpose]:
    """The purposes the person's data is processed for: those on another basis than
    consent, and consent purposes the person has events for (docs: retention)."""
    with_events = {e.purpose for e in events}
    return [p for p in purposes if p.legal_basis is not LegalBasis.CONSENT or p.code in with_events]


def _purposes_of(item: PersonalDataItem, purposes: Sequence[Purpose]) -> list[Purpose]:
    if item.origin == "consentEvent":
        code = json.loads(item.value).get("purpose")
        return [p for p in purposes if p.code == code]
    return [p for p in purposes if item.category in p.data_categories]


def render(
    request: DataSubjectRequest,
    items: Sequence[Held],
    purposes: Sequence[Purpose],
    *,
    person_ids: tuple[str, ...],
    fmt: ExportFormat,
    by: str,
    now: datetime,
    described: Mapping[str, ProcessingDescription] | None = None,
) -> Export:
    """The export document: every item with its purposes and retention, JSON or CSV."""
    rows: list[dict[str, Any]] = []
    used: dict[str, Purpose] = {}
    for held in items:
        item = held.item
        bound = _purposes_of(item, purposes)
        used.update((p.code, p) for p in bound)
        rows.append(
            {
                "service": held.service,
                "personId": item.person_id,
                "origin": item.origin,
                "category": item.category,
                "field": item.field,
                "value": item.value,
                "source": export_document.source_of(held),
                "sourceId": item.source_id,
                "recordedAt": item.recorded_at.isoformat() if item.recorded_at else None,
                "purposes": [p.code for p in bound],
                "retentionDays": max((p.retention_days for p in bound), default=None),
            }
        )
    accounts = merge_accounts.merges(items)
    sent_to = export_recipients.recipients(items, purposes=list(used), described=described)
    kept = export_document.retention(rows, {p.code: p.retention_days for p in purposes})
    if fmt is ExportFormat.JSON:
        document = {
            "request": {
                "id": request.id,
                "type": request.type.value,
                "receivedAt": request.received_at.isoformat(),
                "due": request.due.isoformat(),
            },
            "generatedAt": now.isoformat(),
            "generatedBy": by,
            "personIds": list(person_ids),
            "purposes": [
                {
                    "code": p.code,
                    "name": p.name,
                    "description": p.description,
                    "legalBasis": p.legal_basis.value,
                    "dataCategories": list(p.data_categories),
                    "retentionDays": p.retention_days,
                }
                for p in sorted(used.values(), key=lambda p: p.code)
            ],
            "items": rows,
            # Art. 15(1)(c), (d) and why records were joined (domain/export_document.py).
            "recipients": sent_to.document(),
            "retention": [k.document() for k in kept],
            "transfers": sent_to.transfers_document(),  # Art. 15(2)
            "merges": [m.document() for m in accounts],
            "rights": list(export_document.RIGHTS),
        }
        content = json.dumps(document, ensure_ascii=False, indent=2)
        media_type = "application/json"
    else:
        rows += export_document.csv_rows(
            request.person_id, accounts=accounts, sent_to=sent_to, kept=kept
        )
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\r\n")
        writer.writeheader()
        for row in rows:
            writer.writerow(
                {
                    **row,
                    "purposes": ";".join(row["purposes"]),
                    "retentionDays": row["retentionDays"] or "",
                }
            )
        content = out.getvalue()
        media_type = "text/csv"
    return Export(
        request_id=request.id,
        person_ids=person_ids,
        generated_at=now,
        generated_by=by,
        format=fmt,
        media_type=media_type,
        content=content,
        sha256=hashlib.sha256(content.encode("utf-8")).hexdigest(),
        items=len(rows),
    )


async def export(
    request_id: str,
    fmt: ExportFormat,
    *,
    services: PrivacyServices,
    transactions: Transactions,
    actor: Principal,
    now: datetime,
) -> Export:
    """Everything the three services hold on the request's person (Art. 15, 20), audited.

    The first export completes the request; later ones (another format, a copy) are
    audited as well."""
    request = await transactions.read(lambda s: known(s, request_id))
    if request.type not in EXPORT_TYPES:
        raise Conflict(
            "Only access and portability requests are answered with an export.",
            field="id",
            details={"reason": "WRONG_REQUEST_TYPE"},
        )
    if request.status is RequestStatus.REJECTED:
        raise Conflict(
            "The request was rejected.", field="id", details={"reason": "REQUEST_SETTLED"}
        )
    profile = await services.profile_data(request.person_id, actor=actor)
    group = profile.person_ids or (request.person_id,)
    matching = await services.matching_data(group, actor=actor)
    distribution = await services.distribution_data(group, actor=actor)

    async def gather(stores: Stores) -> Export:
        current = await known(stores, request_id, lock=True)
        history = await stores.consents.history_of(list(group))
        events = {e.id: e for pid in group for e in history[pid]}
        requests = await stores.requests.of_person(list(group))
        reads = [
            a
            for pid in group
            for a in await stores.audits.of_person(pid, since=None, limit=audit.MAX_EXPORT)
        ]
        own = _consent_items(list(events.values()), requests, reads)
        items = [
            *(Held(PROFILE, i) for i in profile.items),
            *(Held(MATCHING, i) for i in matching.items),
            *(Held(DISTRIBUTION, i) for i in distribution.items),
            *(Held(CONSENT, i) for i in own),
        ]
        result = render(
            current,
            items,
            _applying(await stores.purposes.all(), events.values()),
            person_ids=group,
            fmt=fmt,
            by=actor.subject,
            now=now,
            described=await stores.processing.descriptions(),
        )
        await audit.audited_export(
            group,
            stores,
            reader=actor,
            scope=f"{fmt.value} export of request {current.id}",
            now=now,
        )
        settled = current.status.settled
        await stores.requests.save(
            replace(
                current,
                exports=current.exports + 1,
                person_ids=group,
                status=RequestStatus.COMPLETED,
                settled_at=current.settled_at if settled else now,
                settled_by=current.settled_by if settled else actor.subject,
            )
        )
        return result

    return await transactions.write(gather)
