"""How companies built from source records and their ``CompanySourceRecord`` nodes
are written as node properties and read back. Every property name is spelt here once.

A company record is stored whole as JSON (``data``), so that the golden record can be
built again from all of a company's records; the properties searched by (the parent
references) are written beside it.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from mdm_common.graph import as_utc
from mdm_profile.adapters.graph_mapping import quality_from, quality_json
from mdm_profile.domain.company_golden import CompanyGolden
from mdm_profile.domain.company_records import CleanCompanyRecord, ParentReference
from mdm_profile.domain.quality.addresses import PostalAddress, address_key
from mdm_profile.domain.quality.company_ids import RegisterEntry
from mdm_profile.domain.quality.contact import Phone
from mdm_profile.domain.records import record_key


def register_key(entry: RegisterEntry | None) -> str | None:
    """An entry's lookup key with its court (``None`` without one: numbers repeat)."""
    if entry is None or entry.court_key is None:
        return None
    return f"{entry.register}|{entry.number}|{entry.court_key}"


def register_number_key(entry: RegisterEntry | None) -> str | None:
    """An entry's lookup key without its court."""
    return f"{entry.register}|{entry.number}" if entry is not None else None


def _register_json(entry: RegisterEntry | None) -> list[str | None] | None:
    return [entry.court, entry.register, entry.number] if entry else None


def _register_from(data: list[str | None] | None) -> RegisterEntry | None:
    return RegisterEntry(data[0], str(data[1]), str(data[2])) if data else None


def _address_json(address: PostalAddress | None) -> list[str | None] | None:
    if address is None:
        return None
    return [
        address.street,
        address.house_number,
        address.postal_code,
        address.city,
        address.country,
    ]


def record_props(record: CleanCompanyRecord) -> dict[str, Any]:
    parent = record.parent
    data = {
        "name": record.name,
        "legalForm": record.legal_form,
        "register": _register_json(record.register),
        "vatId": record.vat_id,
        "lei": record.lei,
        "address": _address_json(record.address),
        "phone": [record.phone.e164, record.phone.kind] if record.phone else None,
        "email": record.email,
        "domains": list(record.domains),
        "industryCode": record.industry_code,
        "parent": {
            "sourceId": parent.source_id,
            "vatId": parent.vat_id,
            "lei": parent.lei,
            "register": _register_json(parent.register),
        },
    }
    return {
        "key": record.key,
        "source": record.source,
        "sourceId": record.source_id,
        "data": json.dumps(data),
        "quality": quality_json(record.quality),
        "keptRaw": json.dumps(record.kept_raw) if record.kept_raw else None,
        "parentRecordKey": record_key(record.source, parent.source_id)
        if parent.source_id
        else None,
        "parentVatId": parent.vat_id,
        "parentLei": parent.lei,
        "parentRegisterKey": register_key(parent.register),
        "parentRegisterNumberKey": register_number_key(parent.register),
    }


def record_from(props: dict[str, Any]) -> CleanCompanyRecord:
    data = json.loads(props["data"])
    parent = data["parent"]
    address = data["address"]
    phone = data["phone"]
    return CleanCompanyRecord(
        source=props["source"],
        source_id=props["sourceId"],
        name=data["name"],
        legal_form=data["legalForm"],
        register=_register_from(data["register"]),
        vat_id=data["vatId"],
        lei=data["lei"],
        address=PostalAddress(*address) if address else None,
        phone=Phone(*phone) if phone else None,
        email=data["email"],
        domains=tuple(data["domains"]),
        industry_code=data["industryCode"],
        parent=ParentReference(
            parent["sourceId"], parent["vatId"], parent["lei"], _register_from(parent["register"])
        ),
        recorded_at=as_utc(props["recordedAt"]),
        quality=quality_from(props.get("quality")),
        kept_raw=tuple((f, v) for f, v in json.loads(props.get("keptRaw") or "[]")),
    )


def company_props(golden: CompanyGolden, *, now: datetime) -> dict[str, Any]:
    address = golden.address
    return {
        "name": golden.name,
        "legalForm": golden.legal_form,
        "nameKey": golden.name_key,
        "registrationNumber": str(golden.register) if golden.register else None,
        "registerKey": register_key(golden.register),
        "registerNumberKey": register_number_key(golden.register),
        "vatId": golden.vat_id,
        "lei": golden.lei,
        "industryCode": golden.industry_code,
        "street": address.street if address else None,
        "houseNumber": address.house_number if address else None,
        "postalCode": address.postal_code if address else None,
        "city": address.city if address else None,
        "country": address.country if address else None,
        "addressKey": address_key(address) if address else None,
        "phoneE164": golden.phone.e164 if golden.phone else None,
        "email": golden.email,
        "domains": list(golden.domains),
        "sources": list(golden.sources),
        "lineage": json.dumps(golden.lineage, sort_keys=True),
        "updatedAt": now,
    }
