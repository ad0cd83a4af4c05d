"""Names shared between services: events and who reacts to them. No I/O, no Celery."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class Subscription:
    task: str
    queue: str


class Event:
    PERSON_CREATED = "profile.person_created"
    PERSON_UPDATED = "profile.person_updated"  # person_id: a source record of it changed
    PERSON_MERGED = "profile.person_merged"  # survivor_id, merged_id, merge_id
    PERSON_UNMERGED = "profile.person_unmerged"  # survivor_id, merged_id, merge_id
    PERSON_ERASED = "profile.person_erased"  # person_id: erased (Art. 17), a tombstone now
    # person_id: processing restricted (Art. 18) or the restriction lifted
    PERSON_RESTRICTED = "profile.person_restricted"
    COMPANY_CREATED = "profile.company_created"  # company_id
    # company_id: its source records, golden record, parent or employees changed
    COMPANY_UPDATED = "profile.company_updated"
    COMPANY_MERGED = "profile.company_merged"  # survivor_id, merged_id, merge_id
    COMPANY_UNMERGED = "profile.company_unmerged"  # survivor_id, merged_id, merge_id
    HOUSEHOLD_CONFIRMED = "profile.household_confirmed"  # household_id
    HOUSEHOLD_SPLIT = "profile.household_split"  # household_id, into_household_id
    MATCH_TRAINING_REQUESTED = "matching.training_requested"  # job_id
    REMATCH_REQUESTED = "matching.rematch_requested"  # job_id: sync, then partitions
    REMATCH_PARTITION_QUEUED = "matching.rematch_partition_queued"  # job_id, partition
    REMATCH_PARTITION_SCORED = "matching.rematch_partition_scored"  # job_id: merge when all are
    MATCH_MODEL_RECALIBRATED = "matching.model_recalibrated"  # change_id: new thresholds
    RETENTION_PAGE_QUEUED = "consent.retention_page_queued"  # run_id: the run's next page
    EXPIRY_PAGE_QUEUED = "consent.expiry_page_queued"  # run_id, after: the run's next page
    # person_id, purpose, channel, pending_event_id: send the confirmation mail/SMS
    DOUBLE_OPT_IN_REQUESTED = "consent.doi_requested"
    # person_id, purpose, channel, change (the consent event's type): the person's
    # consent history grew. NONE for a purpose (an objection to all direct marketing)
    # or a channel the event does not name.
    CONSENT_CHANGED = "consent.consent_changed"
    # purpose: its channels, categories or validity changed, or a material notice
    # version asks for renewed consent; every person's check for it may answer anew
    PURPOSE_CHANGED = "consent.purpose_changed"
    DISTRIBUTION_BACKFILL_REQUESTED = "distribution.backfill_requested"  # subscriber_id
    # subscriber_id, after: the last person id of the page before (the first page is the
    # request itself)
    DISTRIBUTION_BACKFILL_PAGE_QUEUED = "distribution.backfill_page_queued"
    DISTRIBUTION_EXPORT_PAGE_QUEUED = "distribution.export_page_queued"  # job_id


# The value of an event field the event does not name (fields are ids, never empty).
NONE = "-"


class DataCategory:
    """Categories of personal data, shared by the purpose registry, exports and erasure.

    The first six are the profile's attribute categories: a purpose lists those it
    uses (``dataCategories``), which binds each attribute to its purposes. The rest
    name what services hold about a person besides the attributes.
    """

    IDENTITY = "identity"  # given and family name, titles, suffix, salutation
    BIRTH_DATE = "birth_date"
    EMAIL = "email"
    PHONE = "phone"
    POSTAL_ADDRESS = "postal_address"
    LANGUAGE = "language"
    SOURCE_RECORD = "source_record"  # which systems sent which records, and when
    RELATIONSHIPS = "relationships"  # households, companies, merges
    MATCHING = "matching"  # matching's comparable copy, review tasks, decisions
    CONSENT = "consent"  # consent events, requests
    # Customer numbers, loyalty cards, tax and national ids of the golden record. Not
    # (yet) removed by the retention job: it removes the six attribute categories.
    IDENTIFIERS = "identifiers"
    # Which subscribed systems the change stream sent the person's data to, and when.
    DISTRIBUTION = "distribution"

    ATTRIBUTES = (IDENTITY, BIRTH_DATE, EMAIL, PHONE, POSTAL_ADDRESS, LANGUAGE)
    # What a purpose may name (the record of processing lists them, Art. 30(1)(c)).
    DESCRIPTIONS = {
        IDENTITY: "given and family name, titles, suffix, salutation",
        BIRTH_DATE: "date of birth (full or partial)",
        EMAIL: "e-mail addresses",
        PHONE: "telephone numbers",
        POSTAL_ADDRESS: "postal addresses",
        LANGUAGE: "preferred language",
        IDENTIFIERS: "customer numbers, loyalty cards, tax and national identification numbers",
        SOURCE_RECORD: "records received from source systems, with their origin and time",
        RELATIONSHIPS: "households, employers, related persons, merges of records",
        MATCHING: "comparison keys, duplicate candidates and decisions on them",
        CONSENT: "consent events with their proof, data-subject requests",
        DISTRIBUTION: "the systems the person's data was sent to through the change "
        "stream, when, and when they were told to stop or of an erasure",
    }


@dataclass(frozen=True)
class PersonalDataItem:
    """One value a service holds on a person, as data-subject exports list it
    (docs/data-subject-requests.md): the id it is stored under, where in the service
    it lives (``origin``), its :class:`DataCategory`, the field and the value as text."""

    person_id: str
    origin: str
    category: str
    field: str
    value: str
    source: str | None = None  # the source system it came from, where known
    source_id: str | None = None
    recorded_at: datetime | None = None


# Which service reacts to which event. Adding a subscriber is one line here and a
# task of that name in the subscribing service's tasks.py.
SUBSCRIPTIONS: dict[str, tuple[Subscription, ...]] = {
    Event.PERSON_CREATED: (
        Subscription("matching.on_person_created", "matching"),
        Subscription("distribution.on_person_changed", "distribution"),
    ),
    Event.PERSON_UPDATED: (
        Subscription("matching.on_person_updated", "matching"),
        Subscription("distribution.on_person_changed", "distribution"),
    ),
    Event.PERSON_MERGED: (
        Subscription("matching.on_person_merged", "matching"),
        Subscription("consent.on_person_merged", "consent"),
        Subscription("distribution.on_person_merged", "distribution"),
    ),
    Event.PERSON_UNMERGED: (
        Subscription("matching.on_person_unmerged", "matching"),
        Subscription("consent.on_person_unmerged", "consent"),
        Subscription("distribution.on_person_unmerged", "distribution"),
    ),
    Event.PERSON_ERASED: (Subscription("distribution.on_person_erased", "distribution"),),
    Event.PERSON_RESTRICTED: (Subscription("distribution.on_person_changed", "distribution"),),
    Event.COMPANY_CREATED: (Subscription("matching.on_company_changed", "matching"),),
    Event.COMPANY_UPDATED: (Subscription("matching.on_company_changed", "matching"),),
    Event.COMPANY_MERGED: (Subscription("matching.on_company_merged", "matching"),),
    Event.COMPANY_UNMERGED: (Subscription("matching.on_company_unmerged", "matching"),),
    # Steward decisions on households: in the outbox and the change stream; no service
    # reacts yet.
    Event.HOUSEHOLD_CONFIRMED: (),
    Event.HOUSEHOLD_SPLIT: (),
    Event.MATCH_TRAINING_REQUESTED: (Subscription("matching.train_model", "matching"),),
    Event.REMATCH_REQUESTED: (Subscription("matching.rematch_sync", "matching"),),
    Event.REMATCH_PARTITION_QUEUED: (Subscription("matching.rematch_partition", "matching"),),
    Event.REMATCH_PARTITION_SCORED: (Subscription("matching.rematch_merge", "matching"),),
    Event.RETENTION_PAGE_QUEUED: (Subscription("consent.retention_page", "consent"),),
    Event.EXPIRY_PAGE_QUEUED: (Subscription("consent.expiry_page", "consent"),),
    # No task reacts yet: the change stream and webhooks carry it.
    Event.MATCH_MODEL_RECALIBRATED: (),
    # For the mailing system (through the change stream): the platform sends no mail.
    Event.DOUBLE_OPT_IN_REQUESTED: (),
    Event.CONSENT_CHANGED: (Subscription("distribution.on_consent_changed", "distribution"),),
    Event.PURPOSE_CHANGED: (Subscription("distribution.on_purpose_changed", "distribution"),),
    Event.DISTRIBUTION_BACKFILL_REQUESTED: (
        Subscription("distribution.backfill_page", "distribution"),
    ),
    Event.DISTRIBUTION_BACKFILL_PAGE_QUEUED: (
        Subscription("distribution.backfill_page", "distribution"),
    ),
    Event.DISTRIBUTION_EXPORT_PAGE_QUEUED: (
        Subscription("distribution.export_page", "distribution"),
    ),
}


class EventRecorder(Protocol):
    """What a use case needs to announce a change; delivered after commit."""

    def record(self, event: str, **ids: str) -> None: ...
