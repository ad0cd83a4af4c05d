"""Contact uses: each time a consent is used to advertise, and the proof that follows
(UWG §7a).

Whoever advertises by telephone to a consumer must document the consent when it is
given and keep that proof for five years after it was given and after each use
(UWG §7a). An application records every use as it happens (``recordContactUse``):
person, purpose, channel, time (now, the same clock rule as consent events), the
campaign, and the contact check's verdict at that time with its deciding event.

A use the check refuses is recorded all the same and listed as not compliant: the
call was made; refusing to record it would hide an infringement from compliance
instead of preventing it. The same holds for an e-mail under the existing-customer
exception (UWG §7(3)) sent without the opt-out notice every message must carry
(§7(3) Nr. 4): the application says whether it included it.

The proof's keep-until is derived per person, purpose and channel: five years after
the last phone use. While it runs, erasure keeps the consent events (pseudonymised,
as always) and asks the profile to keep the phone number, restricted
(:mod:`mdm_consent.domain.legal_holds`), and retention does not remove the phone.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Protocol

from dateutil.relativedelta import relativedelta

from mdm_common.errors import InvalidInput, NotFound
from mdm_consent.domain import checks
from mdm_consent.domain.consents import CLOCK_SKEW, PERSON_ID
from mdm_consent.domain.models import Channel, EventType, LegalBasis
from mdm_consent.domain.ports import PersonDirectory
from mdm_consent.domain.rules import Reason
from mdm_consent.domain.stores import Stores, Transactions

PROOF_YEARS = 5  # UWG §7a
PROOF_CHANNELS = (Channel.PHONE,)
CAMPAIGN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:/-]{0,127}")
MAX_LISTED = 500


class Compliance(StrEnum):
    COMPLIANT = "COMPLIANT"
    NOT_ALLOWED = "NOT_ALLOWED"  # the contact check said no at the time of use
    OPT_OUT_NOTICE_MISSING = "OPT_OUT_NOTICE_MISSING"  # UWG §7(3) Nr. 4


@dataclass(frozen=True)
class ContactUse:
    id: str
    person_id: str  # the person the check answered for (the survivor of a merge)
    asked_for: str  # the id the application named
    purpose: str
    channel: Channel
    used_at: datetime
    campaign: str
    allowed: bool
    reason: Reason
    legal_basis: LegalBasis | None
    deciding_event_id: str | None
    deciding_event_type: EventType | None
    opt_out_notice_included: bool | None
    compliance: Compliance
    recorded_at: datetime
    recorded_by: str


@dataclass(frozen=True)
class UseDraft:
    person_id: str
    purpose: str
    channel: Channel
    campaign: str
    used_at: datetime | None = None
    opt_out_notice_included: bool | None = None


@dataclass(frozen=True)
class PhoneProof:
    """How long the proof of a phone consent is kept: five years after the last use."""

    person_id: str
    purpose: str
    channel: Channel
    last_used_at: datetime
    keep_until: date


class ContactUseStore(Protocol):
    async def add(self, use: ContactUse) -> None: ...

    async def of_persons(
        self, person_ids: Sequence[str], *, limit: int | None = None
    ) -> list[ContactUse]:
        """Newest first; all of them without ``limit``."""
        ...


def compliance_of(allowed: bool, reason: Reason, notice_included: bool | None) -> Compliance:
    if not allowed:
        return Compliance.NOT_ALLOWED
    # The existing-customer exception obliges an opt-out notice in every message
    # (the check's verdict names it as an obligation).
    if reason is Reason.EXISTING_CUSTOMER and not notice_included:
        return Compliance.OPT_OUT_NOTICE_MISSING
    return Compliance.COMPLIANT


def checked_draft(draft: UseDraft, *, now: datetime, skew: timedelta) -> datetime:
    if not PERSON_ID.match(draft.person_id):
        raise InvalidInput("personId is not a person id.", field="personId")
    if not CAMPAIGN.fullmatch(draft.campaign):
        raise InvalidInput(
            "campaign is a reference of 1-128 letters, digits or _.:/-",
            field="campaign",
            details={"reason": "BAD_CAMPAIGN"},
        )
    used_at = draft.used_at or now
    if used_at.tzinfo is None:
        raise InvalidInput("usedAt needs a time zone.", field="usedAt")
    if abs(used_at - now) > skew:
        raise InvalidInput(
            f"usedAt must be within {int(skew.total_seconds())} s of now: a use is recorded "
            "as it happens.",
            field="usedAt",
            details={"reason": "NOT_NOW", "skewSeconds": int(skew.total_seconds())},
        )
    return used_at


async def record(
    draft: UseDraft,
    *,
    directory: PersonDirectory,
    transactions: Transactions,
    now: datetime,
    recorded_by: str,
    skew: timedelta = CLOCK_SKEW,
) -> ContactUse:
    """Record a use now with the contact check's verdict at its time, allowed or not."""
    used_at = checked_draft(draft, now=now, skew=skew)
    person_id = await directory.resolve(draft.person_id)
    if person_id is None:
        raise NotFound(f"No person with id {draft.person_id}.", field="personId")

    async def add(stores: Stores) -> ContactUse:
        (decision,) = await checks.contact_check(
            [person_id], stores, purpose=draft.purpose, channel=draft.channel, at=used_at
        )
        verdict = decision.verdict
        use = ContactUse(
            id=str(uuid.uuid4()),
            person_id=decision.answered_for,
            asked_for=draft.person_id,
            purpose=decision.purpose,
            channel=draft.channel,
            used_at=used_at,
            campaign=draft.campaign,
            allowed=verdict.allowed,
            reason=verdict.reason,
            legal_basis=verdict.legal_basis,
            deciding_event_id=verdict.deciding.id if verdict.deciding else None,
            deciding_event_type=verdict.deciding.type if verdict.deciding else None,
            opt_out_notice_included=draft.opt_out_notice_included,
            compliance=compliance_of(
                verdict.allowed, verdict.reason, draft.opt_out_notice_included
            ),
            recorded_at=now,
            recorded_by=recorded_by,
        )
        await stores.contact_uses.add(use)
        return use

    return await transactions.write(add)


async def uses_of(stores: Stores, person_id: str, *, first: int) -> list[ContactUse]:
    if not PERSON_ID.match(person_id):
        raise InvalidInput("personId is not a person id.", field="personId")
    if not 1 <= first <= MAX_LISTED:
        raise InvalidInput(f"first must be 1-{MAX_LISTED}.", field="first")
    return await stores.contact_uses.of_persons([person_id], limit=first)


def proofs(uses: Sequence[ContactUse]) -> list[PhoneProof]:
    """Per person, purpose and phone channel: the last use and the proof's keep-until.

    Every phone use counts, the refused ones too: a dispute over an unlawful call
    needs the records as much as one over a lawful one."""
    last: dict[tuple[str, str, Channel], datetime] = {}
    for u in uses:
        if u.channel in PROOF_CHANNELS:
            key = (u.person_id, u.purpose, u.channel)
            last[key] = max(last.get(key, u.used_at), u.used_at)
    return [
        PhoneProof(pid, purpose, channel, at, (at + relativedelta(years=PROOF_YEARS)).date())
        for (pid, purpose, channel), at in sorted(last.items())
    ]


def proof_until(uses: Sequence[ContactUse], at: datetime) -> date | None:
    """The last day a proof of the uses' persons must be kept, if one still runs at ``at``."""
    running = [p.keep_until for p in proofs(uses) if p.keep_until >= at.date()]
    return max(running, default=None)
