from __future__ import annotations

import pytest

from mdm_common.contracts import Event
from mdm_common.events import Outbox, make_celery


@pytest.fixture
def outbox() -> Outbox:
    # A broker URL nobody listens on: these tests never publish.
    return Outbox(make_celery("test", "redis://127.0.0.1:1/0"))


class TestOutboxRecord:
    def test_rejects_unknown_events(self, outbox: Outbox) -> None:
        with pytest.raises(ValueError, match="unknown event"):
            outbox.record("profile.person_renamed", person_id="p1")

    @pytest.mark.parametrize("value", ["Anna Müller", "anna@example.org", "", "x" * 200, "p1\n"])
    def test_payload_is_ids_only(self, outbox: Outbox, value: str) -> None:
        with pytest.raises(ValueError, match="not an id"):
            outbox.record(Event.PERSON_CREATED, person_id=value)

    def test_discard_drops_pending_events(self, outbox: Outbox) -> None:
        outbox.record(Event.PERSON_CREATED, person_id="0b6f7c1e-1d2f-4c1a-9a0e-2f3b4c5d6e7f")
        outbox.discard()
        outbox.publish()  # nothing pending: no broker is contacted


def test_celery_follows_the_reliability_rules() -> None:
    conf = make_celery("any", "redis://127.0.0.1:1/0").conf
    assert conf.task_serializer == "json"
    assert conf.accept_content == ["json"]
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True


def test_a_failed_publish_is_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    from mdm_infra.ports import free_port

    # Nothing listens on this port: the data is already committed when publish runs,
    # so the request must not fail; the failure is logged without the payload.
    outbox = Outbox(make_celery("test", f"redis://127.0.0.1:{free_port()}/0"))
    person_id = "0b6f7c1e-1d2f-4c1a-9a0e-2f3b4c5d6e7f"
    outbox.record(Event.PERSON_CREATED, person_id=person_id)
    outbox.publish()
    assert "could not publish profile.person_created" in caplog.text
    assert person_id not in caplog.text
