"""How persons and source records are written as node properties and read back.

Every property name of a ``Person`` and a ``SourceRecord`` node is spelt here, once;
the stores (graph_store, merge_store, privacy_store) use these mappings.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from mdm_common.contracts import DataCategory
from mdm_common.graph import as_utc
from mdm_profile.domain.employment import employer_key
from mdm_profile.domain.golden import Rule, SourcedIdentifier
from mdm_profile.domain.models import Lineage, Person
from mdm_profile.domain.quality.addresses import PostalAddress, address_key
from mdm_profile.domain.quality.company_ids import email_domain
from mdm_profile.domain.quality.contact import Phone
from mdm_profile.domain.quality.folding import fold
from mdm_profile.domain.quality.identifiers import Identifier
from mdm_profile.domain.quality.report import Fix, Issue, QualityReport, Severity
from mdm_profile.domain.records import CleanRecord


def _address_props(address: PostalAddress | None) -> dict[str, Any]:
    return {
        "street": address.street if address else None,
        "houseNumber": address.house_number if address else None,
        "postalCode": address.postal_code if address else None,
        "city": address.city if address else None,
        "country": address.country if address else None,
        "addressKey": address_key(address) if address else None,
    }


def _address_from(props: dict[str, Any]) -> PostalAddress | None:
    if not props.get("addressKey"):
        return None
    return PostalAddress(
        props.get("street"),
        props.get("houseNumber"),
        props.get("postalCode"),
        props.get("city"),
        props.get("country"),
    )


def _phone_from(props: dict[str, Any]) -> Phone | None:
    return (
        Phone(props["phoneE164"], props.get("phoneKind") or "OTHER")
        if props.get("phoneE164")
        else None
    )


def _date(value: Any) -> Any:
    return value.to_native() if hasattr(value, "to_native") else value


def quality_json(report: QualityReport) -> str:
    return json.dumps(
        {
            "fixes": [vars(f) for f in report.fixes],
            "issues": [{**vars(i), "severity": i.severity.value} for i in report.issues],
        }
    )


def quality_from(text: str | None) -> QualityReport:
    data = json.loads(text or "{}")
    return QualityReport(
        fixes=[Fix(**f) for f in data.get("fixes", [])],
        issues=[
            Issue(i["field"], i["code"], Severity(i["severity"]), i.get("detail", ""))
            for i in data.get("issues", [])
        ],
    )


def record_props(record: CleanRecord) -> dict[str, Any]:
    return {
        "source": record.source,
        "sourceId": record.source_id,
        "givenName": record.given_name,
        "familyName": record.family_name,
        "titles": list(record.titles),
        "suffix": record.suffix,
        "salutation": record.salutation,
        "birthDate": record.birth_date,
        "email": record.email,
        "phoneE164": record.phone.e164 if record.phone else None,
        "phoneKind": record.phone.kind if record.phone else None,
        **_address_props(record.address),
        "language": record.language,
        "recordedAt": record.recorded_at,
        "quality": quality_json(record.quality),
        "birthDatePartial": record.birth_date_partial,
        "identifiers": json.dumps([[i.scheme, i.issuer, i.value] for i in record.identifiers]),
        "keptRaw": json.dumps(record.kept_raw) if record.kept_raw else None,
        "employer": record.employer,
        # Looked up when a company arrives after its employees (domain/employment.py).
        "employerKey": employer_key(record.employer),
        "emailDomain": email_domain(record.email),
    }


def _personal_values(props: dict[str, Any]) -> dict[str, Any]:
    """The values a source record and a golden record both hold, as both spell them."""
    return {
        "given_name": props.get("givenName") or "",
        "family_name": props.get("familyName") or "",
        "titles": tuple(props.get("titles") or ()),
        "suffix": props.get("suffix"),
        "salutation": props.get("salutation"),
        "birth_date": _date(props.get("birthDate")),
        "birth_date_partial": props.get("birthDatePartial"),
        "email": props.get("email"),
        "phone": _phone_from(props),
        "address": _address_from(props),
        "language": props.get("language"),
    }


def record_from(props: dict[str, Any]) -> CleanRecord:
    return CleanRecord(
        source=props["source"],
        source_id=props["sourceId"],
        **_personal_values(props),
        recorded_at=as_utc(props["recordedAt"]),
        quality=quality_from(props.get("quality")),
        identifiers=tuple(Identifier(*i) for i in json.loads(props.get("identifiers") or "[]")),
        kept_raw=tuple((f, v) for f, v in json.loads(props.get("keptRaw") or "[]")),
        employer=props.get("employer"),
    )


def person_props(person: Person) -> dict[str, Any]:
    family_key = fold(person.family_name)
    address = _address_props(person.address)
    props = {
        "givenName": person.given_name,
        "familyName": person.family_name,
        "familyKey": family_key,
        # Household detection's key by address and family name (indexed).
        "householdKey": f"{address['addressKey']}#{family_key}"
        if address["addressKey"] and family_key
        else None,
        "titles": list(person.titles),
        "suffix": person.suffix,
        "salutation": person.salutation,
        "birthDate": person.birth_date,
        "email": person.email,
        "phoneE164": person.phone.e164 if person.phone else None,
        "phoneKind": person.phone.kind if person.phone else None,
        **address,
        "birthDatePartial": person.birth_date_partial,
        "identifiers": json.dumps(
            [
                [
                    i.identifier.scheme,
                    i.identifier.issuer,
                    i.identifier.value,
                    i.source,
                    i.source_id,
                ]
                for i in person.identifiers
            ]
        ),
        "language": person.language,
        "createdAt": person.created_at,
        "updatedAt": person.updated_at,
        "lineage": json.dumps(
            {a: [v.source, v.source_id, v.rule.value] for a, v in person.lineage.items()}
        ),
    }
    return {**props, "valuesDigest": values_digest(props)}


def values_digest(props: dict[str, Any]) -> str:
    """What tells one version of a golden record from the next: its values and lineage,
    not its times (a rebuild that changes nothing writes no version)."""
    kept = {k: v for k, v in props.items() if k not in ("createdAt", "updatedAt")}
    text = json.dumps(kept, sort_keys=True, default=str)
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def person_from(props: dict[str, Any]) -> Person:
    lineage = {
        attribute: Lineage(attribute, source, source_id, Rule(rule))
        for attribute, (source, source_id, rule) in json.loads(props.get("lineage") or "{}").items()
    }
    return Person(
        id=props["id"],
        **_personal_values(props),
        created_at=as_utc(props["createdAt"]),
        updated_at=as_utc(props.get("updatedAt") or props["createdAt"]),
        lineage=lineage,
        processing_restricted=bool(props.get("processingRestricted")),
        identifiers=tuple(
            SourcedIdentifier(Identifier(scheme, issuer, value), source, source_id)
            for scheme, issuer, value, source, source_id in json.loads(
                props.get("identifiers") or "[]"
            )
        ),
    )


# What reconciling services compare persons by (a golden record's subset), as a map
# projection of the Person node: read without building a Person.
FEATURES_PROJECTION = (
    "{.id, .createdAt, .givenName, .familyName, .suffix, .birthDate, .birthDatePartial, "
    ".email, .phoneE164, .street, .houseNumber, .postalCode, .city, .addressKey, .identifiers}"
)


def features_from(props: dict[str, Any], sources: list[str]) -> dict[str, Any]:
    """A person's features as the ``personFeatures`` query answers them: JSON values
    named as the ``Person`` type names its fields."""
    birth = _date(props.get("birthDate"))
    located = bool(props.get("addressKey"))
    return {
        "id": props["id"],
        "createdAt": as_utc(props["createdAt"]).isoformat(),
        "givenName": props.get("givenName") or "",
        "familyName": props.get("familyName") or "",
        "suffix": props.get("suffix"),
        "birthDate": birth.isoformat() if birth is not None else None,
        "birthDatePartial": props.get("birthDatePartial"),
        "email": props.get("email"),
        "phone": props.get("phoneE164") or None,
        "address": {
            "street": props.get("street"),
            "houseNumber": props.get("houseNumber"),
            "postalCode": props.get("postalCode"),
            "city": props.get("city"),
        }
        if located
        else None,
        "identifiers": [
            {"scheme": scheme, "issuer": issuer or None, "value": value}
            for scheme, issuer, value, *_ in json.loads(props.get("identifiers") or "[]")
        ],
        "sources": sorted(sources),
    }


# The properties of a golden record that hold each attribute category's values (for
# taking a category out of value history: ``domain/retention.py``).
CATEGORY_PROPERTIES: dict[str, tuple[str, ...]] = {
    DataCategory.IDENTITY: (
        "givenName",
        "familyName",
        "familyKey",
        "householdKey",
        "titles",
        "suffix",
        "salutation",
    ),
    DataCategory.BIRTH_DATE: ("birthDate", "birthDatePartial"),
    DataCategory.EMAIL: ("email",),
    DataCategory.PHONE: ("phoneE164", "phoneKind"),
    DataCategory.POSTAL_ADDRESS: (
        "street",
        "houseNumber",
        "postalCode",
        "city",
        "country",
        "addressKey",
        "householdKey",
    ),
    DataCategory.LANGUAGE: ("language",),
}
