"""Merges and unmerges of consent histories against the real graph server."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from mdm_common.graph import GraphClient
from mdm_consent.adapters.transactions import SCHEMA, GraphTransactions
from mdm_consent.domain import checks, consents, merges, purposes
from mdm_consent.domain.models import (
    ActorType,
    Channel,
    ConsentEvent,
    EventType,
    LegalBasis,
    MergeState,
    Method,
)
from mdm_consent.domain.ports import ProfilePerson

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
# These tests write histories of the past straight through the domain: any time
# counts. That an event recorded through the API happens now is tested in
# unit/test_recording.py and through the gateway in tests/faults/test_consent_rules.py.
ANY_TIME = timedelta.max


class Directory:
    """The profile service's answer: known persons, merged ids resolve to survivors."""

    def __init__(self, *known: str, merged: dict[str, str] | None = None) -> None:
        self.known = set(known)
        self.merged = merged or {}

    async def resolve(self, person_id: str) -> str | None:
        person_id = self.merged.get(person_id, person_id)
        return person_id if person_id in self.known else None

    async def lookup(self, person_id: str) -> ProfilePerson | None:
        found = await self.resolve(person_id)
        return ProfilePerson(found) if found is not None else None


class Consents:
    """One purpose and a few helpers on the test graph."""

    def __init__(self, transactions: GraphTransactions, purpose: str) -> None:
        self.tx = transactions
        self.purpose = purpose

    async def record(self, person: str, type_: EventType, minutes: float, *,
                     directory: Directory | None = None, **values: object) -> str:  # fmt: skip
        base = consents.EventDraft(
            person_id=person, type=type_, collection_point="shop", method=Method.WEB_FORM,
            actor=ActorType.DATA_SUBJECT, occurred_at=NOW + timedelta(minutes=minutes),
            purpose=self.purpose, channel=Channel.SMS, notice_version=1, language="de",
            evidence_ref="form-17",
        )  # fmt: skip
        if type_ in (EventType.WITHDRAWN, EventType.OBJECTED):
            base = replace(base, notice_version=None, language=None, evidence_ref=None)
        event = await consents.record_event(
            replace(base, **values),  # type: ignore[arg-type]
            directory=directory or Directory(person),
            transactions=self.tx,
            now=NOW + timedelta(days=1),
            recorded_by="crm-app",
            skew=ANY_TIME,
        )
        return event.id

    async def check(self, *persons: str, minutes: float = 24 * 60) -> list[tuple[str, bool, str]]:
        at = NOW + timedelta(minutes=minutes)
        found = await self.tx.read(
            lambda s: checks.contact_check(
                list(persons), s, purpose=self.purpose, channel=Channel.SMS, at=at
            )
        )
        return [(d.answered_for, d.verdict.allowed, d.verdict.reason) for d in found]

    async def history(self, *persons: str) -> dict[str, list[ConsentEvent]]:
        return await self.tx.read(lambda s: s.consents.history_of(list(persons)))

    async def merge(self, merge_id: str, survivor: str, merged: str, minutes: float) -> object:
        """What the worker does on ``profile.person_merged``."""
        return await merges.on_merged(
            merge_id, survivor_id=survivor, merged_id=merged, transactions=self.tx,
            now=NOW + timedelta(minutes=minutes),
        )  # fmt: skip

    async def unmerge(self, merge_id: str, survivor: str, merged: str, minutes: float) -> object:
        """What the worker does on ``profile.person_unmerged``."""
        return await merges.on_unmerged(
            merge_id, survivor_id=survivor, merged_id=merged, transactions=self.tx,
            now=NOW + timedelta(minutes=minutes),
        )  # fmt: skip


async def _consents(graph_for: Callable[[str], GraphClient]) -> Consents:
    graph = graph_for("consent")
    await graph.apply_schema(SCHEMA)
    transactions = GraphTransactions(graph)
    code = "merge-" + uuid.uuid4().hex[:10]
    draft = purposes.PurposeDraft(
        code=code, name="Newsletter", description="d", legal_basis=LegalBasis.CONSENT,
        channels=(Channel.SMS,), data_categories=("identity", "phone"), retention_days=730,
        direct_marketing=True,
    )  # fmt: skip
    notice = purposes.NoticeDraft(purpose=code, language="de", text="Wir senden", material=False)
    await transactions.write(lambda s: purposes.register_purpose(draft, s, now=NOW, actor="o"))
    await transactions.write(lambda s: purposes.publish_notice(notice, s, now=NOW, actor="o"))
    return Consents(transactions, code)


def _persons(n: int) -> list[str]:
    return [str(uuid.uuid4()) for _ in range(n)]


class TestMerge:
    async def test_keeps_the_stricter_state_and_answers_for_the_survivor(
        self, graph_for: Callable[[str], GraphClient]
    ) -> None:
        c = await _consents(graph_for)
        a, b = _persons(2)
        await c.record(b, EventType.GRANTED, 0)
        withdrawal = await c.record(b, EventType.WITHDRAWN, 10, channel=None)
        grant = await c.record(a, EventType.GRANTED, 20)
        assert await c.check(a, b) == [(a, True, "CONSENT_GIVEN"), (b, False, "WITHDRAWN")]

        await c.merge("m1", a, b, 60)
        assert await c.check(a, b) == [(a, False, "WITHDRAWN"), (a, False, "WITHDRAWN")]
        history = await c.history(a, b)
        assert history[a] == history[b]
        assert [(e.id, e.person_id) for e in history[a][:2]] == [(grant, a), (withdrawal, b)]
        # A new consent after the merge, recorded for the merged-away id, lands on the
        # survivor (the profile service resolves the id) and settles the conflict.
        later = await c.record(b, EventType.GRANTED, 70, directory=Directory(a, merged={b: a}))
        assert (await c.history(a))[a][0].person_id == a
        assert (await c.history(a))[a][0].id == later
        assert await c.check(a, b) == [(a, True, "CONSENT_GIVEN"), (a, True, "CONSENT_GIVEN")]

    async def test_heard_twice_changes_nothing(
        self, graph_for: Callable[[str], GraphClient]
    ) -> None:
        c = await _consents(graph_for)
        a, b = _persons(2)
        await c.record(b, EventType.WITHDRAWN, 10, channel=None)
        await c.record(a, EventType.GRANTED, 20)
        first = await c.merge("m2", a, b, 60)
        facts = await c.tx.read(lambda s: s.consents.facts_of([a, b], c.purpose))
        again = await c.merge("m2", a, b, 90)  # redelivered, later
        assert first is not None
        assert again is None
        assert await c.tx.read(lambda s: s.consents.facts_of([a, b], c.purpose)) == facts
        links = await c.tx.read(lambda s: merges.merges_of(b, s))
        assert [(x.merge_id, x.state, x.linked_at) for x in links] == [
            ("m2", MergeState.ACTIVE, NOW + timedelta(minutes=60))
        ]


class TestUnmerge:
    async def test_restores_both_histories_and_keeps_later_events_with_the_survivor(
        self, graph_for: Callable[[str], GraphClient]
    ) -> None:
        c = await _consents(graph_for)
        a, b = _persons(2)
        await c.record(a, EventType.GRANTED, 0)
        await c.record(b, EventType.OBJECTED, 5, purpose=None, channel=None)
        before = (await c.history(a, b), await c.check(a, b))
        await c.merge("m3", a, b, 60)
        assert await c.check(a) == [(a, False, "OBJECTED")]
        later = await c.record(a, EventType.WITHDRAWN, 70, channel=None)

        await c.unmerge("m3", a, b, 80)
        after = await c.history(a, b)
        assert after[b] == before[0][b]
        assert [e.id for e in after[a]] == [later, *(e.id for e in before[0][a])]
        assert await c.check(a, b, minutes=65) == before[1]
        assert await c.unmerge("m3", a, b, 90) is None  # redelivered

    async def test_heard_before_its_merge_leaves_the_late_merge_without_effect(
        self, graph_for: Callable[[str], GraphClient]
    ) -> None:
        c = await _consents(graph_for)
        a, b = _persons(2)
        await c.record(b, EventType.WITHDRAWN, 10, channel=None)
        await c.record(a, EventType.GRANTED, 20)
        await c.unmerge("m4", a, b, 60)
        assert await c.merge("m4", a, b, 61) is None
        assert await c.check(a, b) == [(a, True, "CONSENT_GIVEN"), (b, False, "WITHDRAWN")]


class TestGroups:
    async def test_chained_merges_and_their_undo(
        self, graph_for: Callable[[str], GraphClient]
    ) -> None:
        c = await _consents(graph_for)
        a, b, d = _persons(3)
        await c.record(b, EventType.WITHDRAWN, 10, channel=None)
        await c.record(d, EventType.GRANTED, 20)
        await c.merge("m5", a, b, 60)  # b into a
        await c.merge("m6", d, a, 120)  # then a into d
        assert await c.check(a, b, d) == [(d, False, "WITHDRAWN")] * 3
        assert {e.person_id for e in (await c.history(b))[b]} == {b, d}
        await c.unmerge("m6", d, a, 180)
        assert await c.check(a, b, d) == [
            (a, False, "WITHDRAWN"), (a, False, "WITHDRAWN"), (d, True, "CONSENT_GIVEN"),
        ]  # fmt: skip

    async def test_concurrent_merges_into_one_survivor(
        self, graph_for: Callable[[str], GraphClient]
    ) -> None:
        c = await _consents(graph_for)
        a, b, d, e, f = _persons(5)
        await c.record(a, EventType.GRANTED, 0)
        await c.record(d, EventType.OBJECTED, 5, purpose=None, channel=None)
        # Nobody has a consent subject yet for a: all four handlers would create it.
        await asyncio.gather(*(
            c.merge(f"m-{p}", a, p, 60 + i) for i, p in enumerate((b, d, e, f))
        ))  # fmt: skip
        assert await c.check(a, b, d) == [(a, False, "OBJECTED")] * 3
        links = await c.tx.read(lambda s: s.merges.active_around([a]))
        assert sorted(x.merged_id for x in links) == sorted((b, d, e, f))
        groups = await c.tx.read(lambda s: s.consents.facts_of([a, b, d, e, f], c.purpose))
        assert {tuple(sorted(g.lineage.members)) for g in groups.values()} == {
            tuple(sorted((a, b, d, e, f)))
        }
        await c.unmerge(f"m-{d}", a, d, 90)
        assert await c.check(a, b, d) == [
            (a, True, "CONSENT_GIVEN"), (a, True, "CONSENT_GIVEN"), (d, False, "OBJECTED"),
        ]  # fmt: skip


class TestMergesOfAPass:
    async def test_leave_what_one_event_after_another_leaves(
        self, graph_for: Callable[[str], GraphClient]
    ) -> None:
        """The merge events a worker takes together, in one transaction: a cluster, a
        chain, a merge heard of before and one undone before it arrived."""
        c = await _consents(graph_for)
        one_by_one, together = _persons(6), _persons(6)
        for persons in (one_by_one, together):
            await c.record(persons[0], EventType.GRANTED, 0)
            await c.record(persons[2], EventType.OBJECTED, 5, purpose=None, channel=None)
            await c.record(persons[4], EventType.GRANTED, 6)
        tag = uuid.uuid4().hex[:8]

        def heard(persons: list[str], side: str) -> list[merges.MergeHeard]:
            a, b, d, e, f, g = persons
            return [
                merges.MergeHeard(f"{tag}-{side}-1", a, b),
                merges.MergeHeard(f"{tag}-{side}-2", a, d),
                merges.MergeHeard(f"{tag}-{side}-3", e, a),  # the survivor merged on
                merges.MergeHeard(f"{tag}-{side}-4", f, g),  # undone before it arrives
            ]

        for side, persons in (("single", one_by_one), ("pass", together)):
            await c.unmerge(f"{tag}-{side}-4", persons[4], persons[5], 30)
            await c.merge(f"{tag}-{side}-1", persons[0], persons[1], 40)  # heard before
        for m in heard(one_by_one, "single"):
            await c.merge(m.merge_id, m.survivor_id, m.merged_id, 60)
        linked = await merges.on_merged_many(
            heard(together, "pass"), transactions=c.tx, now=NOW + timedelta(minutes=60)
        )
        assert [x.merge_id for x in linked] == [f"{tag}-pass-2", f"{tag}-pass-3"]

        def named(persons: list[str]) -> dict[str, str]:
            return {p: "abdefg"[i] for i, p in enumerate(persons)}

        members = []
        for persons in (one_by_one, together):
            e, f, g = persons[3:]
            objected = (e, False, "OBJECTED")
            expected = [objected] * 4 + [(f, True, "CONSENT_GIVEN"), (g, False, "NO_CONSENT")]
            assert await c.check(*persons) == expected
            found = await c.tx.read(lambda s, p=persons: s.consents.facts_of(p, c.purpose))
            name = named(persons)
            members.append(
                {name[p]: sorted(name[m] for m in x.lineage.members) for p, x in found.items()}
            )
        assert members[0] == members[1]
        assert members[1]["b"] == ["a", "b", "d", "e"]


class TestPreview:
    async def test_after_is_the_check_after_the_real_merge_and_nothing_is_written(
        self, graph_for: Callable[[str], GraphClient]
    ) -> None:
        c = await _consents(graph_for)
        a, b, d = _persons(3)
        await c.record(a, EventType.WITHDRAWN, 5, channel=None)
        await c.record(d, EventType.GRANTED, 10)
        await c.merge("p1", b, d, 30)  # b already survives d: groups join whole
        await c.record(b, EventType.GRANTED, 40)
        at = NOW + timedelta(minutes=50)

        async def preview() -> list[tuple[bool, str, bool, bool]]:
            found = await c.tx.read(
                lambda s: merges.preview_contacts(a, b, s, at=at, now=NOW + timedelta(minutes=45))
            )
            return [
                (x.before.allowed, x.before.reason, x.merged_before.allowed, x.after.allowed)
                for x in found
                if x.purpose.code == c.purpose
            ]

        facts = await c.tx.read(lambda s: s.consents.facts_of([a, b, d], c.purpose))
        assert await preview() == [(False, "WITHDRAWN", True, False)]
        assert await c.tx.read(lambda s: s.consents.facts_of([a, b, d], c.purpose)) == facts
        assert await c.tx.read(lambda s: s.merges.of_person(a)) == []

        await c.merge("p2", a, b, 45)
        assert await c.check(a, b, d, minutes=50) == [(a, False, "WITHDRAWN")] * 3
