"""What each subscriber is told, decided from what is true now and what it was sent."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from mdm_distribution.domain import categories
from mdm_distribution.domain.models import (
    Cause,
    ChangeType,
    Delivery,
    PersonView,
    Recipient,
    Subscriber,
    Verdict,
)
from mdm_distribution.domain.reconcile import Facts, Plan, plan

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
SHOP = Subscriber(
    "s-shop", "shop", "service", "POST", ("identity", "postal_address"), Delivery.STREAM, NOW
)
NEWSLETTER = Subscriber(
    "s-news", "newsletter", "newsletter", "EMAIL", ("identity", "email"), Delivery.STREAM, NOW
)
ANNA = {"givenName": "Anna", "familyName": "Müller", "email": "anna@example.org", "titles": []}


def ids() -> itertools.count[int]:
    return itertools.count(1)


def run(
    causes: list[Cause],
    views: dict[str, PersonView | None],
    *,
    allowed: dict[tuple[str, str], bool] | None = None,
    states: dict[str, dict[str, str]] | None = None,
    recipients: list[Recipient] = (),  # type: ignore[assignment]
    subscribers: tuple[Subscriber, ...] = (SHOP, NEWSLETTER),
) -> Plan:
    counter = ids()
    verdicts = {
        key: Verdict(ok, "CONSENT_GIVEN" if ok else "WITHDRAWN")
        for key, ok in (allowed or {}).items()
    }
    facts = Facts(
        views=views,
        subscribers=subscribers,
        verdicts=verdicts,
        states=states or {},
        recipients={(r.subscriber_id, r.person_id): r for r in recipients},
    )
    return plan(causes, facts, now=NOW, new_id=lambda: f"m{next(counter)}")


def told(result: Plan) -> list[tuple[str, str, ChangeType]]:
    return [(m.subscriber_id, m.person_id, m.type) for m in result.messages]


def receiving(subscriber: Subscriber, person_id: str) -> Recipient:
    return Recipient(subscriber.id, person_id, receiving=True, sequence=3, first_sent_at=NOW)


class TestANewRecord:
    def test_goes_whole_to_the_subscribers_its_purpose_allows_with_their_categories_only(
        self,
    ) -> None:
        result = run(
            [Cause("CHANGED", "p1")],
            {"p1": PersonView("p1", ANNA)},
            allowed={("s-shop", "p1"): True, ("s-news", "p1"): False},
        )
        assert told(result) == [("s-shop", "p1", ChangeType.PERSON_CREATED)]
        sent = result.messages[0].data["attributes"]
        assert set(sent) == set(categories.attributes_of(SHOP.categories))
        assert "email" not in sent  # the shop did not register for e-mail addresses
        assert result.recipients[("s-shop", "p1")].receiving
        assert ("s-news", "p1") not in result.recipients  # nothing sent, nothing recorded

    def test_numbers_each_subscribers_messages_on_a_person(self) -> None:
        result = run(
            [Cause("CHANGED", "p1")],
            {"p1": PersonView("p1", ANNA)},
            allowed={("s-shop", "p1"): True},
            recipients=[Recipient("s-shop", "p1", sequence=7, first_sent_at=NOW)],
        )
        assert [m.sequence for m in result.messages] == [8]


class TestAChangedRecord:
    def before(self) -> dict[str, dict[str, str]]:
        return {"p1": categories.fingerprints(ANNA)}

    def test_sends_the_changed_attributes_of_the_subscribers_categories(self) -> None:
        moved = ANNA | {"familyName": "Schmidt", "email": "anna@new.example"}
        result = run(
            [Cause("CHANGED", "p1")],
            {"p1": PersonView("p1", moved)},
            allowed={("s-shop", "p1"): True, ("s-news", "p1"): True},
            states=self.before(),
            recipients=[receiving(SHOP, "p1"), receiving(NEWSLETTER, "p1")],
        )
        changes = {m.subscriber_id: m.data["changed"] for m in result.messages}
        assert changes == {
            "s-shop": {"familyName": "Schmidt"},
            "s-news": {"familyName": "Schmidt", "email": "anna@new.example"},
        }
        assert result.states["p1"] == categories.fingerprints(moved)

    def test_a_change_outside_a_subscribers_categories_is_not_sent_to_it(self) -> None:
        result = run(
            [Cause("CHANGED", "p1")],
            {"p1": PersonView("p1", ANNA | {"email": "other@example.org"})},
            allowed={("s-shop", "p1"): True},
            states=self.before(),
            recipients=[receiving(SHOP, "p1")],
        )
        assert told(result) == []

    def test_a_removed_value_is_sent_as_null(self) -> None:
        result = run(
            [Cause("CHANGED", "p1")],
            {"p1": PersonView("p1", {k: v for k, v in ANNA.items() if k != "email"})},
            allowed={("s-news", "p1"): True},
            states=self.before(),
            recipients=[receiving(NEWSLETTER, "p1")],
        )
        assert result.messages[0].data["changed"] == {"email": None}

    def test_the_same_event_heard_twice_sends_nothing_the_second_time(self) -> None:
        result = run(
            [Cause("CHANGED", "p1")],
            {"p1": PersonView("p1", ANNA)},
            allowed={("s-shop", "p1"): True},
            states=self.before(),
            recipients=[receiving(SHOP, "p1")],
        )
        assert told(result) == []
        assert result.recipients == {}
        assert result.states == {}


class TestAPurposeThatLapses:
    def test_the_subscriber_is_told_to_stop_with_the_reason_and_no_longer_receives(
        self,
    ) -> None:
        result = run(
            [Cause("CONSENT", "p1", purpose="newsletter", channel="EMAIL", change="WITHDRAWN")],
            {"p1": PersonView("p1", ANNA)},
            allowed={("s-news", "p1"): False, ("s-shop", "p1"): True},
            states={"p1": categories.fingerprints(ANNA)},
            recipients=[receiving(NEWSLETTER, "p1"), receiving(SHOP, "p1")],
        )
        assert told(result) == [
            ("s-news", "p1", ChangeType.CONSENT_WITHDRAWN),
            ("s-news", "p1", ChangeType.PERSON_STOPPED),
        ]
        assert result.messages[1].data == {
            "personId": "p1",
            "purpose": "newsletter",
            "reason": "WITHDRAWN",
        }
        assert not result.recipients[("s-news", "p1")].receiving

    def test_a_restricted_record_stops_every_subscriber(self) -> None:
        result = run(
            [Cause("CHANGED", "p1")],
            {"p1": PersonView("p1", ANNA, restricted=True)},
            allowed={("s-news", "p1"): True, ("s-shop", "p1"): True},
            states={"p1": categories.fingerprints(ANNA)},
            recipients=[receiving(NEWSLETTER, "p1"), receiving(SHOP, "p1")],
        )
        assert {(m.type, m.data["reason"]) for m in result.messages} == {
            (ChangeType.PERSON_STOPPED, "PROCESSING_RESTRICTED")
        }

    def test_a_consent_granted_sends_the_news_then_the_record(self) -> None:
        result = run(
            [Cause("CONSENT", "p1", purpose="newsletter", channel="EMAIL", change="CONFIRMED")],
            {"p1": PersonView("p1", ANNA)},
            allowed={("s-news", "p1"): True, ("s-shop", "p1"): False},
        )
        assert told(result) == [
            ("s-news", "p1", ChangeType.CONSENT_GRANTED),
            ("s-news", "p1", ChangeType.PERSON_CREATED),
        ]

    def test_consent_news_of_another_purpose_is_not_sent(self) -> None:
        result = run(
            [Cause("CONSENT", "p1", purpose="profiling", channel="EMAIL", change="GRANTED")],
            {"p1": PersonView("p1", ANNA)},
            allowed={("s-news", "p1"): True},
            states={"p1": categories.fingerprints(ANNA)},
            recipients=[receiving(NEWSLETTER, "p1")],
        )
        assert told(result) == []

    def test_an_objection_to_all_direct_marketing_is_news_where_it_stops_the_purpose(
        self,
    ) -> None:
        facts_before = {"p1": categories.fingerprints(ANNA)}
        objected = Verdict(False, "OBJECTED")
        counter = ids()
        result = plan(
            [Cause("CONSENT", "p1", purpose=None, channel=None, change="OBJECTED")],
            Facts(
                views={"p1": PersonView("p1", ANNA)},
                subscribers=(SHOP, NEWSLETTER),
                verdicts={
                    ("s-news", "p1"): objected,
                    ("s-shop", "p1"): Verdict(True, "LEGAL_BASIS"),
                },
                states=facts_before,
                recipients={
                    ("s-news", "p1"): receiving(NEWSLETTER, "p1"),
                    ("s-shop", "p1"): receiving(SHOP, "p1"),
                },
            ),
            now=NOW,
            new_id=lambda: f"m{next(counter)}",
        )
        assert told(result) == [
            ("s-news", "p1", ChangeType.CONSENT_OBJECTED),
            ("s-news", "p1", ChangeType.PERSON_STOPPED),
        ]

    def test_a_subscriber_never_allowed_hears_nothing_of_the_person(self) -> None:
        result = run(
            [Cause("CONSENT", "p1", purpose="newsletter", channel="EMAIL", change="WITHDRAWN")],
            {"p1": PersonView("p1", ANNA)},
            allowed={("s-news", "p1"): False},
        )
        assert told(result) == []


class TestMergesAndErasure:
    def test_a_merge_updates_the_survivor_then_names_the_merged_id(self) -> None:
        survivor = PersonView("p1", ANNA | {"email": "b@example.org"})
        result = run(
            [Cause("MERGED", "p1", other_id="p2")],
            {"p1": survivor, "p2": survivor},  # the merged id answers with its survivor
            allowed={("s-news", "p1"): True},
            states={"p1": categories.fingerprints(ANNA), "p2": categories.fingerprints(ANNA)},
            recipients=[receiving(NEWSLETTER, "p1"), receiving(NEWSLETTER, "p2")],
            subscribers=(NEWSLETTER,),
        )
        assert told(result) == [
            ("s-news", "p1", ChangeType.PERSON_UPDATED),
            ("s-news", "p2", ChangeType.PERSON_MERGED),
        ]
        assert result.messages[1].data == {"survivorId": "p1", "mergedId": "p2"}
        assert result.states["p2"] is None

    def test_a_merged_id_whose_survivor_the_subscriber_may_not_receive_is_stopped(self) -> None:
        result = run(
            [Cause("MERGED", "p1", other_id="p2")],
            {"p1": PersonView("p1", ANNA), "p2": PersonView("p1", ANNA)},
            allowed={("s-news", "p1"): False},
            recipients=[receiving(NEWSLETTER, "p2")],
            subscribers=(NEWSLETTER,),
        )
        assert told(result) == [("s-news", "p2", ChangeType.PERSON_STOPPED)]
        assert result.messages[0].data["reason"] == "MERGED"

    def test_an_erasure_reaches_every_subscriber_that_ever_received_the_person_once(
        self,
    ) -> None:
        stopped_earlier = Recipient("s-shop", "p1", receiving=False, sequence=2, first_sent_at=NOW)
        result = run(
            [Cause("ERASED", "p1")],
            {"p1": None},
            states={"p1": categories.fingerprints(ANNA)},
            recipients=[receiving(NEWSLETTER, "p1"), stopped_earlier],
        )
        assert sorted(told(result)) == [
            ("s-news", "p1", ChangeType.PERSON_ERASED),
            ("s-shop", "p1", ChangeType.PERSON_ERASED),
        ]
        assert all(r.erasure_notified_at == NOW for r in result.recipients.values())
        assert result.states == {"p1": None}  # the digests go with the person
        again = run(
            [Cause("ERASED", "p1")], {"p1": None}, recipients=list(result.recipients.values())
        )
        assert told(again) == []

    def test_an_unknown_id_tells_nobody(self) -> None:
        assert told(run([Cause("ERASED", "p9")], {"p9": None})) == []


@given(
    st.lists(
        st.fixed_dictionaries(
            {
                "familyName": st.sampled_from(["Müller", "Mueller", "Schmidt"]),
                "email": st.sampled_from([None, "a@example.org", "b@example.org"]),
                "address": st.sampled_from([None, {"city": "Berlin"}, {"city": "Köln"}]),
            }
        ),
        min_size=1,
        max_size=6,
    )
)
def test_applying_the_messages_in_order_rebuilds_the_record_a_subscriber_may_see(
    versions: list[dict[str, object]],
) -> None:
    """Whatever the sequence of versions, the subscriber's copy ends as the last one
    (of its categories)."""
    held: dict[str, object] = {}
    states: dict[str, dict[str, str]] = {}
    recipients: list[Recipient] = []
    for version in versions:
        result = run(
            [Cause("CHANGED", "p1")],
            {"p1": PersonView("p1", version)},
            allowed={("s-news", "p1"): True},
            states=states,
            recipients=recipients,
            subscribers=(NEWSLETTER,),
        )
        for message in result.messages:
            held.update(message.data.get("attributes") or message.data.get("changed") or {})
        states = {k: v for k, v in (states | result.states).items() if v is not None}
        recipients = list(result.recipients.values()) or recipients
    assert held == categories.shared(versions[-1], NEWSLETTER.categories)
