"""The record of processing activities (GDPR Art. 30(1)): who the controller is, and per
purpose whose data is processed, which categories, who receives it, transfers to third
countries, when it is erased, and where the security measures are described.

The purpose registry holds the purpose, its legal basis, data categories and retention
(Art. 30(1)(b), (c) second half, (f)). What the registry does not know is described
here: the controller (Art. 30(1)(a), (g)) and, per purpose, the categories of data
subjects, the recipients and the third-country transfers (Art. 30(1)(c), (d), (e)).
Both are versioned: a change is a new revision with who, when and why, never an
overwrite, so the record as it stood at any time can be shown (Art. 5(2)).

Everything is validated against fixed vocabularies (categories, recipient kinds,
safeguards, ISO 3166 countries): a record of free text cannot be checked for gaps.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

import pycountry

from mdm_common.errors import Conflict, InvalidInput
from mdm_consent.domain.models import Purpose
from mdm_consent.domain.purposes import known_purpose
from mdm_consent.domain.stores import Stores

MAX_TEXT = 500
MAX_ENTRIES = 50
MIN_REASON = 10
MAX_REASON = 2000
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# The EEA: transfers within it are no third-country transfers (Art. 44 ff.).
EEA = frozenset(
    [
        "AT",
        "BE",
        "BG",
        "CY",
        "CZ",
        "DE",
        "DK",
        "EE",
        "ES",
        "FI",
        "FR",
        "GR",
        "HR",
        "HU",
        "IE",
        "IT",
        "LT",
        "LU",
        "LV",
        "MT",
        "NL",
        "PL",
        "PT",
        "RO",
        "SE",
        "SI",
        "SK",
        "IS",
        "LI",
        "NO",
    ]
)


class DataSubjectCategory(StrEnum):
    """Whose data a purpose processes (Art. 30(1)(c))."""

    CUSTOMERS = "CUSTOMERS"
    PROSPECTS = "PROSPECTS"
    SUBSCRIBERS = "SUBSCRIBERS"  # newsletter and other subscriptions without a purchase
    BUSINESS_CONTACTS = "BUSINESS_CONTACTS"  # people working for business customers
    MINORS = "MINORS"  # under 16: Art. 8 applies
    WEBSITE_VISITORS = "WEBSITE_VISITORS"


class RecipientKind(StrEnum):
    """Categories of recipients (Art. 4(9), 30(1)(d))."""

    INTERNAL = "INTERNAL"  # a department of the controller
    PROCESSOR = "PROCESSOR"  # Art. 28: processes on the controller's behalf
    JOINT_CONTROLLER = "JOINT_CONTROLLER"  # Art. 26
    THIRD_PARTY = "THIRD_PARTY"  # another controller
    PUBLIC_AUTHORITY = "PUBLIC_AUTHORITY"


class Safeguard(StrEnum):
    """What a transfer to a third country rests on (Art. 45-49)."""

    ADEQUACY_DECISION = "ADEQUACY_DECISION"  # Art. 45
    STANDARD_CONTRACTUAL_CLAUSES = "STANDARD_CONTRACTUAL_CLAUSES"  # Art. 46(2)(c)
    BINDING_CORPORATE_RULES = "BINDING_CORPORATE_RULES"  # Art. 47
    DEROGATION = "DEROGATION"  # Art. 49: documented per Art. 49(6)


@dataclass(frozen=True)
class Recipient:
    name: str
    kind: RecipientKind
    country: str  # ISO 3166-1 alpha-2, where the recipient processes the data


@dataclass(frozen=True)
class Transfer:
    country: str
    recipient: str
    safeguard: Safeguard
    document_ref: str  # where the safeguard is documented (contract, decision)


@dataclass(frozen=True)
class Controller:
    """Art. 30(1)(a) and (g): the controller, its representative and data protection
    officer, and where the technical and organisational measures are described."""

    name: str
    address: str
    email: str
    security_measures_ref: str  # Art. 32(1): the document describing the measures
    representative: str | None = None  # Art. 27, for controllers outside the Union
    dpo_name: str | None = None  # Art. 37
    dpo_email: str | None = None
    revision: int = 0
    changed_at: datetime | None = None
    changed_by: str | None = None
    reason: str | None = None


@dataclass(frozen=True)
class ProcessingDescription:
    """What the purpose registry does not know about a purpose's processing."""

    purpose: str
    data_subject_categories: tuple[DataSubjectCategory, ...]
    recipients: tuple[Recipient, ...]
    transfers: tuple[Transfer, ...] = ()
    revision: int = 0
    changed_at: datetime | None = None
    changed_by: str | None = None
    reason: str | None = None


class Gap(StrEnum):
    """What keeps a record from being complete (shown to the officer, never hidden)."""

    NO_CONTROLLER = "NO_CONTROLLER"
    NOT_DESCRIBED = "NOT_DESCRIBED"  # no data subjects, recipients, transfers recorded
    NO_RECIPIENTS = "NO_RECIPIENTS"
    TRANSFER_WITHOUT_SAFEGUARD = "TRANSFER_WITHOUT_SAFEGUARD"  # a recipient abroad, no transfer
    NO_NOTICE = "NO_NOTICE"  # no notice text published (Art. 13 information)


@dataclass(frozen=True)
class ProcessingRecord:
    """One purpose as the record of processing shows it."""

    purpose: Purpose
    description: ProcessingDescription | None
    gaps: tuple[Gap, ...]


@dataclass(frozen=True)
class RecordOfProcessing:
    generated_at: datetime
    generated_by: str
    controller: Controller | None
    records: tuple[ProcessingRecord, ...]
    gaps: tuple[Gap, ...]  # of the document as a whole


def _text(value: str | None, field: str, *, required: bool = True) -> str | None:
    cleaned = (value or "").strip()
    if not cleaned:
        if required:
            raise InvalidInput(f"{field} is required.", field=field)
        return None
    if len(cleaned) > MAX_TEXT:
        raise InvalidInput(f"{field} has at most {MAX_TEXT} characters.", field=field)
    return cleaned


def _email(value: str | None, field: str, *, required: bool) -> str | None:
    cleaned = _text(value, field, required=required)
    if cleaned is not None and not EMAIL.match(cleaned):
        raise InvalidInput(f"{field} is not an e-mail address.", field=field)
    return cleaned


def _reason(reason: str) -> str:
    cleaned = reason.strip()
    if not MIN_REASON <= len(cleaned) <= MAX_REASON:
        raise InvalidInput(f"reason needs {MIN_REASON}-{MAX_REASON} characters.", field="reason")
    return cleaned


def country_code(value: str, field: str) -> str:
    """An ISO 3166-1 alpha-2 code, upper case; anything else is refused."""
    code = value.strip().upper()
    if len(code) != 2 or pycountry.countries.get(alpha_2=code) is None:
        raise InvalidInput(
            f"{field} must be an ISO 3166-1 alpha-2 country code such as DE or US.",
            field=field,
            details={"reason": "UNKNOWN_COUNTRY"},
        )
    return code


def checked_controller(controller: Controller) -> Controller:
    return Controller(
        name=_text(controller.name, "name") or "",
        address=_text(controller.address, "address") or "",
        email=_email(controller.email, "email", required=True) or "",
        security_measures_ref=_text(controller.security_measures_ref, "securityMeasuresRef") or "",
        representative=_text(controller.representative, "representative", required=False),
        dpo_name=_text(controller.dpo_name, "dpoName", required=False),
        dpo_email=_email(controller.dpo_email, "dpoEmail", required=False),
    )


def checked_description(description: ProcessingDescription) -> ProcessingDescription:
    if not description.data_subject_categories:
        raise InvalidInput(
            "dataSubjectCategories needs at least one category.", field="dataSubjectCategories"
        )
    if len(description.recipients) > MAX_ENTRIES or len(description.transfers) > MAX_ENTRIES:
        raise InvalidInput(f"At most {MAX_ENTRIES} recipients and transfers.", field="recipients")
    recipients = tuple(
        Recipient(
            name=_text(r.name, "recipients.name") or "",
            kind=r.kind,
            country=country_code(r.country, "recipients.country"),
        )
        for r in description.recipients
    )
    transfers = []
    for t in description.transfers:
        country = country_code(t.country, "transfers.country")
        if country in EEA:
            raise InvalidInput(
                f"{country} is in the EEA: no third-country transfer.",
                field="transfers.country",
                details={"reason": "NOT_A_THIRD_COUNTRY"},
            )
        transfers.append(
            Transfer(
                country=country,
                recipient=_text(t.recipient, "transfers.recipient") or "",
                safeguard=t.safeguard,
                document_ref=_text(t.document_ref, "transfers.documentRef") or "",
            )
        )
    return ProcessingDescription(
        purpose=description.purpose,
        data_subject_categories=tuple(dict.fromkeys(description.data_subject_categories)),
        recipients=recipients,
        transfers=tuple(transfers),
    )


async def set_controller(
    controller: Controller, *, reason: str, stores: Stores, actor: str, now: datetime
) -> Controller:
    """Record the controller's details as a new revision."""
    why = _reason(reason)
    checked = checked_controller(controller)
    current = await stores.processing.controller()
    revision = (current.revision if current else 0) + 1
    stored = replace(checked, revision=revision, changed_at=now, changed_by=actor, reason=why)
    if not await stores.processing.add_controller(stored):
        raise _changed_meanwhile("controller")
    return stored


async def describe(
    description: ProcessingDescription, *, reason: str, stores: Stores, actor: str, now: datetime
) -> ProcessingDescription:
    """Record what the registry does not know about a purpose's processing (a new revision)."""
    why = _reason(reason)
    purpose = await known_purpose(stores, description.purpose)
    checked = checked_description(description)
    current = await stores.processing.description(purpose.code)
    stored = ProcessingDescription(
        purpose=purpose.code,
        data_subject_categories=checked.data_subject_categories,
        recipients=checked.recipients,
        transfers=checked.transfers,
        revision=(current.revision if current else 0) + 1,
        changed_at=now,
        changed_by=actor,
        reason=why,
    )
    if not await stores.processing.add_description(stored):
        raise _changed_meanwhile("purpose")
    return stored


def _changed_meanwhile(field: str) -> Conflict:
    return Conflict(
        "It was changed at the same time; read it again and retry.",
        field=field,
        details={"reason": "CHANGED_MEANWHILE"},
    )


def gaps_of(purpose: Purpose, description: ProcessingDescription | None) -> tuple[Gap, ...]:
    """What a purpose's record lacks; empty when complete."""
    found = []
    if purpose.latest_version == 0:
        found.append(Gap.NO_NOTICE)
    if description is None:
        return (*found, Gap.NOT_DESCRIBED)
    if not description.recipients:
        found.append(Gap.NO_RECIPIENTS)
    covered = {t.country for t in description.transfers}
    if any(r.country not in EEA and r.country not in covered for r in description.recipients):
        found.append(Gap.TRANSFER_WITHOUT_SAFEGUARD)
    return tuple(found)


def record_of(
    purposes: list[Purpose],
    descriptions: dict[str, ProcessingDescription],
    controller: Controller | None,
    *,
    by: str,
    now: datetime,
) -> RecordOfProcessing:
    records = tuple(
        ProcessingRecord(p, descriptions.get(p.code), gaps_of(p, descriptions.get(p.code)))
        for p in sorted(purposes, key=lambda p: p.code)
    )
    return RecordOfProcessing(
        generated_at=now,
        generated_by=by,
        controller=controller,
        records=records,
        gaps=() if controller is not None else (Gap.NO_CONTROLLER,),
    )
