"""Contact uses, retention duties and legal holds against the real graph server, with
the profile replaced by a recorder of its calls (tests/e2e runs the real one)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import date, timedelta

import pytest

from mdm_common.contracts import DataCategory
from mdm_common.errors import Conflict, NotFound
from mdm_common.graph import GraphClient
from mdm_consent.adapters.transactions import SCHEMA, GraphTransactions
from mdm_consent.domain import (
    consents,
    contact_uses,
    fulfilment,
    legal_holds,
    purposes,
    requests,
    retention_runs,
)
from mdm_consent.domain.contact_uses import Compliance, UseDraft
from mdm_consent.domain.fulfilment import Outcome
from mdm_consent.domain.legal_holds import (
    DutyDraft,
    Expired,
    LegalHold,
    LegalReference,
    Restricted,
)
from mdm_consent.domain.models import ActorType, Channel, EventType, LegalBasis, Method

from .test_requests_fulfilment import ANY_TIME, NOW, OFFICER, Directory, Services, _submit


async def _setup(
    graph_for: Callable[[str], GraphClient], categories: tuple[str, ...] = ("phone",)
) -> tuple[GraphTransactions, str]:
    graph = graph_for("consent")
    await graph.apply_schema(SCHEMA)
    tx = GraphTransactions(graph)
    code = "calls-" + uuid.uuid4().hex[:10]
    draft = purposes.PurposeDraft(
        code=code,
        name="Calls",
        description="We call with offers.",
        legal_basis=LegalBasis.CONSENT,
        channels=(Channel.PHONE, Channel.EMAIL),
        data_categories=categories,
        retention_days=30,
        direct_marketing=True,
    )
    notice = purposes.NoticeDraft(purpose=code, language="de", text="Wir rufen an", material=False)
    start = NOW - timedelta(days=200)
    await tx.write(lambda s: purposes.register_purpose(draft, s, now=start, actor="o"))
    await tx.write(lambda s: purposes.publish_notice(notice, s, now=start, actor="o"))
    return tx, code


async def _grant(tx: GraphTransactions, person: str, code: str, *, days: float) -> None:
    draft = consents.EventDraft(
        person_id=person,
        type=EventType.GRANTED,
        collection_point="hotline",
        method=Method.PHONE_CALL,
        actor=ActorType.DATA_SUBJECT,
        purpose=code,
        channel=Channel.PHONE,
        notice_version=1,
        language="de",
        evidence_ref="call-17",
        occurred_at=NOW - timedelta(days=days),
    )
    await consents.record_event(
        draft,
        directory=Directory(person),
        transactions=tx,
        now=NOW,
        recorded_by="crm-app",
        skew=ANY_TIME,
    )


async def _use(
    tx: GraphTransactions, person: str, code: str, channel: Channel = Channel.PHONE
) -> contact_uses.ContactUse:
    draft = UseDraft(person, code, channel, "spring-2026")
    return await contact_uses.record(
        draft, directory=Directory(person), transactions=tx, now=NOW, recorded_by="call-centre"
    )


class Profile(Services):
    """The profile's erasure with holds and its end of holds, recorded."""

    def __init__(self, expired: Sequence[Expired] = ()) -> None:
        super().__init__()
        self.holds: list[LegalHold] = []
        self.expired = list(expired)
        self.released: list[str] = []

    async def erase_profile(
        self, person_id: str, request_id: str, *, actor: object, holds: Sequence[LegalHold] = ()
    ) -> Outcome:
        self._called("erase_profile", person_id)
        self.holds = list(holds)
        kept = Restricted(
            "profile",
            person_id,
            "erp record 4711",
            ("identity",),
            "invoices",
            LegalReference.HGB_257,
            date(2036, 12, 31),
        )
        return Outcome((person_id,), "removedRecords 2", erased=("email",), restricted=(kept,))

    async def expired_holds(self, *, first: int) -> list[Expired]:
        return [e for e in self.expired if e.person_id not in self.released][:first]

    async def release_holds(self, person_id: str, reference: str) -> tuple[tuple[str, ...], int]:
        self.released.append(person_id)
        return (person_id,), sum(e.person_id == person_id for e in self.expired)


class TestContactUses:
    async def test_each_use_keeps_the_verdict_of_its_time_allowed_or_not(
        self, graph_for: Callable[[str], GraphClient]
    ) -> None:
        tx, code = await _setup(graph_for)
        person = str(uuid.uuid4())
        refused = await _use(tx, person, code)  # no consent yet: recorded all the same
        await _grant(tx, person, code, days=1)
        allowed = await _use(tx, person, code)

        assert (refused.allowed, refused.reason, refused.compliance) == (
            False,
            "NO_CONSENT",
            Compliance.NOT_ALLOWED,
        )
        assert (allowed.allowed, allowed.reason, allowed.compliance) == (
            True,
            "CONSENT_GIVEN",
            Compliance.COMPLIANT,
        )
        assert allowed.deciding_event_type is EventType.GRANTED
        listed = await tx.read(lambda s: contact_uses.uses_of(s, person, first=10))
        assert {u.id for u in listed} == {refused.id, allowed.id}
        (proof,) = contact_uses.proofs(listed)
        assert proof.keep_until == (NOW.date().replace(year=NOW.year + 5))

    async def test_an_unknown_person_or_purpose_is_refused(
        self, graph_for: Callable[[str], GraphClient]
    ) -> None:
        tx, code = await _setup(graph_for)
        with pytest.raises(NotFound):
            await contact_uses.record(
                UseDraft(str(uuid.uuid4()), code, Channel.PHONE, "c1"),
                directory=Directory(),
                transactions=tx,
                now=NOW,
                recorded_by="app",
            )
        with pytest.raises(NotFound):
            await _use(tx, str(uuid.uuid4()), "no-such-purpose")


class TestErasureHolds:
    async def test_the_duties_and_the_phone_proof_go_to_the_profile_and_onto_the_steps(
        self, graph_for: Callable[[str], GraphClient]
    ) -> None:
        tx, code = await _setup(graph_for)
        duty = DutyDraft(
            code="inv-" + uuid.uuid4().hex[:8],
            name="Invoices",
            legal_reference=LegalReference.HGB_257,
            period_years=10,
            source_systems=("erp",),
        )
        await tx.write(lambda s: legal_holds.register(duty, stores=s, by="officer-1", now=NOW))
        with pytest.raises(Conflict):
            await tx.write(lambda s: legal_holds.register(duty, stores=s, by="o", now=NOW))
        person = str(uuid.uuid4())
        await _grant(tx, person, code, days=1)
        await _use(tx, person, code)
        request_id = await _submit(tx, person, requests.RequestType.ERASURE)
        profile = Profile()

        done = await fulfilment.carry_out(
            request_id, services=profile, transactions=tx, actor=OFFICER, now=NOW
        )

        by_duty = {h.duty: h for h in profile.holds}
        assert by_duty[duty.code].source_systems == ("erp",)
        proof = by_duty[legal_holds.PHONE_PROOF_DUTY]
        assert (proof.data_categories, proof.until) == (
            ("phone",),
            NOW.date().replace(year=NOW.year + 5),
        )
        stored = await tx.read(lambda s: requests.known(s, request_id))
        assert stored == done
        steps = {s.service: s for s in stored.steps}
        assert steps["profile"].erased == ("email",)
        assert [r.legal_reference for r in steps["profile"].restricted] == ["HGB_257"]
        (events,) = steps["consent"].restricted
        assert (events.what, events.legal_reference, events.until) == (
            "consent events",
            LegalReference.UWG_7A,
            proof.until,
        )


class TestRetention:
    async def test_the_phone_stays_while_its_proof_runs_and_ended_holds_are_released(
        self, graph_for: Callable[[str], GraphClient]
    ) -> None:
        tx, code = await _setup(graph_for, (DataCategory.PHONE, DataCategory.EMAIL))
        called, quiet = str(uuid.uuid4()), str(uuid.uuid4())
        for person in (called, quiet):
            await _grant(tx, person, code, days=100)
            await consents.record_event(
                consents.EventDraft(
                    person_id=person,
                    type=EventType.WITHDRAWN,
                    collection_point="hotline",
                    method=Method.PHONE_CALL,
                    actor=ActorType.DATA_SUBJECT,
                    purpose=code,
                    occurred_at=NOW - timedelta(days=50),
                ),
                directory=Directory(person),
                transactions=tx,
                now=NOW,
                recorded_by="crm-app",
                skew=ANY_TIME,
            )
        await _use(tx, called, code)  # refused (withdrawn), still a use to prove
        erased = str(uuid.uuid4())
        ended = Expired(erased, "erp record 1", ("identity",), date(2020, 12, 31), ("HGB_257",))
        profile = Profile([ended])
        run = await retention_runs.start(transactions=tx, started_by="officer-1", now=NOW)
        while (
            await retention_runs.run_page(
                run.id, purger=profile, transactions=tx, now=NOW, page=100, releaser=profile
            )
        ).status == "RUNNING":
            pass

        (kept,) = await tx.read(lambda s: retention_runs.purges_of(s, called))
        # The phone goes from the person but stays, restricted, as the proof (§7a).
        assert set(kept.categories) == {DataCategory.EMAIL, DataCategory.PHONE}
        proof_end = NOW.date().replace(year=NOW.year + 5)
        assert kept.phone_proof_until == proof_end
        (hold,) = profile.purge_holds[called]
        assert (hold.legal_reference, hold.data_categories, hold.until) == (
            LegalReference.UWG_7A,
            ("phone",),
            proof_end,
        )
        (removed,) = await tx.read(lambda s: retention_runs.purges_of(s, quiet))
        assert set(removed.categories) == {DataCategory.EMAIL, DataCategory.PHONE}
        assert (removed.phone_proof_until, profile.purge_holds[quiet]) == (None, [])
        (release,) = await tx.read(lambda s: retention_runs.purges_of(s, erased))
        assert (release.released, release.status, release.categories) == (
            True,
            retention_runs.PurgeStatus.DONE,
            ("identity",),
        )
        assert "HGB_257" in release.detail
        assert profile.released == [erased]

        again = await retention_runs.release_expired(
            run.id, releaser=profile, transactions=tx, now=NOW
        )
        assert again == 0  # nothing expired is left
