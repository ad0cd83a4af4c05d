"""UWG §7(3) and minors (Art. 8) against the real graph server: product categories of
purposes and sales stored and read back, and the profile's birth date kept as evidence."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from mdm_common.graph import GraphClient
from mdm_consent.adapters.transactions import SCHEMA, GraphTransactions
from mdm_consent.domain import checks, consents, imports, purposes
from mdm_consent.domain.models import ActorType, Channel, EventType, LegalBasis, Method
from mdm_consent.domain.ports import ProfilePerson
from mdm_consent.domain.rules import Obligation, Reason

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
ANY_TIME = timedelta.max  # histories written straight through the domain, at any time


class Profiles:
    """The profile service's answer: the persons it knows, with their birth dates;
    merged-away ids resolve to their survivors."""

    def __init__(self, *known: ProfilePerson, merged: dict[str, str] | None = None) -> None:
        self.known = {p.id: p for p in known}
        self.merged = merged or {}
        self.calls = 0

    async def resolve(self, person_id: str) -> str | None:
        found = await self.lookup(person_id)
        return found.id if found is not None else None

    async def lookup(self, person_id: str) -> ProfilePerson | None:
        self.calls += 1
        return self.known.get(self.merged.get(person_id, person_id))


async def _setup(
    graph_for: Callable[[str], GraphClient], **overrides: object
) -> tuple[GraphTransactions, str]:
    graph = graph_for("consent")
    await graph.apply_schema(SCHEMA)
    transactions = GraphTransactions(graph)
    code = "mail-" + uuid.uuid4().hex[:10]
    draft = purposes.PurposeDraft(
        code=code,
        name="Customer mail",
        description="Offers for our customers.",
        legal_basis=LegalBasis.LEGITIMATE_INTEREST,
        channels=(Channel.EMAIL, Channel.POST),
        # On legitimate interest it applies to everybody in the shared consent graph
        # (the e2e tests' too): it binds the postal address only, as BINDS_LITTLE does.
        data_categories=("postal_address",),
        retention_days=730,
        direct_marketing=True,
        product_categories=("shoes", "bags"),
    )
    draft = replace(draft, **overrides)  # type: ignore[arg-type]
    await transactions.write(lambda s: purposes.register_purpose(draft, s, now=NOW, actor="o"))
    notice = purposes.NoticeDraft(
        purpose=code, language="de", text="Widerspruch jederzeit.", material=False
    )
    await transactions.write(lambda s: purposes.publish_notice(notice, s, now=NOW, actor="o"))
    return transactions, code


def _event(person_id: str, purpose: str, type_: EventType, **values: object) -> consents.EventDraft:
    draft = consents.EventDraft(
        person_id=person_id,
        type=type_,
        collection_point="shop-checkout",
        method=Method.WEB_FORM,
        actor=ActorType.DATA_SUBJECT,
        occurred_at=NOW + timedelta(minutes=1),
        purpose=purpose,
        channel=Channel.EMAIL,
        notice_version=1,
        language="de",
        evidence_ref="order-100234",
    )
    return replace(draft, **values)  # type: ignore[arg-type]


def _sale(person_id: str, purpose: str, category: str) -> consents.EventDraft:
    return _event(
        person_id,
        purpose,
        EventType.SALE_RECORDED,
        channel=None,
        language=None,
        method=Method.ORDER,
        actor=ActorType.STAFF,
        staff_id="s-1",
        product_category=category,
    )


async def _record(
    transactions: GraphTransactions, draft: consents.EventDraft, profiles: Profiles
) -> consents.ConsentEvent:
    return await consents.record_event(
        draft,
        directory=profiles,
        transactions=transactions,
        now=NOW + timedelta(minutes=1),
        recorded_by="crm-app",
        skew=ANY_TIME,
    )


async def _check(
    transactions: GraphTransactions, ids: list[str], code: str, channel: Channel = Channel.EMAIL
) -> list[object]:
    found = await transactions.read(
        lambda s: checks.contact_check(
            ids, s, purpose=code, channel=channel, at=NOW + timedelta(days=1)
        )
    )
    return [(d.verdict.reason, d.verdict.obligations) for d in found]


class TestProductCategories:
    async def test_of_a_purpose_are_kept_and_changed_with_their_audit(
        self, graph_for: Callable[[str], GraphClient]
    ) -> None:
        transactions, code = await _setup(graph_for)
        found = await transactions.read(lambda s: s.purposes.get(code))
        assert found is not None
        assert found.product_categories == ("shoes", "bags")
        update = purposes.PurposeUpdate(
            reason="We sell no bags any more.", product_categories=("shoes",)
        )
        await transactions.write(
            lambda s: purposes.update_purpose(code, update, s, now=NOW, actor="officer-1")
        )
        found = await transactions.read(lambda s: s.purposes.get(code))
        changes = await transactions.read(lambda s: purposes.changes_of(s, code))
        assert found is not None
        assert found.product_categories == ("shoes",)
        assert changes[-1].changes == {"productCategories": (["shoes", "bags"], ["shoes"])}

    async def test_of_a_sale_decide_the_existing_customer_exception(
        self, graph_for: Callable[[str], GraphClient]
    ) -> None:
        transactions, code = await _setup(graph_for)
        buyer, sofa = str(uuid.uuid4()), str(uuid.uuid4())
        profiles = Profiles(ProfilePerson(buyer), ProfilePerson(sofa))
        recorded = await _record(transactions, _sale(buyer, code, "shoes"), profiles)
        await _record(transactions, _sale(sofa, code, "furniture"), profiles)
        history = await transactions.read(lambda s: s.consents.history_of([buyer]))
        assert [e.product_category for e in history[buyer]] == ["shoes"]
        assert history[buyer][0].id == recorded.id
        # The batch (UNWIND) and the single check (one statement) read the same facts.
        assert await _check(transactions, [buyer, sofa], code) == [
            (Reason.EXISTING_CUSTOMER, (Obligation.OPT_OUT_NOTICE_IN_EVERY_MESSAGE,)),
            (Reason.NOT_SIMILAR_PRODUCTS, ()),
        ]
        assert await _check(transactions, [sofa], code) == [(Reason.NOT_SIMILAR_PRODUCTS, ())]


class TestTheProfilesBirthDate:
    async def test_is_kept_once_as_evidence_and_the_age_at_the_consent_decides(
        self, graph_for: Callable[[str], GraphClient]
    ) -> None:
        transactions, code = await _setup(graph_for, legal_basis=LegalBasis.CONSENT)
        child, adult = str(uuid.uuid4()), str(uuid.uuid4())
        profiles = Profiles(ProfilePerson(child, None, "2011"), ProfilePerson(adult))
        # By post: e-mail marketing would need a double opt-in (test_double_opt_in_graph.py).
        post = Channel.POST
        grant = await _record(
            transactions, _event(child, code, EventType.GRANTED, channel=post), profiles
        )
        await _record(transactions, _event(adult, code, EventType.GRANTED, channel=post), profiles)
        assert profiles.calls == 2  # one call to the profile service per event
        again = _event(
            child, code, EventType.GRANTED, channel=post, occurred_at=NOW + timedelta(minutes=2)
        )
        await _record(transactions, again, profiles)
        history = await transactions.read(lambda s: s.consents.history_of([child, adult]))
        evidence = [e for e in history[child] if e.type is EventType.AGE_EVIDENCE]
        assert [(e.birth_date, e.method, e.actor, e.occurred_at) for e in evidence] == [
            (date(2011, 12, 31), Method.SYSTEM, ActorType.SYSTEM, grant.occurred_at)
        ]
        assert [e.type for e in history[adult]] == [EventType.GRANTED]
        assert await _check(transactions, [child, adult], code, post) == [
            (Reason.PARENTAL_AUTHORISATION_REQUIRED, ()),
            (Reason.CONSENT_GIVEN, ()),
        ]

    async def test_of_a_merged_away_id_is_kept_for_the_survivor(
        self, graph_for: Callable[[str], GraphClient]
    ) -> None:
        transactions, code = await _setup(graph_for, legal_basis=LegalBasis.CONSENT)
        survivor, merged = str(uuid.uuid4()), str(uuid.uuid4())
        profiles = Profiles(ProfilePerson(survivor, date(2013, 4, 1)), merged={merged: survivor})
        grant = _event(merged, code, EventType.GRANTED, channel=Channel.POST)
        await _record(transactions, grant, profiles)
        history = await transactions.read(lambda s: s.consents.history_of([survivor]))
        assert {(e.type, e.person_id) for e in history[survivor]} == {
            (EventType.GRANTED, survivor),
            (EventType.AGE_EVIDENCE, survivor),
        }

    async def test_counts_for_imported_consents_too(
        self, graph_for: Callable[[str], GraphClient]
    ) -> None:
        transactions, code = await _setup(graph_for, legal_basis=LegalBasis.CONSENT)
        person = str(uuid.uuid4())
        profiles = Profiles(ProfilePerson(person, date(1995, 3, 1)))
        past = NOW - timedelta(days=3650)  # a consent of 2016, given at 21
        draft = imports.ImportDraft(
            source="old-shop",
            reference="export-2016",
            document_sha256="0" * 64,
            events=(
                _event(person, code, EventType.GRANTED, occurred_at=past),
                _event(
                    person,
                    code,
                    EventType.GRANTED,
                    occurred_at=past + timedelta(days=1),
                    channel=Channel.POST,
                ),
            ),
        )
        done = await imports.import_events(
            draft, directory=profiles, transactions=transactions, now=NOW, imported_by="officer-1"
        )
        history = await transactions.read(lambda s: s.consents.history_of([person]))
        evidence = [e for e in history[person] if e.type is EventType.AGE_EVIDENCE]
        assert len(done.events) == 2
        assert [(e.birth_date, e.occurred_at, e.imported) for e in evidence] == [
            (date(1995, 3, 1), past, None)
        ]
