"""The record of processing activities (GDPR Art. 30(1)) as a document: JSON and CSV.

Read in the caller's write transaction with its audit entry (docs/consent.md, Read
audit): a view that cannot be audited is not served. Rendering is pure.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from mdm_common.auth import Principal
from mdm_common.contracts import DataCategory
from mdm_consent.domain import audit
from mdm_consent.domain.processing import (
    Controller,
    ProcessingRecord,
    RecordOfProcessing,
    record_of,
)
from mdm_consent.domain.stores import Stores

CSV_COLUMNS = (
    "code",
    "name",
    "description",
    "legal_basis",
    "channels",
    "data_subject_categories",
    "data_categories",
    "recipients",
    "third_country_transfers",
    "retention_days",
    "consent_validity_days",
    "direct_marketing",
    "notice_version",
    "notice_language",
    "notice_sha256",
    "notice_published_at",
    "description_revision",
    "gaps",
    "controller",
    "controller_contact",
    "data_protection_officer",
    "security_measures_ref",
)


@dataclass(frozen=True)
class RecordsDocument:
    record: RecordOfProcessing
    json: str
    csv: str
    sha256: str  # of the JSON document


async def records_of_processing(
    stores: Stores, *, reader: Principal, now: datetime
) -> RecordsDocument:
    purposes = await stores.purposes.all()
    record = record_of(
        purposes,
        await stores.processing.descriptions(),
        await stores.processing.controller(),
        by=reader.subject,
        now=now,
    )
    await audit.audited_view(
        stores,
        reader=reader,
        operation="records of processing",
        scope=f"{len(purposes)} purposes",
        now=now,
    )
    document = records_json(record)
    return RecordsDocument(
        record, document, records_csv(record), hashlib.sha256(document.encode()).hexdigest()
    )


def _time(t: datetime | None) -> str | None:
    return t.astimezone(UTC).isoformat().replace("+00:00", "Z") if t else None


def _controller(c: Controller | None) -> dict[str, Any] | None:
    if c is None:
        return None
    return {
        "name": c.name,
        "address": c.address,
        "email": c.email,
        "representative": c.representative,
        "dataProtectionOfficer": {"name": c.dpo_name, "email": c.dpo_email}
        if c.dpo_name or c.dpo_email
        else None,
        "securityMeasuresRef": c.security_measures_ref,
        "revision": c.revision,
        "changedAt": _time(c.changed_at),
        "changedBy": c.changed_by,
    }


def _entry(r: ProcessingRecord) -> dict[str, Any]:
    p, d = r.purpose, r.description
    notice = p.notice(p.latest_version)
    return {
        "code": p.code,
        "name": p.name,
        "description": p.description,
        "legalBasis": p.legal_basis.value,
        "channels": [c.value for c in p.channels],
        "dataSubjectCategories": [c.value for c in d.data_subject_categories] if d else [],
        "dataCategories": [
            {"code": c, "description": DataCategory.DESCRIPTIONS.get(c)} for c in p.data_categories
        ],
        "recipients": [
            {"name": x.name, "kind": x.kind.value, "country": x.country}
            for x in (d.recipients if d else ())
        ],
        "thirdCountryTransfers": [
            {
                "country": t.country,
                "recipient": t.recipient,
                "safeguard": t.safeguard.value,
                "documentRef": t.document_ref,
            }
            for t in (d.transfers if d else ())
        ],
        "retentionDays": p.retention_days,
        "consentValidityDays": p.consent_validity_days,
        "directMarketing": p.direct_marketing,
        "notice": {
            "version": notice.version,
            "language": notice.language,
            "sha256": notice.sha256,
            "publishedAt": _time(notice.published_at),
        }
        if notice
        else None,
        "descriptionRevision": d.revision if d else None,
        "gaps": [g.value for g in r.gaps],
    }


def records_json(record: RecordOfProcessing) -> str:
    return json.dumps(
        {
            "title": "Record of processing activities (GDPR Art. 30(1))",
            "generatedAt": _time(record.generated_at),
            "generatedBy": record.generated_by,
            "controller": _controller(record.controller),
            "gaps": [g.value for g in record.gaps],
            "processing": [_entry(r) for r in record.records],
        },
        ensure_ascii=False,
        indent=2,
    )


def records_csv(record: RecordOfProcessing) -> str:
    """One row per purpose (RFC 4180, CRLF, header row); lists joined with ``;``; the
    controller's columns repeat on every row so that each row stands on its own."""
    c = record.controller
    controller = [
        c.name if c else "",
        f"{c.address}; {c.email}" if c else "",
        "; ".join(x for x in (c.dpo_name, c.dpo_email) if x) if c else "",
        c.security_measures_ref if c else "",
    ]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for r in record.records:
        e = _entry(r)
        notice = e["notice"] or {}
        writer.writerow(
            [
                e["code"],
                e["name"],
                e["description"],
                e["legalBasis"],
                ";".join(e["channels"]),
                ";".join(e["dataSubjectCategories"]),
                ";".join(x["code"] for x in e["dataCategories"]),
                ";".join(f"{x['name']} ({x['kind']}, {x['country']})" for x in e["recipients"]),
                ";".join(
                    f"{t['country']}: {t['recipient']} ({t['safeguard']}, {t['documentRef']})"
                    for t in e["thirdCountryTransfers"]
                ),
                e["retentionDays"],
                "" if e["consentValidityDays"] is None else e["consentValidityDays"],
                "true" if e["directMarketing"] else "false",
                notice.get("version", ""),
                notice.get("language", ""),
                notice.get("sha256", ""),
                notice.get("publishedAt", ""),
                "" if e["descriptionRevision"] is None else e["descriptionRevision"],
                ";".join([*e["gaps"], *(g.value for g in record.gaps)]),
                *controller,
            ]
        )
    return out.getvalue()
