"""Recording consent events with their proof. Append-only: nothing is ever updated.

Which proof each event type needs is in :data:`REQUIRED`; a write without it is
refused as a whole (``BAD_USER_INPUT`` with ``reason: PROOF_MISSING`` and the
missing fields) before anything is written.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from mdm_common.contracts import NONE, Event
from mdm_common.errors import Conflict, Forbidden, InvalidInput, NotFound
from mdm_consent.domain import double_opt_in, minors
from mdm_consent.domain.models import (
    ActorType,
    Channel,
    ConsentEvent,
    EventType,
    Fact,
    Method,
    Purpose,
)
from mdm_consent.domain.ports import PersonDirectory, ProfilePerson
from mdm_consent.domain.purposes import (
    DATA_CATEGORY,
    checked_code,
    checked_language,
    known_purpose,
)
from mdm_consent.domain.stores import Stores, Transactions

PERSON_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
MAX_TEXT = 200
# Clocks of the collecting systems may run a little ahead; more is an error. Also the
# default of how far an event recorded "now" may lie from the server's clock.
CLOCK_SKEW = timedelta(minutes=5)

# What a customer does, and an application may therefore record as it happens: give
# consent (at once or by double opt-in), withdraw it, object (Art. 7(3), 21). The
# rest is the controller's assertion about a customer (an expiry, a guardian's
# authorisation, evidence of age, a sale): recorded by a compliance officer, or
# imported with its evidence (domain/imports.py).
CUSTOMER_ACTS = frozenset(
    {
        EventType.GRANTED,
        EventType.PENDING_DOUBLE_OPT_IN,
        EventType.CONFIRMED,
        EventType.WITHDRAWN,
        EventType.OBJECTED,
    }
)
EVERY_TYPE = frozenset(EventType)

_CONSENT_PROOF = ("purpose", "channel", "noticeVersion", "language", "evidenceRef")
# Beyond what every event needs: collection point, method, actor (and staffId for STAFF).
REQUIRED: dict[EventType, tuple[str, ...]] = {
    EventType.GRANTED: _CONSENT_PROOF,
    EventType.PENDING_DOUBLE_OPT_IN: _CONSENT_PROOF,
    # The confirmation token's hash is the proof that the mailbox's owner confirmed.
    EventType.CONFIRMED: ("purpose", "confirms", "evidenceRef", "confirmationToken"),
    # Withdrawing must be as easy as consenting (Art. 7(3)): no paperwork beyond the basics.
    EventType.WITHDRAWN: ("purpose",),
    EventType.OBJECTED: (),  # without a purpose: an objection to all direct marketing
    EventType.EXPIRED: ("purpose",),
    # UWG §7(3): the order (evidenceRef), what was sold (Nr. 2), the notice telling the
    # customer they may object at any time (Nr. 4).
    EventType.SALE_RECORDED: ("purpose", "noticeVersion", "evidenceRef", "productCategory"),
    EventType.PARENTAL_AUTHORISATION: ("purpose", "evidenceRef"),
    EventType.AGE_EVIDENCE: ("birthDate", "evidenceRef"),
}
_ONLY_FOR = {
    "confirms": EventType.CONFIRMED,
    "birthDate": EventType.AGE_EVIDENCE,
    "productCategory": EventType.SALE_RECORDED,
    "confirmationToken": EventType.CONFIRMED,
}
_ALLOWED_ACTORS = {
    EventType.CONFIRMED: {ActorType.DATA_SUBJECT},
    EventType.PARENTAL_AUTHORISATION: {ActorType.GUARDIAN, ActorType.STAFF},
}


@dataclass(frozen=True)
class EventDraft:
    """A consent event as submitted; ``to_event`` checks its proof."""

    person_id: str
    type: EventType
    collection_point: str
    method: Method
    actor: ActorType
    occurred_at: datetime | None = None
    purpose: str | None = None
    channel: Channel | None = None
    notice_version: int | None = None
    language: str | None = None
    staff_id: str | None = None
    evidence_ref: str | None = None
    confirms: str | None = None
    birth_date: date | None = None
    product_category: str | None = None
    # Double opt-in proof: the token of the confirmation link (only its SHA-256 is
    # kept) and the requesting IP address (kept truncated to its network).
    confirmation_token: str | None = None
    ip_address: str | None = None

    def _given(self) -> dict[str, object]:
        return {
            "purpose": self.purpose, "channel": self.channel,
            "noticeVersion": self.notice_version, "language": self.language,
            "evidenceRef": _blank_to_none(self.evidence_ref), "confirms": self.confirms,
            "birthDate": self.birth_date, "productCategory": self.product_category,
            "confirmationToken": _blank_to_none(self.confirmation_token),
        }  # fmt: skip

    def to_event(
        self,
        *,
        now: datetime,
        recorded_by: str,
        confirm_within: timedelta = double_opt_in.DEFAULT_WINDOW,
    ) -> ConsentEvent:
        """The event with its proof checked; a pending double opt-in lapses
        ``confirm_within`` after it occurred."""
        if not PERSON_ID.match(self.person_id):
            raise InvalidInput("personId is not a person id.", field="personId")
        given = self._given()
        missing = [f for f in REQUIRED[self.type] if given[f] is None]
        collection_point = _blank_to_none(self.collection_point)
        if collection_point is None:
            missing.insert(0, "collectionPoint")
        staff_id = _blank_to_none(self.staff_id)
        if self.actor is ActorType.STAFF and staff_id is None:
            missing.append("staffId")
        if missing or collection_point is None:
            raise InvalidInput(
                f"A {self.type.value} event needs proof: {', '.join(missing)}.",
                field=missing[0], details={"reason": "PROOF_MISSING", "missing": missing},
            )  # fmt: skip
        self._check_shape(given)
        evidence_ref = _blank_to_none(self.evidence_ref)
        occurred_at = self.occurred_at or now
        if occurred_at.tzinfo is None:
            raise InvalidInput("occurredAt needs a time zone.", field="occurredAt")
        if occurred_at > now + CLOCK_SKEW:
            raise InvalidInput("occurredAt lies in the future.", field="occurredAt")
        return ConsentEvent(
            id=str(uuid.uuid4()), person_id=self.person_id, type=self.type,
            occurred_at=occurred_at, recorded_at=now, recorded_by=recorded_by,
            collection_point=_bounded(collection_point, "collectionPoint"), method=self.method,
            actor=self.actor, purpose=self.purpose, channel=self.channel,
            notice_version=self.notice_version, language=self.language,
            staff_id=_bounded(staff_id, "staffId") if staff_id else None,
            evidence_ref=_bounded(evidence_ref, "evidenceRef") if evidence_ref else None,
            confirms=self.confirms, birth_date=self.birth_date,
            product_category=self.product_category,
            confirm_by=(occurred_at + confirm_within
                        if self.type is EventType.PENDING_DOUBLE_OPT_IN else None),
            token_sha256=(double_opt_in.token_sha256(self.confirmation_token)
                          if self.confirmation_token else None),
            ip_network=double_opt_in.ip_network(self.ip_address) if self.ip_address else None,
        )  # fmt: skip

    def _check_shape(self, given: dict[str, object]) -> None:
        for name, only in _ONLY_FOR.items():
            if given[name] is not None and self.type is not only:
                raise InvalidInput(f"{name} belongs to {only.value} events only.", field=name)
        if self.type is EventType.AGE_EVIDENCE and self.purpose is not None:
            raise InvalidInput("Evidence of age counts for every purpose; give no purpose.",
                               field="purpose")  # fmt: skip
        if self.purpose is not None:
            checked_code(self.purpose, field="purpose")
        if self.product_category is not None and not DATA_CATEGORY.match(self.product_category):
            raise InvalidInput(
                "productCategory is a lower-case code such as 'shoes'.", field="productCategory"
            )
        if self.language is not None:
            checked_language(self.language)
        if self.notice_version is not None and self.notice_version < 1:
            raise InvalidInput("noticeVersion starts at 1.", field="noticeVersion")
        if self.actor is ActorType.SYSTEM:
            raise InvalidInput(
                "Actor SYSTEM is the consent service's own (its jobs, the profile's birth "
                "date as evidence of age); a caller "
                "records as DATA_SUBJECT, GUARDIAN or STAFF.",
                field="actor",
                details={"reason": "SYSTEM_ONLY"},
            )
        allowed = _ALLOWED_ACTORS.get(self.type)
        if allowed and self.actor not in allowed:
            raise InvalidInput(
                f"A {self.type.value} event is given by: "
                f"{', '.join(sorted(a.value for a in allowed))}.", field="actor",
            )  # fmt: skip


def _blank_to_none(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None


def _bounded(text: str, field: str) -> str:
    if len(text) > MAX_TEXT:
        raise InvalidInput(f"{field} has at most {MAX_TEXT} characters.", field=field)
    return text


async def record_event(
    draft: EventDraft,
    *,
    directory: PersonDirectory,
    transactions: Transactions,
    now: datetime,
    recorded_by: str,
    may_record: frozenset[EventType] = EVERY_TYPE,
    skew: timedelta = CLOCK_SKEW,
    confirm_within: timedelta = double_opt_in.DEFAULT_WINDOW,
) -> ConsentEvent:
    """Record what happens now: the type is one the caller ``may_record``, the time
    within ``skew`` of ``now``; then check the proof, the person (profile service) and
    the purpose, and append. A grant for e-mail marketing is refused: it needs a
    double opt-in. Events of the past are imported (domain/imports.py)."""
    happening_now(draft, now=now, may_record=may_record, skew=skew)
    event = draft.to_event(now=now, recorded_by=recorded_by, confirm_within=confirm_within)
    person = await directory.lookup(event.person_id)
    if person is None:
        raise NotFound(f"No person with id {event.person_id}.", field="personId")

    async def append(stores: Stores) -> ConsentEvent:
        checked = await against_purpose(stores, with_person(event, person.id))
        double_opt_in.refuse_plain_grant(checked)
        evidence = await age_from_profile(stores, checked, person)
        await append_now(stores, checked)
        if evidence is not None:
            await append_announced(stores, evidence)
        return checked

    return await transactions.write(append)


async def append_announced(stores: Stores, event: ConsentEvent) -> None:
    """Append an event to the person's history and announce it (ids and its type only):
    the change stream tells the purpose's subscribers what it changes for them."""
    await stores.consents.append(event)
    stores.events.record(
        Event.CONSENT_CHANGED,
        person_id=event.person_id,
        purpose=event.purpose or NONE,
        channel=event.channel.value if event.channel else NONE,
        change=event.type.value,
    )


async def append_now(stores: Stores, event: ConsentEvent) -> None:
    """Append an event recorded as it happens; a double opt-in request is announced
    (ids only) for the mailing system, in the same transaction."""
    await append_announced(stores, event)
    if event.type is EventType.PENDING_DOUBLE_OPT_IN and event.purpose is not None:
        stores.events.record(
            Event.DOUBLE_OPT_IN_REQUESTED,
            person_id=event.person_id,
            purpose=event.purpose,
            channel=event.channel.value if event.channel else "",
            pending_event_id=event.id,
        )


def happening_now(
    draft: EventDraft, *, now: datetime, may_record: frozenset[EventType], skew: timedelta
) -> None:
    if draft.type not in may_record:
        raise Forbidden(
            f"{draft.type.value} is not an act of the customer; a compliance officer "
            "records it, or imports it with its evidence.",
            field="type",
            details={"reason": "NOT_A_CUSTOMER_ACT"},
        )
    if draft.method is Method.IMPORT:
        raise InvalidInput(
            "Events taken over from another system are imported (importConsentEvents).",
            field="method",
            details={"reason": "USE_IMPORT"},
        )
    at = draft.occurred_at
    if at is not None and at.tzinfo is not None and abs(at - now) > skew:
        raise InvalidInput(
            f"occurredAt must be within {int(skew.total_seconds())} s of now; events of "
            "the past are imported with their evidence (importConsentEvents).",
            field="occurredAt",
            details={"reason": "NOT_NOW", "skewSeconds": int(skew.total_seconds())},
        )


async def age_from_profile(
    stores: Stores, event: ConsentEvent, person: ProfilePerson
) -> ConsentEvent | None:
    """The profile's birth date as evidence of age for a consent (GDPR Art. 8), when it
    adds something to the evidence of the person's merge group (domain/minors.py)."""
    if event.type not in minors.CONSENT_ACTS or event.purpose is None:
        return None
    if minors.latest_possible_birth_date(person) is None:
        return None
    group = (await stores.consents.facts_of([event.person_id], event.purpose))[event.person_id]
    return minors.profile_age_evidence(event, person, group.facts)


def with_person(event: ConsentEvent, person_id: str) -> ConsentEvent:
    return replace(event, person_id=person_id)


async def against_purpose(stores: Stores, event: ConsentEvent) -> ConsentEvent:
    """Complete and check an event against its purpose, inside the writing transaction."""
    if event.purpose is None:
        return event
    purpose = await known_purpose(stores, event.purpose)
    if event.channel is not None and event.channel not in purpose.channels:
        raise InvalidInput(f"Purpose {purpose.code} does not use channel {event.channel.value}.",
                           field="channel", details={"reason": "CHANNEL_NOT_COVERED"})  # fmt: skip
    if event.type is EventType.SALE_RECORDED and not purpose.direct_marketing:
        raise InvalidInput("A sale is recorded for a direct-marketing purpose (UWG §7(3)).",
                           field="purpose")  # fmt: skip
    if event.type is EventType.CONFIRMED:
        pending = await _open_pending(stores, event, purpose)
        event = replace(event, channel=pending.channel, notice_version=pending.notice_version)
    if event.notice_version is not None:
        notice = purpose.notice(event.notice_version)
        if notice is None:
            raise NotFound(
                f"Purpose {purpose.code} has no notice version {event.notice_version}.",
                field="noticeVersion", details={"reason": "UNKNOWN_NOTICE_VERSION"},
            )  # fmt: skip
        event = replace(event, notice_sha256=notice.sha256)
    return replace(event, direct_marketing=purpose.direct_marketing)


async def _open_pending(stores: Stores, event: ConsentEvent, purpose: Purpose) -> Fact:
    # The facts of the person's whole merge group: an opt-in pending for a person merged
    # away since is confirmed under the survivor's id.
    facts = (await stores.consents.facts_of([event.person_id], purpose.code))[event.person_id].facts
    pending = next((f for f in facts if f.id == event.confirms), None)
    if pending is None or pending.type is not EventType.PENDING_DOUBLE_OPT_IN:
        raise NotFound("confirms is not a pending double opt-in of this person and purpose.",
                       field="confirms")  # fmt: skip
    for later in facts:
        confirmed = later.type is EventType.CONFIRMED and later.confirms == pending.id
        ended = (
            later.type in (EventType.WITHDRAWN, EventType.EXPIRED)
            and later.occurred_at >= pending.occurred_at
            and later.channel in (None, pending.channel)
        )
        if confirmed or ended:
            raise Conflict(
                "That double opt-in was confirmed or withdrawn already.",
                field="confirms",
                details={"reason": "ALREADY_CONFIRMED" if confirmed else "DOUBLE_OPT_IN_ENDED"},
            )
    if double_opt_in.lapsed(pending, event.occurred_at):
        raise Conflict(
            "That double opt-in request lapsed at "
            f"{double_opt_in.lapses_at(pending).isoformat()}; ask the person again.",
            field="confirms",
            details={"reason": "DOUBLE_OPT_IN_LAPSED"},
        )
    return pending
