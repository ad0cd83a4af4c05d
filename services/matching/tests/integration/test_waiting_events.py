"""Person events taken off the matching queue by a running task, on the real broker
(the test platform's Valkey, a database of its own): in order, up to a message of
another kind, and nothing lost when the pass fails or its process dies."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import pytest
import redis
from celery import Celery

from mdm_common.events import make_celery
from mdm_infra.platform import Platform
from mdm_matching.adapters.waiting_events import matching_events

CREATED, UPDATED = "matching.on_person_created", "matching.on_person_updated"
MERGED = "matching.on_person_merged"
UNMERGED = "matching.on_person_unmerged"


@pytest.fixture
def app(backing_servers: Platform) -> Iterator[Celery]:
    # Database 7 of the test platform's Valkey: no worker listens there.
    url = backing_servers.config.broker.url.rsplit("/", 1)[0] + "/7"
    celery = make_celery("waitingtest", url, visibility_timeout_s=3600)
    yield celery
    celery.close()


def _send(app: Celery, queue: str, task: str, **ids: str) -> str:
    task_id = str(uuid.uuid4())
    app.send_task(task, kwargs=ids, task_id=task_id, queue=queue)
    return task_id


def _drain(app: Celery, queue: str) -> list[tuple[str, str]]:
    """Everything in the queue, in its order: (task name, task id); acknowledged."""
    found = []
    with app.connection_for_read() as connection:
        bound = app.amqp.queues[queue](connection.default_channel)
        while (message := bound.get(no_ack=False, accept=["json"])) is not None:
            found.append((message.headers["task"], message.headers["id"]))
            message.ack()
    return found


def test_matching_events_are_taken_in_order_up_to_another_kind(app: Celery) -> None:
    queue = f"waiting-{uuid.uuid4().hex[:8]}"
    app.amqp.queues.select_add(queue)
    first = _send(app, queue, CREATED, person_id="p1")
    merge = _send(app, queue, MERGED, survivor_id="p1", merged_id="p9", merge_id="m1")
    second = _send(app, queue, UPDATED, person_id="p2")
    unmerge = _send(app, queue, UNMERGED, survivor_id="p1", merged_id="p9", merge_id="m1")
    later = _send(app, queue, CREATED, person_id="p3")
    waiting = matching_events(app, queue)

    taken = waiting.take(10)
    assert [(e.message_id, e.task, e.ids) for e in taken] == [
        (first, CREATED, {"person_id": "p1"}),
        (merge, MERGED, {"survivor_id": "p1", "merged_id": "p9", "merge_id": "m1"}),
        (second, UPDATED, {"person_id": "p2"}),
    ]
    waiting.done(taken)
    waiting.close()
    # The unmerge stays at the head, ahead of the creation behind it: nothing overtakes it.
    assert _drain(app, queue) == [(UNMERGED, unmerge), (CREATED, later)]


def test_a_limit_leaves_the_rest_waiting(app: Celery) -> None:
    queue = f"waiting-{uuid.uuid4().hex[:8]}"
    app.amqp.queues.select_add(queue)
    ids = [_send(app, queue, CREATED, person_id=f"p{n}") for n in range(3)]
    waiting = matching_events(app, queue)
    taken = waiting.take(2)
    assert [e.message_id for e in taken] == ids[:2]
    waiting.done(taken)
    assert waiting.take(0) == []
    waiting.close()
    assert _drain(app, queue) == [(CREATED, ids[2])]


def test_a_failed_pass_gives_its_events_back(app: Celery) -> None:
    queue = f"waiting-{uuid.uuid4().hex[:8]}"
    app.amqp.queues.select_add(queue)
    ids = [_send(app, queue, CREATED, person_id=f"p{n}") for n in range(3)]
    waiting = matching_events(app, queue)
    taken = waiting.take(3)
    assert len(taken) == 3
    waiting.give_back(taken)
    waiting.close()
    assert sorted(task_id for _, task_id in _drain(app, queue)) == sorted(ids)


def test_events_of_a_process_that_died_come_back(app: Celery) -> None:
    """Taken and never acknowledged: the broker restores them (here when the dead
    process's connection is gone; after the visibility timeout when it vanished)."""
    queue = f"waiting-{uuid.uuid4().hex[:8]}"
    app.amqp.queues.select_add(queue)
    ids = [_send(app, queue, CREATED, person_id=f"p{n}") for n in range(2)]
    waiting = matching_events(app, queue)
    assert len(waiting.take(5)) == 2
    waiting.close()
    assert sorted(task_id for _, task_id in _drain(app, queue)) == sorted(ids)


def test_merge_events_count_against_a_limit_of_their_own(app: Celery) -> None:
    queue = f"waiting-{uuid.uuid4().hex[:8]}"
    app.amqp.queues.select_add(queue)
    merges = [
        _send(app, queue, MERGED, survivor_id="p1", merged_id=f"p{n}", merge_id=f"m{n}")
        for n in range(4)
    ]
    created = [_send(app, queue, CREATED, person_id=f"p{n}") for n in range(2)]
    more = _send(app, queue, MERGED, survivor_id="p1", merged_id="p8", merge_id="m8")
    waiting = matching_events(app, queue)

    # One creation and four merges: the second creation would pass the limit for
    # persons to match; it stays first in the queue.
    taken = waiting.take(1, apart_limit=5)
    assert [e.message_id for e in taken] == [*merges, created[0]]
    waiting.done(taken)
    taken = waiting.take(1, apart_limit=0)
    assert [e.message_id for e in taken] == [created[1]]  # the merge behind it waits
    waiting.done(taken)
    waiting.close()
    assert _drain(app, queue) == [(MERGED, more)]


def _calls(client: redis.Redis, command: str) -> int:
    stats = client.info("commandstats").get(f"cmdstat_{command}", {})
    return int(stats.get("calls", 0))


def _scripts_run(client: redis.Redis) -> int:
    return _calls(client, "eval")


def test_an_event_leaves_the_queue_and_enters_the_unacknowledged_record_in_one_step(
    app: Celery,
) -> None:
    """No moment exists in which the broker holds the message neither in the queue
    nor in its record of unacknowledged messages: a broker stopping then, or an answer
    lost with the connection, would lose it. The record restores it when its taker
    vanished (visibility timeout)."""
    queue = f"waiting-{uuid.uuid4().hex[:8]}"
    app.amqp.queues.select_add(queue)
    sent = _send(app, queue, CREATED, person_id="p1")
    client = redis.Redis.from_url(app.conf.broker_url)
    scripts = _scripts_run(client)

    taken = matching_events(app, queue).take(1)  # and its process vanishes
    assert [e.message_id for e in taken] == [sent]
    assert _scripts_run(client) == scripts + 1  # popped and recorded in one script
    tag = taken[0].message.delivery_tag
    recorded, exchange, routing_key = json.loads(client.hget("unacked", tag) or "null")
    assert recorded["headers"]["id"] == sent
    assert (exchange, routing_key) == (
        taken[0].message.delivery_info["exchange"],
        taken[0].message.delivery_info["routing_key"],
    )

    sweeper = make_celery("waitingtest", app.conf.broker_url, visibility_timeout_s=0)
    with sweeper.connection_for_read() as connection:
        connection.default_channel.qos.restore_visible(num=100)
    sweeper.close()
    client.close()
    assert _drain(app, queue) == [(CREATED, sent)]


def test_many_events_are_taken_in_one_step_and_acknowledged_together(app: Celery) -> None:
    """A pass of 200 events took them one script call each and acknowledged them one
    round trip each: 0.24 s of a 0.55 s distribution pass (docs/benchmarks.md)."""
    queue = f"waiting-{uuid.uuid4().hex[:8]}"
    app.amqp.queues.select_add(queue)
    ids = [_send(app, queue, CREATED, person_id=f"p{n}") for n in range(5)]
    client = redis.Redis.from_url(app.conf.broker_url)
    scripts = _scripts_run(client)
    waiting = matching_events(app, queue)

    taken = waiting.take(10)
    assert [e.message_id for e in taken] == ids
    assert _scripts_run(client) == scripts + 1
    tags = [e.message.delivery_tag for e in taken]
    assert all(client.hexists("unacked", tag) for tag in tags)
    waiting.done(taken)
    assert not any(client.hexists("unacked", tag) for tag in tags)
    assert all(e.message.acknowledged for e in taken)
    waiting.close()
    client.close()
    assert _drain(app, queue) == []


def test_events_behind_another_kind_go_back_as_they_were_in_one_step(app: Celery) -> None:
    """Taken with the pass's events in one script call, those behind the first event of
    another kind go back to the head of the queue unchanged and leave the record, in one
    transaction (not one restore each)."""
    queue = f"waiting-{uuid.uuid4().hex[:8]}"
    app.amqp.queues.select_add(queue)
    first = _send(app, queue, CREATED, person_id="p0")
    unmerge = _send(app, queue, UNMERGED, survivor_id="p1", merged_id="p9", merge_id="m1")
    behind = [_send(app, queue, CREATED, person_id=f"p{n}") for n in range(2, 4)]
    client = redis.Redis.from_url(app.conf.broker_url)
    transactions = _calls(client, "exec")
    waiting = matching_events(app, queue)

    taken = waiting.take(10)
    assert [e.message_id for e in taken] == [first]
    assert _calls(client, "exec") == transactions + 1
    recorded = {json.loads(v)[0]["headers"]["id"] for v in client.hvals("unacked")}
    assert recorded.isdisjoint([unmerge, *behind])
    waiting.done(taken)
    waiting.close()
    client.close()
    assert _drain(app, queue) == [(UNMERGED, unmerge), *((CREATED, b) for b in behind)]
