"""The expiry job and the re-consent worklist against the real graph server."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from mdm_common.auth import Principal, Role
from mdm_common.errors import Conflict, InvalidInput
from mdm_common.graph import GraphClient
from mdm_consent.adapters.transactions import SCHEMA, GraphTransactions
from mdm_consent.domain import checks, consents, expiry_runs, merges, purposes, reconsent
from mdm_consent.domain.expiry import expiry_id
from mdm_consent.domain.models import ActorType, Channel, EventType, LegalBasis, Method
from mdm_consent.domain.ports import ProfilePerson
from mdm_consent.domain.retention_runs import RunStatus
from mdm_consent.domain.stores import Stores

NOW = datetime.now(UTC)
ANY_TIME = timedelta.max  # histories of the past, written straight through the domain
OFFICER = Principal("officer-1", frozenset({Role.COMPLIANCE}))


class Directory:
    async def resolve(self, person_id: str) -> str | None:
        return person_id

    async def lookup(self, person_id: str) -> ProfilePerson | None:
        return ProfilePerson(person_id)


async def _setup(
    graph_for: Callable[[str], GraphClient], *, validity: int | None = None
) -> tuple[GraphTransactions, str]:
    graph = graph_for("consent")
    await graph.apply_schema(SCHEMA)
    tx = GraphTransactions(graph)
    code = "exp-" + uuid.uuid4().hex[:10]
    draft = purposes.PurposeDraft(
        code=code,
        name="Letters",
        description="d",
        legal_basis=LegalBasis.CONSENT,
        channels=(Channel.EMAIL, Channel.PHONE),
        data_categories=("email",),
        retention_days=730,
        direct_marketing=True,
        consent_validity_days=validity,
    )
    notice = purposes.NoticeDraft(purpose=code, language="de", text="Wir senden", material=False)
    start = NOW - timedelta(days=100)
    await tx.write(lambda s: purposes.register_purpose(draft, s, now=start, actor="o"))
    await tx.write(lambda s: purposes.publish_notice(notice, s, now=start, actor="o"))
    return tx, code


async def _grant(
    tx: GraphTransactions, person: str, code: str, days_ago: float, channel: Channel
) -> str:
    draft = consents.EventDraft(
        person_id=person,
        type=EventType.GRANTED,
        collection_point="shop",
        method=Method.WEB_FORM,
        actor=ActorType.DATA_SUBJECT,
        occurred_at=NOW - timedelta(days=days_ago),
        purpose=code,
        channel=channel,
        notice_version=1,
        language="de",
        evidence_ref="form-17",
    )
    event = await consents.record_event(
        draft,
        directory=Directory(),
        transactions=tx,
        now=NOW,
        recorded_by="crm-app",
        skew=ANY_TIME,
    )
    return event.id


async def _finish(tx: GraphTransactions, run: expiry_runs.ExpiryRun) -> expiry_runs.ExpiryRun:
    """Do every page of the run (small pages: it covers the whole test database)."""
    for _ in range(10_000):
        run = await expiry_runs.run_page(run.id, number=run.pages, transactions=tx, now=NOW, size=7)
        if run.status is not RunStatus.RUNNING:
            return run
    raise AssertionError("the run never finished")


async def _expire_all(tx: GraphTransactions) -> expiry_runs.ExpiryRun:
    run = await expiry_runs.start(transactions=tx, started_by="officer-1", now=NOW)
    return await _finish(tx, run)


class TestExpiryRun:
    async def test_a_lapsed_grant_expires_once_and_the_check_names_the_expiry(
        self, graph_for: Callable[[str], GraphClient]
    ) -> None:
        tx, code = await _setup(graph_for, validity=30)
        lapsed, fresh = str(uuid.uuid4()), str(uuid.uuid4())
        grant = await _grant(tx, lapsed, code, 40, Channel.EMAIL)
        await _grant(tx, lapsed, code, 5, Channel.PHONE)
        await _grant(tx, fresh, code, 5, Channel.EMAIL)

        run = await _expire_all(tx)
        assert run.status is RunStatus.DONE
        assert run.expired >= 1
        assert run.checked >= 2

        history = await tx.read(lambda s: s.consents.history_of([lapsed, fresh]))
        expiries = [e for e in history[lapsed] if e.type is EventType.EXPIRED]
        assert [e.id for e in expiries] == [expiry_id(grant)]
        (expiry,) = expiries
        assert (expiry.purpose, expiry.channel, expiry.person_id) == (code, Channel.EMAIL, lapsed)
        assert expiry.occurred_at == NOW - timedelta(days=10)
        assert (expiry.method, expiry.actor) == (Method.SYSTEM, ActorType.SYSTEM)
        assert expiry.collection_point == f"expiry run {run.id}"
        assert all(e.type is not EventType.EXPIRED for e in history[fresh])

        (decision,) = await tx.read(
            lambda s: checks.contact_check([lapsed], s, purpose=code, channel=Channel.EMAIL, at=NOW)
        )
        assert decision.verdict.reason == "CONSENT_EXPIRED"
        assert decision.verdict.deciding is not None
        assert decision.verdict.deciding.id == expiry_id(grant)

        again = await _expire_all(tx)
        after = (await tx.read(lambda s: s.consents.history_of([lapsed])))[lapsed]
        assert [e.id for e in after if e.type is EventType.EXPIRED] == [expiry_id(grant)]
        assert again.status is RunStatus.DONE

    async def test_a_page_delivered_twice_writes_nothing_twice_and_one_run_at_a_time(
        self, graph_for: Callable[[str], GraphClient]
    ) -> None:
        tx, code = await _setup(graph_for, validity=30)
        person = str(uuid.uuid4())
        grant = await _grant(tx, person, code, 40, Channel.EMAIL)
        run = await expiry_runs.start(transactions=tx, started_by="schedule", now=NOW)
        with pytest.raises(Conflict) as running:
            await expiry_runs.start(transactions=tx, started_by="officer-1", now=NOW)
        assert running.value.details["reason"] == "RUN_IN_PROGRESS"

        first = await expiry_runs.run_page(run.id, number=0, transactions=tx, now=NOW, size=7)
        redelivered = await expiry_runs.run_page(run.id, number=0, transactions=tx, now=NOW)
        assert redelivered == first  # page 0 is done: the second delivery does nothing
        resumed = await expiry_runs.resume(run.id, transactions=tx)
        done = await _finish(tx, resumed)
        assert done.status is RunStatus.DONE
        with pytest.raises(Conflict) as finished:
            await expiry_runs.resume(run.id, transactions=tx)
        assert finished.value.details["reason"] == "RUN_FINISHED"

        history = (await tx.read(lambda s: s.consents.history_of([person])))[person]
        assert [e.id for e in history if e.type is EventType.EXPIRED] == [expiry_id(grant)]
        listed = await tx.read(lambda s: expiry_runs.runs(s, first=5))
        assert run.id in [r.id for r in listed]

    async def test_a_merge_group_expires_each_grant_under_its_member(
        self, graph_for: Callable[[str], GraphClient]
    ) -> None:
        tx, code = await _setup(graph_for, validity=30)
        survivor, merged = str(uuid.uuid4()), str(uuid.uuid4())
        theirs = await _grant(tx, merged, code, 50, Channel.EMAIL)
        ours = await _grant(tx, survivor, code, 45, Channel.EMAIL)
        await merges.on_merged(
            str(uuid.uuid4()),
            survivor_id=survivor,
            merged_id=merged,
            transactions=tx,
            now=NOW - timedelta(days=1),
        )

        await _expire_all(tx)

        history = (await tx.read(lambda s: s.consents.history_of([survivor])))[survivor]
        expired = {e.id: e.person_id for e in history if e.type is EventType.EXPIRED}
        assert expired == {expiry_id(theirs): merged, expiry_id(ours): survivor}
        (decision,) = await tx.read(
            lambda s: checks.contact_check([merged], s, purpose=code, channel=Channel.EMAIL, at=NOW)
        )
        assert decision.answered_for == survivor
        assert decision.verdict.deciding is not None
        assert decision.verdict.deciding.type is EventType.EXPIRED

    async def test_the_store_pages_persons_of_purposes_and_knows_recorded_ids(
        self, graph_for: Callable[[str], GraphClient]
    ) -> None:
        tx, code = await _setup(graph_for, validity=30)
        persons = sorted(str(uuid.uuid4()) for _ in range(3))
        grants = [await _grant(tx, p, code, 1, Channel.EMAIL) for p in persons]

        async def read(s: Stores) -> tuple[list[str], list[str], set[str]]:
            first = await s.expiries.persons_after([code], after="", limit=2)
            rest = await s.expiries.persons_after([code], after=first[-1], limit=2)
            return first, rest, await s.expiries.recorded([grants[0], "no-such-event"])

        first, rest, recorded = await tx.read(read)
        assert [*first, *rest] == persons
        assert recorded == {grants[0]}


async def _publish_material(tx: GraphTransactions, code: str) -> None:
    notice = purposes.NoticeDraft(purpose=code, language="de", text="Neu", material=True)
    await tx.write(lambda s: purposes.publish_notice(notice, s, now=NOW, actor="o"))


class TestReconsentWorklist:
    async def test_lists_who_the_check_asks_to_renew_a_group_once_and_audits(
        self, graph_for: Callable[[str], GraphClient]
    ) -> None:
        tx, code = await _setup(graph_for)
        due = sorted(str(uuid.uuid4()) for _ in range(3))
        for person in due:
            await _grant(tx, person, code, 10, Channel.EMAIL)
        merged = str(uuid.uuid4())
        await _grant(tx, merged, code, 9, Channel.EMAIL)
        await merges.on_merged(
            str(uuid.uuid4()),
            survivor_id=due[0],
            merged_id=merged,
            transactions=tx,
            now=NOW - timedelta(days=1),
        )
        phone_only = str(uuid.uuid4())
        await _grant(tx, phone_only, code, 10, Channel.PHONE)
        await _publish_material(tx, code)
        at = NOW + timedelta(seconds=1)

        async def page(first: int, after: str | None) -> reconsent.Worklist:
            return await tx.write(
                lambda s: reconsent.worklist(
                    s,
                    purpose=code,
                    channel=Channel.EMAIL,
                    first=first,
                    after=after,
                    reader=OFFICER,
                    now=at,
                )
            )

        first = await page(2, None)
        assert [e.person_id for e in first.entries] == due[:2]
        assert (first.total, first.has_next_page) == (3, True)
        entry = first.entries[0]
        assert (entry.agreed_version, entry.required_version, entry.current_version) == (1, 2, 2)
        rest = await page(2, first.end_cursor)
        assert [e.person_id for e in rest.entries] == due[2:]
        assert rest.has_next_page is False
        assert phone_only not in first.csv + rest.csv

        reads = await tx.read(lambda s: s.audits.of_person(due[0], since=None, limit=10))
        assert [a.operation for a in reads] == [reconsent.OPERATION]
        views = await tx.read(lambda s: s.audits.without_person(since=NOW, limit=50))
        assert any(a.scope == f"purpose {code} channel EMAIL: 2 of 3 listed" for a in views)

    async def test_refuses_a_channel_the_purpose_does_not_use(
        self, graph_for: Callable[[str], GraphClient]
    ) -> None:
        tx, code = await _setup(graph_for)
        with pytest.raises(InvalidInput) as refused:
            await tx.write(
                lambda s: reconsent.worklist(
                    s,
                    purpose=code,
                    channel=Channel.SMS,
                    first=10,
                    after=None,
                    reader=OFFICER,
                    now=NOW,
                )
            )
        assert refused.value.details["reason"] == "CHANNEL_NOT_COVERED"
