"""Erasure and the retention job against the real graph server, with the profile and
matching services replaced by recorders of their calls that can fail on demand (the
services themselves are exercised end to end in tests/e2e)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta

import pytest

from mdm_common.auth import Principal, Role
from mdm_common.contracts import DataCategory
from mdm_common.errors import Conflict, NotFound, Unavailable
from mdm_common.graph import GraphClient
from mdm_consent.adapters.transactions import SCHEMA, GraphTransactions
from mdm_consent.domain import checks, consents, fulfilment, purposes, requests, retention_runs
from mdm_consent.domain.fulfilment import HeldData, Outcome
from mdm_consent.domain.legal_holds import LegalHold
from mdm_consent.domain.models import ActorType, Channel, EventType, LegalBasis, Method
from mdm_consent.domain.ports import ProfilePerson

NOW = datetime.now(UTC)
# These tests write histories of the past straight through the domain: any time
# counts. That an event recorded through the API happens now is tested in
# unit/test_recording.py and through the gateway in tests/faults/test_consent_rules.py.
ANY_TIME = timedelta.max
OFFICER = Principal("officer-1", frozenset({Role.COMPLIANCE}))


class Directory:
    def __init__(self, *known: str) -> None:
        self.known = set(known)

    async def resolve(self, person_id: str) -> str | None:
        return person_id if person_id in self.known else None

    async def lookup(self, person_id: str) -> ProfilePerson | None:
        found = await self.resolve(person_id)
        return ProfilePerson(found) if found is not None else None


class Services:
    """Records each call; ``fail`` names calls that raise UNAVAILABLE once."""

    def __init__(self, *, fail: Sequence[str] = (), unknown: Sequence[str] = ()) -> None:
        self.calls: list[tuple[str, str]] = []
        self.fail = set(fail)
        self.unknown = set(unknown)  # persons the profile never had
        self.purge_holds: dict[str, list[LegalHold]] = {}

    def _called(self, name: str, person: str) -> None:
        self.calls.append((name, person))
        if name in self.fail:
            self.fail.discard(name)
            raise Unavailable("not reachable; try again")

    async def profile_data(self, person_id: str, *, actor: Principal) -> HeldData:
        self._called("profile_data", person_id)
        return HeldData((person_id,), ())

    async def matching_data(self, person_ids: Sequence[str], *, actor: Principal) -> HeldData:
        self._called("matching_data", person_ids[0])
        return HeldData(tuple(person_ids), ())

    async def distribution_data(self, person_ids: Sequence[str], *, actor: Principal) -> HeldData:
        self._called("distribution_data", person_ids[0])
        return HeldData(tuple(person_ids), ())

    async def erase_profile(
        self,
        person_id: str,
        request_id: str,
        *,
        actor: Principal,
        holds: Sequence[LegalHold] = (),
    ) -> Outcome:
        self._called("erase_profile", person_id)
        self.holds = list(holds)
        return Outcome((person_id,), "removedRecords 1")

    async def erase_matching(
        self, person_ids: Sequence[str], request_id: str, *, actor: Principal
    ) -> Outcome:
        self._called("erase_matching", person_ids[0])
        return Outcome(tuple(person_ids), "removedSubjects 1")

    async def restrict_profile(
        self, person_id: str, request_id: str, restricted: bool, *, actor: Principal
    ) -> Outcome:
        self._called("restrict_profile", person_id)
        return Outcome((person_id,), f"restricted {restricted}")

    async def restrict_matching(
        self, person_ids: Sequence[str], request_id: str, restricted: bool, *, actor: Principal
    ) -> Outcome:
        self._called("restrict_matching", person_ids[0])
        return Outcome(tuple(person_ids), f"restricted {restricted}")

    async def purge(
        self,
        person_id: str,
        categories: Sequence[str],
        reference: str,
        *,
        holds: Sequence[LegalHold] = (),
    ) -> tuple[tuple[str, ...], str]:
        self._called("purge", person_id)
        self.purge_holds[person_id] = list(holds)
        if person_id in self.unknown:
            raise NotFound(f"No person with id {person_id}.", field="personId")
        return (person_id,), f"removedValues {len(categories)}"


async def _setup(
    graph_for: Callable[[str], GraphClient], categories: tuple[str, ...] = ("identity", "email")
) -> tuple[GraphTransactions, str]:
    graph = graph_for("consent")
    await graph.apply_schema(SCHEMA)
    transactions = GraphTransactions(graph)
    code = "dsr-" + uuid.uuid4().hex[:10]
    draft = purposes.PurposeDraft(
        code=code, name="Letters", description="d", legal_basis=LegalBasis.CONSENT,
        channels=(Channel.POST,), data_categories=categories, retention_days=730,
        direct_marketing=True,
    )  # fmt: skip
    notice = purposes.NoticeDraft(purpose=code, language="de", text="Wir senden", material=False)
    start = NOW - timedelta(days=2)
    await transactions.write(lambda s: purposes.register_purpose(draft, s, now=start, actor="o"))
    await transactions.write(lambda s: purposes.publish_notice(notice, s, now=start, actor="o"))
    return transactions, code


async def _record(
    tx: GraphTransactions, person: str, code: str | None, type_: EventType, hours: float,
    **values: object,
) -> None:  # fmt: skip
    proof: dict[str, object] = {"purpose": code, "channel": Channel.POST, "notice_version": 1,
                                "language": "de", "evidence_ref": "form-17"}  # fmt: skip
    if type_ in (EventType.WITHDRAWN, EventType.AGE_EVIDENCE):
        proof = {"purpose": code} if type_ is EventType.WITHDRAWN else {"evidence_ref": "id-card"}
    draft = consents.EventDraft(
        person_id=person, type=type_, collection_point="shop", method=Method.WEB_FORM,
        actor=ActorType.DATA_SUBJECT, occurred_at=NOW - timedelta(hours=hours),
        **(proof | values),  # type: ignore[arg-type]
    )  # fmt: skip
    await consents.record_event(
        draft,
        directory=Directory(person),
        transactions=tx,
        now=NOW,
        recorded_by="crm-app",
        skew=ANY_TIME,
    )


async def _submit(tx: GraphTransactions, person: str, type_: requests.RequestType) -> str:
    draft = requests.RequestDraft(type=type_, person_id=person,
                                  received_via=requests.ReceivedVia.LETTER,
                                  identity_check=requests.IdentityCheck.ID_DOCUMENT,
                                  note="Letter of 20 November")  # fmt: skip
    made = await requests.submit(draft, directory=Directory(person), transactions=tx,
                                 submitted_by="officer-1", now=NOW)  # fmt: skip
    return made.id


class TestErasure:
    async def test_resumes_after_a_service_failed_and_settles_once(
        self, graph_for: Callable[[str], GraphClient]
    ) -> None:
        tx, code = await _setup(graph_for)
        person = str(uuid.uuid4())
        await _record(tx, person, code, EventType.GRANTED, 5)
        await _record(tx, person, None, EventType.AGE_EVIDENCE, 4, birth_date=date(1990, 4, 1))
        request_id = await _submit(tx, person, requests.RequestType.ERASURE)
        services = Services(fail=["erase_matching"])

        with pytest.raises(Unavailable):
            await fulfilment.carry_out(request_id, services=services, transactions=tx,
                                       actor=OFFICER, now=NOW)  # fmt: skip
        halfway = await tx.read(lambda s: requests.known(s, request_id))
        assert halfway.status is requests.RequestStatus.IN_PROGRESS
        assert [s.service for s in halfway.steps] == ["profile"]

        done = await fulfilment.carry_out(request_id, services=services, transactions=tx,
                                          actor=OFFICER, now=NOW)  # fmt: skip
        assert done.status is requests.RequestStatus.COMPLETED
        assert [s.service for s in done.steps] == ["profile", "matching", "consent"]
        assert done.note is None  # free text may name the person
        # The profile was erased once; matching was asked again after failing.
        assert services.calls == [("erase_profile", person), ("erase_matching", person),
                                  ("erase_matching", person)]  # fmt: skip

        history = (await tx.read(lambda s: s.consents.history_of([person])))[person]
        assert len(history) == 2  # the proof stays
        assert all(e.birth_date is None for e in history)
        later = NOW + timedelta(seconds=1)
        found = await tx.read(
            lambda s: checks.contact_check(
                [person], s, purpose=code, channel=Channel.POST, at=later
            )
        )
        assert (found[0].verdict.allowed, found[0].verdict.reason) == (False, "ERASED")

        with pytest.raises(Conflict):
            await fulfilment.carry_out(request_id, services=services, transactions=tx,
                                       actor=OFFICER, now=NOW)  # fmt: skip


class TestRetentionRun:
    async def test_evidence_comes_first_and_a_failed_page_is_finished_later(
        self, graph_for: Callable[[str], GraphClient]
    ) -> None:
        tx, code = await _setup(graph_for, (DataCategory.EMAIL,))
        lapsed, kept, ghost = (str(uuid.uuid4()) for _ in range(3))
        for person in (lapsed, ghost):
            await _record(tx, person, code, EventType.GRANTED, 5)
            await _record(tx, person, code, EventType.WITHDRAWN, 1, channel=None)
        await _record(tx, kept, code, EventType.GRANTED, 5)
        run = await retention_runs.start(transactions=tx, started_by="officer-1", now=NOW)
        with pytest.raises(Conflict):
            await retention_runs.start(transactions=tx, started_by="officer-1", now=NOW)

        services = Services(fail=["purge"], unknown=[ghost])
        # Small pages: the run covers every person of the shared test database.
        while True:
            try:
                current = await retention_runs.run_page(run.id, purger=services, transactions=tx,
                                                        now=NOW, page=50)  # fmt: skip
            except Unavailable:
                evidence = await tx.read(lambda s: retention_runs.purges_of(s, lapsed))
                if evidence:  # the failed call may have been for another test's person
                    assert evidence[0].status is retention_runs.PurgeStatus.DECIDED
                continue
            if current.status is not retention_runs.RunStatus.RUNNING:
                break
        assert current.status is retention_runs.RunStatus.DONE
        assert ("purge", kept) not in services.calls
        assert services.calls.count(("purge", lapsed)) in (1, 2)  # again if its call failed
        (evidence,) = await tx.read(lambda s: retention_runs.purges_of(s, lapsed))
        assert evidence.status is retention_runs.PurgeStatus.DONE
        assert evidence.categories == (DataCategory.EMAIL,)
        assert [(s.purpose, s.standing) for s in evidence.standings] == [(code, "WITHDRAWN")]
        assert evidence.detail == "removedValues 1"
        assert await tx.read(lambda s: retention_runs.purges_of(s, kept)) == []
        # The profile does not know the ghost: recorded as such, and the run went on.
        (unheld,) = await tx.read(lambda s: retention_runs.purges_of(s, ghost))
        assert unheld.status is retention_runs.PurgeStatus.NOT_HELD
