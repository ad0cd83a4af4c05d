"""The profile's part of a data-subject export (GDPR Art. 15, 20): every value it holds on
a person's merge group, item by item, with its category and source
(docs/data-subject-requests.md). Runs inside a transaction the caller owns."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from mdm_common.contracts import DataCategory
from mdm_common.contracts import PersonalDataItem as DataItem
from mdm_profile.domain.links import LinkType, PersonLink
from mdm_profile.domain.models import Person
from mdm_profile.domain.privacy import MergeEntry, PrivacyStore, merge_group
from mdm_profile.domain.quality.addresses import PostalAddress
from mdm_profile.domain.quality.identifiers import Identifier
from mdm_profile.domain.records import CleanRecord


class Origin:
    GOLDEN = "golden"
    SOURCE_RECORD = "sourceRecord"
    HOUSEHOLD = "household"
    COMPANY = "company"
    RELATION = "relation"
    MERGE = "merge"


@dataclass(frozen=True)
class PersonalData:
    person_ids: list[str]
    erased: bool
    restricted: bool
    items: list[DataItem]


def _compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False)


def _address_text(address: PostalAddress) -> str:
    return _compact(
        {
            "street": address.street,
            "houseNumber": address.house_number,
            "postalCode": address.postal_code,
            "city": address.city,
            "country": address.country,
        }
    )


# Per attribute of a golden record or a source record: (field, category, text) triples.
def _fields(
    *,
    given: str,
    family: str,
    titles: Sequence[str],
    suffix: str | None,
    salutation: str | None,
    birth_date: date | None,
    email: str | None,
    phone: str | None,
    address: PostalAddress | None,
    language: str | None,
) -> list[tuple[str, str, str, str]]:
    """(attribute for lineage, field, category, value) of every value that is set."""
    found: list[tuple[str, str, str, str | None]] = [
        ("name", "givenName", DataCategory.IDENTITY, given or None),
        ("name", "familyName", DataCategory.IDENTITY, family or None),
        ("name", "titles", DataCategory.IDENTITY, " ".join(titles) or None),
        ("name", "suffix", DataCategory.IDENTITY, suffix),
        ("salutation", "salutation", DataCategory.IDENTITY, salutation),
        (
            "birthDate",
            "birthDate",
            DataCategory.BIRTH_DATE,
            birth_date.isoformat() if birth_date else None,
        ),
        ("email", "email", DataCategory.EMAIL, email),
        ("phone", "phone", DataCategory.PHONE, phone),
        (
            "address",
            "address",
            DataCategory.POSTAL_ADDRESS,
            _address_text(address) if address else None,
        ),
        ("language", "language", DataCategory.LANGUAGE, language),
    ]
    return [(a, f, c, v) for a, f, c, v in found if v]


def _golden_items(person: Person) -> list[DataItem]:
    items = []
    for attribute, field, category, value in _fields(
        given=person.given_name,
        family=person.family_name,
        titles=person.titles,
        suffix=person.suffix,
        salutation=person.salutation,
        birth_date=person.birth_date,
        email=person.email,
        phone=person.phone.e164 if person.phone else None,
        address=person.address,
        language=person.language,
    ):
        lineage = person.lineage.get(attribute)
        items.append(
            DataItem(
                person.id,
                Origin.GOLDEN,
                category,
                field,
                value,
                source=lineage.source if lineage else None,
                source_id=lineage.source_id if lineage else None,
                recorded_at=person.updated_at,
            )
        )
    if person.birth_date is None and person.birth_date_partial:
        lineage = person.lineage.get("birthDate")
        items.append(
            DataItem(
                person.id,
                Origin.GOLDEN,
                DataCategory.BIRTH_DATE,
                "birthDate",
                person.birth_date_partial,
                source=lineage.source if lineage else None,
                source_id=lineage.source_id if lineage else None,
                recorded_at=person.updated_at,
            )
        )
    items.extend(
        DataItem(
            person.id,
            Origin.GOLDEN,
            DataCategory.IDENTIFIERS,
            "identifier",
            _identifier_text(sourced.identifier),
            source=sourced.source,
            source_id=sourced.source_id,
            recorded_at=person.updated_at,
        )
        for sourced in person.identifiers
    )
    return items


def _identifier_text(identifier: Identifier) -> str:
    return _compact(
        {
            "scheme": identifier.scheme,
            "issuer": identifier.issuer or None,
            "value": identifier.value,
        }
    )


# A value kept as received (not used anywhere) is listed under its attribute's category.
_RAW_CATEGORY = {
    "email": DataCategory.EMAIL,
    "phone": DataCategory.PHONE,
    "postalCode": DataCategory.POSTAL_ADDRESS,
    "country": DataCategory.POSTAL_ADDRESS,
    "language": DataCategory.LANGUAGE,
    "birthDate": DataCategory.BIRTH_DATE,
}


def _raw_category(field: str) -> str:
    if field.startswith("identifier"):
        return DataCategory.IDENTIFIERS
    return _RAW_CATEGORY.get(field, DataCategory.SOURCE_RECORD)


def _record_items(person_id: str, record: CleanRecord) -> list[DataItem]:
    def item(category: str, field: str, value: str) -> DataItem:
        return DataItem(
            person_id,
            Origin.SOURCE_RECORD,
            category,
            field,
            value,
            source=record.source,
            source_id=record.source_id,
            recorded_at=record.recorded_at,
        )

    values = _fields(
        given=record.given_name,
        family=record.family_name,
        titles=record.titles,
        suffix=record.suffix,
        salutation=record.salutation,
        birth_date=record.birth_date,
        email=record.email,
        phone=record.phone.e164 if record.phone else None,
        address=record.address,
        language=record.language,
    )
    extra = [
        item(DataCategory.IDENTIFIERS, "identifier", _identifier_text(i))
        for i in record.identifiers
    ]
    if record.birth_date is None and record.birth_date_partial:
        extra.append(item(DataCategory.BIRTH_DATE, "birthDate", record.birth_date_partial))
    # Kept as received, used nowhere (docs/profile-model.md): still the person's data.
    extra += [
        item(_raw_category(field), f"keptRaw.{field}", value) for field, value in record.kept_raw
    ]
    return [
        item(DataCategory.SOURCE_RECORD, "sourceRecord", record.key),
        *(item(category, field, value) for _, field, category, value in values),
        *extra,
    ]


_LINK_ORIGIN = {
    LinkType.HOUSEHOLD: (Origin.HOUSEHOLD, "household", "householdId"),
    LinkType.EMPLOYER: (Origin.COMPANY, "employer", "companyId"),
    LinkType.RELATION_TO: (Origin.RELATION, "relatedTo", "personId"),
    LinkType.RELATION_FROM: (Origin.RELATION, "relatedFrom", "personId"),
}


def _link_item(person_id: str, link: PersonLink) -> DataItem:
    origin, field, target = _LINK_ORIGIN[link.type]
    props = {k: v for k, v in link.props.items() if isinstance(v, str | bool | int | float)}
    return DataItem(
        person_id,
        origin,
        DataCategory.RELATIONSHIPS,
        field,
        _compact({target: link.target_id, **props}),
    )


def _merge_item(merge: MergeEntry) -> DataItem:
    value = _compact(
        {
            "mergeId": merge.id,
            "survivorId": merge.survivor_id,
            "mergedId": merge.merged_id,
            "actor": merge.actor,
            "reason": merge.reason,
            "state": merge.state,
        }
    )
    return DataItem(
        merge.survivor_id,
        Origin.MERGE,
        DataCategory.RELATIONSHIPS,
        "merge",
        value,
        recorded_at=merge.at,
    )


async def personal_data(person_id: str, *, store: PrivacyStore) -> PersonalData:
    """Everything the profile holds on the person's merge group, item by item."""
    group = await merge_group(person_id, store)
    ids = group.person_ids
    if group.erased:
        return PersonalData(ids, erased=True, restricted=False, items=[])
    persons = await store.persons(ids)
    items = [item for pid in ids if pid in persons for item in _golden_items(persons[pid])]
    for described, record in await store.records(ids):
        items.extend(_record_items(described, record))
    links = await store.links(ids)
    items.extend(_link_item(pid, link) for pid in ids for link in links.get(pid, ()))
    items.extend(_merge_item(m) for m in await store.merges(ids))
    return PersonalData(ids, erased=False, restricted=group.restricted, items=items)
