"""Rectification requests without servers: what is asked, the decision and its outcome.

The requests live in memory here; tests/integration/test_rectification.py keeps them
in the real graph server."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any, TypeVar, cast

import pytest

from mdm_common.auth import Principal, Role
from mdm_common.errors import Conflict, InvalidInput, NotFound, Unavailable
from mdm_consent.domain import rectification as rect
from mdm_consent.domain.rectification import Decision, ProfileAnswer, Rectification
from mdm_consent.domain.requests import (
    DataSubjectRequest,
    IdentityCheck,
    ReceivedVia,
    RequestDraft,
    RequestFilter,
    RequestStatus,
    RequestType,
    submit,
)
from mdm_consent.domain.stores import Stores

T = TypeVar("T")
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
STEWARD = Principal("steward-1", frozenset({Role.STEWARD}))
OFFICER = Principal("officer-1", frozenset({Role.COMPLIANCE}))
PERSON = str(uuid.uuid4())
REASON = "The birth certificate the person sent shows this spelling."


class Requests:
    """The request store, in memory."""

    def __init__(self) -> None:
        self.saved: dict[str, DataSubjectRequest] = {}

    async def get(self, request_id: str, *, lock: bool = False) -> DataSubjectRequest | None:
        return self.saved.get(request_id)

    async def save(self, request: DataSubjectRequest) -> None:
        self.saved[request.id] = request

    async def of_person(self, person_ids: list[str]) -> list[DataSubjectRequest]:
        return [r for r in self.saved.values() if r.person_id in person_ids]

    async def find(
        self, filters: RequestFilter, *, after: tuple[date, str] | None, limit: int, today: date
    ) -> list[DataSubjectRequest]:
        found = [
            r
            for r in self.saved.values()
            if filters.type in (None, r.type) and filters.status in (None, r.status)
        ]
        return sorted(found, key=lambda r: (r.due, r.id))[:limit]


class Transactions:
    def __init__(self) -> None:
        self.requests = Requests()
        none = cast("Any", None)
        self.stores = Stores(
            purposes=none,
            consents=none,
            audits=none,
            merges=none,
            requests=self.requests,
            retention=none,
            processing=none,
            expiries=none,
            duties=none,
            contact_uses=none,
            events=none,
        )

    async def read(self, work: Callable[[Stores], Awaitable[T]]) -> T:
        return await work(self.stores)

    async def write(self, work: Callable[[Stores], Awaitable[T]]) -> T:
        return await work(self.stores)


class Directory:
    async def resolve(self, person_id: str) -> str | None:
        return person_id


class Profile:
    """The profile's operations; ``fail`` raises the given error once on the next call."""

    def __init__(self) -> None:
        self.applied: list[tuple[str, str, str, str]] = []
        self.fail: Exception | None = None

    def _maybe_fail(self) -> None:
        if self.fail is not None:
            error, self.fail = self.fail, None
            raise error

    async def check(
        self, person_id: str, field: str, value: str, *, actor: Principal
    ) -> ProfileAnswer:
        self._maybe_fail()
        return ProfileAnswer((person_id,), ("crm",))

    async def rectify(
        self, person_id: str, request_id: str, field: str, value: str, *, actor: Principal
    ) -> ProfileAnswer:
        self._maybe_fail()
        self.applied.append((person_id, request_id, field, value))
        return ProfileAnswer((person_id, "merged-1"), ("crm", "shop"))


def draft(type_: RequestType = RequestType.RECTIFICATION, **changes: Any) -> RequestDraft:
    base = RequestDraft(
        type=type_,
        person_id=PERSON,
        received_via=ReceivedVia.LETTER,
        identity_check=IdentityCheck.ID_DOCUMENT,
        rectification=Rectification("familyName", "Meyer"),
    )
    return replace(base, **changes)


async def submitted(
    transactions: Transactions, profile: Profile, **changes: Any
) -> DataSubjectRequest:
    return await rect.submit_rectification(
        draft(**changes),
        profile=profile,
        directory=Directory(),
        transactions=transactions,
        actor=OFFICER,
        now=NOW,
    )


async def decide(
    transactions: Transactions,
    profile: Profile,
    request_id: str,
    *,
    approve: bool,
    reason: str = REASON,
) -> DataSubjectRequest:
    return await rect.decide(
        request_id,
        approve=approve,
        reason=reason,
        profile=profile,
        transactions=transactions,
        actor=STEWARD,
        now=NOW,
    )


class TestSubmission:
    async def test_the_request_keeps_field_value_and_recipients_and_waits(self) -> None:
        made = await submitted(tx := Transactions(), Profile())
        assert (made.type, made.status) == (RequestType.RECTIFICATION, RequestStatus.OPEN)
        assert made.rectification == Rectification("familyName", "Meyer", recipients=("crm",))
        assert tx.requests.saved[made.id] == made

    @pytest.mark.parametrize(
        ("field", "value", "expected"),
        [("nickname", "Jo", "field"), ("email", "  ", "value"), ("email", "x" * 2001, "value")],
    )
    async def test_a_malformed_ask_is_refused_before_the_profile_is_asked(
        self, field: str, value: str, expected: str
    ) -> None:
        profile = Profile()
        profile.fail = AssertionError("the profile was asked")
        with pytest.raises(InvalidInput) as caught:
            await submitted(Transactions(), profile, rectification=Rectification(field, value))
        assert caught.value.field == expected

    async def test_the_profiles_refusal_of_the_value_records_nothing(self) -> None:
        profile, tx = Profile(), Transactions()
        profile.fail = InvalidInput(
            "email is not valid", field="email", details={"reason": "INVALID"}
        )
        with pytest.raises(InvalidInput) as caught:
            await submitted(tx, profile)
        assert (caught.value.field, caught.value.details) == ("email", {"reason": "INVALID"})
        assert tx.requests.saved == {}

    async def test_the_details_come_with_a_rectification_and_only_with_one(self) -> None:
        unused = cast("Any", None)
        for wrong in (draft(rectification=None), draft(RequestType.ACCESS)):
            with pytest.raises(InvalidInput) as caught:
                await submit(
                    wrong, directory=unused, transactions=unused, submitted_by="o", now=NOW
                )
            assert caught.value.details == {"reason": "RECTIFICATION_DETAILS"}


class TestDecision:
    async def test_approval_applies_it_and_completes_with_the_outcome(self) -> None:
        tx, profile = Transactions(), Profile()
        made = await submitted(tx, profile)
        done = await decide(tx, profile, made.id, approve=True)
        assert profile.applied == [(PERSON, made.id, "familyName", "Meyer")]
        assert (done.status, done.settled_by, done.person_ids) == (
            RequestStatus.COMPLETED,
            "steward-1",
            (PERSON, "merged-1"),
        )
        assert done.rectification == Rectification(
            "familyName",
            None,
            recipients=("crm", "shop"),
            decision=Decision.APPROVED,
            decided_at=NOW,
            decided_by="steward-1",
            reason=REASON,
        )
        assert [(s.service, s.detail) for s in done.steps] == [
            ("profile", "rectified familyName; recipients 2")
        ]

    async def test_rejection_records_the_reason_and_changes_nothing(self) -> None:
        tx, profile = Transactions(), Profile()
        made = await submitted(tx, profile)
        done = await decide(tx, profile, made.id, approve=False)
        assert profile.applied == []
        assert done.status is RequestStatus.COMPLETED
        assert done.rectification is not None
        assert (done.rectification.decision, done.rectification.reason) == (
            Decision.REJECTED,
            REASON,
        )
        assert done.rectification.value is None  # not kept once decided
        again = await _conflict(decide(tx, profile, made.id, approve=True))
        assert again.details == {"reason": "REQUEST_SETTLED"}

    async def test_an_unreachable_profile_leaves_it_in_progress_and_deciding_again_resumes(
        self,
    ) -> None:
        tx, profile = Transactions(), Profile()
        made = await submitted(tx, profile)
        profile.fail = Unavailable("not reachable")
        with pytest.raises(Unavailable):
            await decide(tx, profile, made.id, approve=True)
        assert tx.requests.saved[made.id].status is RequestStatus.IN_PROGRESS
        refused = await _conflict(decide(tx, profile, made.id, approve=False))
        assert refused.details == {"reason": "REQUEST_NOT_OPEN"}
        done = await decide(tx, profile, made.id, approve=True)
        assert (done.status, len(profile.applied)) == (RequestStatus.COMPLETED, 1)

    async def test_a_refusal_by_the_profile_leaves_it_open_and_undecided(self) -> None:
        tx, profile = Transactions(), Profile()
        made = await submitted(tx, profile)
        profile.fail = NotFound(
            "Person was erased.", field="personId", details={"reason": "ERASED"}
        )
        with pytest.raises(NotFound):
            await decide(tx, profile, made.id, approve=True)
        kept = tx.requests.saved[made.id]
        assert kept.status is RequestStatus.OPEN
        assert kept.rectification == made.rectification
        rejected = await decide(tx, profile, made.id, approve=False)
        assert rejected.status is RequestStatus.COMPLETED

    async def test_only_a_rectification_is_decided_and_the_reason_has_a_length(self) -> None:
        tx, profile = Transactions(), Profile()
        access = await submit(
            draft(RequestType.ACCESS, rectification=None),
            directory=Directory(),
            transactions=tx,
            submitted_by="o",
            now=NOW,
        )
        wrong = await _conflict(decide(tx, profile, access.id, approve=True))
        assert wrong.details == {"reason": "WRONG_REQUEST_TYPE"}
        made = await submitted(tx, profile)
        with pytest.raises(InvalidInput) as short:
            await decide(tx, profile, made.id, approve=True, reason="ok")
        assert short.value.field == "reason"

    async def test_the_queue_lists_rectifications_only(self) -> None:
        tx, profile = Transactions(), Profile()
        made = await submitted(tx, profile)
        await submit(
            draft(RequestType.ACCESS, rectification=None),
            directory=Directory(),
            transactions=tx,
            submitted_by="o",
            now=NOW,
        )
        found, more = await rect.queue(
            tx.stores, status=RequestStatus.OPEN, first=10, after=None, now=NOW
        )
        assert ([r.id for r in found], more) == ([made.id], False)


async def _conflict(call: Awaitable[object]) -> Conflict:
    with pytest.raises(Conflict) as caught:
        await call
    return caught.value


class TestErasure:
    async def test_an_erasure_takes_the_values_and_leaves_only_a_rejection(self) -> None:
        tx, profile = Transactions(), Profile()
        made = await submitted(tx, profile, note="Phoned twice about the spelling.")
        decided = await submitted(tx, profile)
        await decide(tx, profile, decided.id, approve=True)
        assert await rect.forget_values(tx.stores, [PERSON]) == 1
        kept = tx.requests.saved[made.id]
        assert (kept.note, kept.rectification) == (
            None,
            Rectification("familyName", None, ("crm",)),
        )
        erased = await _conflict(decide(tx, profile, made.id, approve=True))
        assert erased.details == {"reason": "ERASED"}
        assert profile.applied == [(PERSON, decided.id, "familyName", "Meyer")]
        rejected = await decide(tx, profile, made.id, approve=False)
        assert rejected.status is RequestStatus.COMPLETED
