"""Carrying out data-subject requests across the three services.

The consent service tracks the request; each service answers for what it holds
(docs/data-subject-requests.md). The export is in :mod:`mdm_consent.domain.access_export`;
this module keeps what both share and carries out erasure and restriction. They go
service by service, each call idempotent: the request records
every service's step as it is done, so a failure leaves the request IN_PROGRESS
with the steps so far, and carrying it out again resumes where it stopped.

Order of an erasure: the profile first (its erasure writes the suppression entries
in the same transaction, so from then on no import brings the person back), then
matching's copy, then the consent service's own part (pseudonymised events, and a
hold that answers every contact check with ``ERASED``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Protocol

from mdm_common.auth import Principal
from mdm_common.contracts import NONE, Event, PersonalDataItem
from mdm_common.errors import Conflict
from mdm_consent.domain import (
    legal_holds,
)
from mdm_consent.domain.legal_holds import LegalHold, Restricted
from mdm_consent.domain.models import (
    Hold,
    HoldKind,
)
from mdm_consent.domain.rectification import forget_values
from mdm_consent.domain.requests import (
    DataSubjectRequest,
    RequestStatus,
    RequestType,
    Step,
    known,
    reason_text,
)
from mdm_consent.domain.stores import Stores, Transactions

PROFILE = "profile"
MATCHING = "matching"
DISTRIBUTION = "distribution"
CONSENT = "consent"
EXPORT_TYPES = (RequestType.ACCESS, RequestType.PORTABILITY)


@dataclass(frozen=True)
class Held:
    """One item as exported: the service holding it, and the item."""

    service: str
    item: PersonalDataItem


@dataclass(frozen=True)
class HeldData:
    """What one service holds on a merge group."""

    person_ids: tuple[str, ...]
    items: tuple[PersonalDataItem, ...]
    erased: bool = False
    restricted: bool = False


@dataclass(frozen=True)
class Outcome:
    """One service's part of an erasure or restriction, as it reported it."""

    person_ids: tuple[str, ...]
    detail: str
    erased: tuple[str, ...] = ()  # erasure: categories of which values went
    restricted: tuple[Restricted, ...] = ()  # what retention duties keep (legal_holds.py)


class PrivacyServices(Protocol):
    """The profile and matching services' operations for requests (signed calls)."""

    async def profile_data(self, person_id: str, *, actor: Principal) -> HeldData: ...

    async def matching_data(self, person_ids: Sequence[str], *, actor: Principal) -> HeldData: ...

    async def distribution_data(
        self, person_ids: Sequence[str], *, actor: Principal
    ) -> HeldData: ...

    async def erase_profile(
        self,
        person_id: str,
        request_id: str,
        *,
        actor: Principal,
        holds: Sequence[LegalHold] = (),
    ) -> Outcome: ...

    async def erase_matching(
        self, person_ids: Sequence[str], request_id: str, *, actor: Principal
    ) -> Outcome: ...

    async def restrict_profile(
        self, person_id: str, request_id: str, restricted: bool, *, actor: Principal
    ) -> Outcome: ...

    async def restrict_matching(
        self, person_ids: Sequence[str], request_id: str, restricted: bool, *, actor: Principal
    ) -> Outcome: ...


# ------------------------------------------------------------- erasure, restriction


async def carry_out(
    request_id: str, *, services: PrivacyServices, transactions: Transactions,
    actor: Principal, now: datetime,
) -> DataSubjectRequest:  # fmt: skip
    """Erase or restrict across the services; resumes where an earlier attempt stopped."""

    async def begin(stores: Stores) -> DataSubjectRequest:
        request = await known(stores, request_id, lock=True)
        if request.type not in (RequestType.ERASURE, RequestType.RESTRICTION):
            raise Conflict("Access and portability requests are answered with an export.",
                           field="id", details={"reason": "WRONG_REQUEST_TYPE"})  # fmt: skip
        if request.status.settled:
            raise Conflict("The request is settled already.", field="id",
                           details={"reason": "REQUEST_SETTLED"})  # fmt: skip
        started = replace(request, status=RequestStatus.IN_PROGRESS)
        await stores.requests.save(started)
        return started

    request = await transactions.write(begin)
    erase = request.type is RequestType.ERASURE
    if request.step(PROFILE) is None:
        if erase:
            # Art. 17(3)(b), (e): what retention duties cover is kept, restricted.
            asked = request.person_ids or (request.person_id,)
            holds = await transactions.read(lambda s: legal_holds.for_erasure(s, asked, now=now))
            done = await services.erase_profile(
                request.person_id, request.id, actor=actor, holds=holds
            )
        else:
            done = await services.restrict_profile(request.person_id, request.id, True, actor=actor)
        request = await _record(request.id, PROFILE, done, transactions, now=now)
    step = request.step(PROFILE)
    assert step is not None  # recorded above or by an earlier attempt
    group = step.person_ids or (request.person_id,)
    if request.step(MATCHING) is None:
        done = await (
            services.erase_matching(group, request.id, actor=actor) if erase
            else services.restrict_matching(group, request.id, True, actor=actor)
        )  # fmt: skip
        request = await _record(request.id, MATCHING, done, transactions, now=now)

    async def finish(stores: Stores) -> DataSubjectRequest:
        current = await known(stores, request_id, lock=True)
        if current.status.settled:
            return current  # a concurrent attempt finished it
        kind = HoldKind.ERASED if erase else HoldKind.RESTRICTED
        changed = await _hold(stores, group, kind, current.id, now=now)
        detail = f"holds {changed}"
        kept: tuple[Restricted, ...] = ()
        if erase:
            detail += f", events pseudonymised {await stores.consents.pseudonymise(group)}"
            kept = await legal_holds.proof_kept(stores, group, service=CONSENT, now=now)
            await forget_values(stores, group)  # pending rectifications' values
        step = Step(CONSENT, now, group, detail, restricted=kept)
        settled = replace(
            current, steps=(*current.steps, step), person_ids=group,
            status=RequestStatus.COMPLETED, settled_at=now, settled_by=actor.subject,
            # The note is free text and may name the person; the request itself stays
            # as the record that it was handled (Art. 5(2)).
            note=None if erase else current.note,
        )  # fmt: skip
        await stores.requests.save(settled)
        return settled

    return await transactions.write(finish)


async def _record(
    request_id: str, service: str, outcome: Outcome, transactions: Transactions, *, now: datetime
) -> DataSubjectRequest:
    async def record(stores: Stores) -> DataSubjectRequest:
        current = await known(stores, request_id, lock=True)
        if current.step(service) is not None:
            return current
        step = Step(
            service,
            now,
            outcome.person_ids,
            outcome.detail,
            erased=outcome.erased,
            restricted=outcome.restricted,
        )
        updated = replace(current, steps=(*current.steps, step))
        await stores.requests.save(updated)
        return updated

    return await transactions.write(record)


async def _hold(
    stores: Stores, person_ids: Sequence[str], kind: HoldKind, request_id: str, *, now: datetime
) -> int:
    """Put a hold on each person that has none of this request yet; the number put."""
    holds = await stores.consents.holds_of(person_ids)
    changed = {
        pid: [*existing, Hold(kind, now, request_id)]
        for pid, existing in holds.items()
        if not any(h.request_id == request_id for h in existing)
    }
    if changed:
        await stores.consents.set_holds(changed)
    for person_id in changed:
        _announce_hold(stores, person_id, f"HOLD_{kind.value}")
    return len(changed)


def _announce_hold(stores: Stores, person_id: str, change: str) -> None:
    """A hold set or lifted changes every contact check of the person: announced like a
    consent event (the change stream stops or resumes its subscribers)."""
    stores.events.record(
        Event.CONSENT_CHANGED, person_id=person_id, purpose=NONE, channel=NONE, change=change
    )


async def lift_restriction(
    request_id: str, *, reason: str, services: PrivacyServices, transactions: Transactions,
    actor: Principal, now: datetime,
) -> DataSubjectRequest:  # fmt: skip
    """Lift a restriction in force (Art. 18(3): the person is told before), with the reason."""
    text = reason_text(reason, "reason")
    request = await transactions.read(lambda s: known(s, request_id))
    if request.type is not RequestType.RESTRICTION or request.status is not RequestStatus.COMPLETED:
        raise Conflict("Only a restriction carried out can be lifted.", field="id",
                       details={"reason": "NOT_A_RESTRICTION_IN_FORCE"})  # fmt: skip
    if request.lifted_at is not None:
        raise Conflict("The restriction was lifted already.", field="id",
                       details={"reason": "ALREADY_LIFTED"})  # fmt: skip
    group = request.person_ids or (request.person_id,)
    await services.restrict_profile(request.person_id, request.id, False, actor=actor)
    await services.restrict_matching(group, request.id, False, actor=actor)

    async def lift(stores: Stores) -> DataSubjectRequest:
        current = await known(stores, request_id, lock=True)
        if current.lifted_at is not None:
            return current
        holds = await stores.consents.holds_of(group)
        await stores.consents.set_holds({
            pid: [replace(h, until=now) if h.request_id == request_id and h.until is None else h
                  for h in existing]
            for pid, existing in holds.items()
        })  # fmt: skip
        for person_id in holds:
            _announce_hold(stores, person_id, "HOLD_LIFTED")
        lifted = replace(current, lifted_at=now, lift_reason=text, lifted_by=actor.subject)
        await stores.requests.save(lifted)
        return lifted

    return await transactions.write(lift)
