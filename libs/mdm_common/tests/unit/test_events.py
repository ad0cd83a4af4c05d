from __future__ import annotations

from datetime import UTC, datetime

import pytest

from mdm_common.contracts import SUBSCRIPTIONS, Event, Subscription
from mdm_common.events import BrokerPublisher, PendingEvents, make_celery, message_id
from mdm_infra.ports import free_port

PERSON = "0b6f7c1e-1d2f-4c1a-9a0e-2f3b4c5d6e7f"
NOW = datetime(2026, 12, 6, 9, 30, tzinfo=UTC)


class TestPendingEvents:
    def test_rejects_unknown_events(self) -> None:
        with pytest.raises(ValueError, match="unknown event"):
            PendingEvents().record("profile.person_renamed", person_id="p1")

    @pytest.mark.parametrize("value", ["Anna Müller", "anna@example.org", "", "x" * 200, "p1\n"])
    def test_payload_is_ids_only(self, value: str) -> None:
        with pytest.raises(ValueError, match="not an id"):
            PendingEvents().record(Event.PERSON_CREATED, person_id=value)

    def test_stored_in_the_order_recorded_each_with_an_id_of_its_own(self) -> None:
        events = PendingEvents()
        events.record(Event.PERSON_CREATED, person_id=PERSON)
        events.record(Event.PERSON_UPDATED, person_id=PERSON)
        stored = events.to_store(NOW)
        assert [(e.name, e.seq, e.created_at) for e in stored] == [
            (Event.PERSON_CREATED, 0, NOW),
            (Event.PERSON_UPDATED, 1, NOW),
        ]
        assert stored[0].ids == {"person_id": PERSON}
        assert len({e.id for e in stored}) == 2

    def test_nothing_recorded_stores_nothing(self) -> None:
        assert PendingEvents().to_store(NOW) == []


def test_message_id_is_stable_per_event_and_subscriber() -> None:
    merged = SUBSCRIPTIONS[Event.PERSON_MERGED]
    ids = {message_id("e1", s) for s in merged}
    assert len(ids) == len(merged) == 3  # matching, consent, distribution
    assert message_id("e1", Subscription("matching.x", "matching")) == "e1/matching.x"


def test_celery_follows_the_reliability_rules() -> None:
    conf = make_celery(
        "any", "redis://127.0.0.1:1/0", visibility_timeout_s=42, restore_interval_s=3
    ).conf
    assert conf.task_serializer == "json"
    assert conf.accept_content == ["json"]
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.broker_transport_options["visibility_timeout"] == 42
    # A killed worker's message is looked for every 3 s, not every 30 s (kombu's throttle).
    assert conf.broker_transport_options["unacked_restore_interval"] == 3
    assert conf.broker_transport_options["unacked_restore_throttle"] == 1


def test_a_publish_to_an_unreachable_broker_raises() -> None:
    # The relay keeps the events pending when publishing raises; it must not pass
    # silently.
    celery = make_celery("test", f"redis://127.0.0.1:{free_port()}/0")
    celery.conf.broker_connection_timeout = 0.5
    events = PendingEvents()
    events.record(Event.PERSON_CREATED, person_id=PERSON)
    with pytest.raises(Exception):  # noqa: B017, PT011 - whatever the broker client raises
        BrokerPublisher(celery).publish(events.to_store(NOW))
