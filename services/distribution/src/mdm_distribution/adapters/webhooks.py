"""Pushing each subscriber's stream to its webhook, signed, in order, with retries.

A delivery is an HTTP POST of the CloudEvent (structured JSON), signed as Standard
Webhooks sign (``webhook-id``: the event id, ``webhook-timestamp``, ``webhook-signature``:
``v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">``, one per valid secret). A 2xx
answer delivers it; anything else, or no answer, is tried again after a growing,
jittered pause, and after the last attempt the delivery becomes a dead letter an admin
can replay. One subscriber's deliveries go one at a time, in the stream's order: a
receiver sees a person's changes in the order they happened.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime

import httpx
from standardwebhooks.webhooks import Webhook
from tenacity import (
    AsyncRetrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)

from mdm_common.errors import NotFound
from mdm_common.graph import GraphClient
from mdm_distribution.adapters import cloudevents
from mdm_distribution.adapters.dead_letter_store import DeadLetter, GraphDeadLetterStore
from mdm_distribution.adapters.streams import WEBHOOK_GROUP, ChangeStreams
from mdm_distribution.adapters.subscriber_store import GraphSubscriberStore
from mdm_distribution.domain.models import Delivery, Subscriber

log = logging.getLogger(__name__)
BLOCK_MS = 1000
ERROR_TEXT = 200  # characters of a failure kept on a dead letter (status or error type)


@dataclass(frozen=True)
class WebhookPolicy:
    timeout_s: float = 10.0
    attempts: int = 8
    first_retry_s: float = 1.0
    max_retry_s: float = 300.0


class Paused(Exception):
    """The subscriber was paused: the delivery waits, unacknowledged, for the resumption."""


class DeliveryFailed(Exception):
    def __init__(self, status: int | None, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


class WebhookSender:
    """Signs and posts one event to one subscriber's URL."""

    def __init__(self, graph: GraphClient, http: httpx.AsyncClient) -> None:
        self._graph = graph
        self._http = http

    async def post(self, subscriber: Subscriber, body: bytes, *, unless_paused: bool) -> int:
        """Returns the receiver's status; raises :class:`DeliveryFailed` unless 2xx, and
        :class:`Paused` (``unless_paused``) when the subscriber was paused meanwhile: a
        pause holds from the next delivery on."""
        assert subscriber.webhook_url is not None  # a webhook subscriber has one
        secrets = await self._graph.read(lambda tx: GraphSubscriberStore(tx).secrets(subscriber.id))
        if secrets is None:
            raise DeliveryFailed(None, "no secret")
        if unless_paused and secrets.paused:
            raise Paused(subscriber.id)
        event = cloudevents.decode(body)
        now = datetime.now(UTC)
        signatures = " ".join(
            Webhook(secret).sign(event.get_id(), now, body) for secret in secrets.signing(now)
        )
        headers = {
            "content-type": cloudevents.CONTENT_TYPE,
            "webhook-id": event.get_id(),
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": signatures,
        }
        try:
            response = await self._http.post(subscriber.webhook_url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            raise DeliveryFailed(None, type(exc).__name__) from None
        if not 200 <= response.status_code < 300:
            raise DeliveryFailed(response.status_code, f"HTTP {response.status_code}")
        return response.status_code


class WebhookDispatcher:
    """One delivery loop per webhook subscriber that is not paused, kept in step with
    the subscribers every second."""

    def __init__(
        self,
        graph: GraphClient,
        streams: ChangeStreams,
        sender: WebhookSender,
        *,
        policy: WebhookPolicy,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._graph = graph
        self._streams = streams
        self._sender = sender
        self._policy = policy
        self._sleep = sleep
        self._consumer = f"sender-{uuid.uuid4().hex[:8]}"
        self._loops: dict[str, asyncio.Task[None]] = {}

    async def keep_in_step(self) -> None:
        subscribers = await self._graph.read(lambda tx: GraphSubscriberStore(tx).all())
        wanted = {s.id: s for s in subscribers if s.delivery is Delivery.WEBHOOK and not s.paused}
        for subscriber_id in list(self._loops):
            loop = self._loops[subscriber_id]
            if subscriber_id not in wanted or loop.done():
                if not loop.done():
                    loop.cancel()
                elif not loop.cancelled() and loop.exception() is not None:
                    # Redis or the graph away: the loop starts again on the next step.
                    log.warning(
                        "webhook loop of subscriber %s stopped: %s",
                        subscriber_id,
                        type(loop.exception()).__name__,
                    )
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await loop
                del self._loops[subscriber_id]
        for subscriber_id, subscriber in wanted.items():
            if subscriber_id not in self._loops:
                self._loops[subscriber_id] = asyncio.create_task(self._deliver_all(subscriber))

    async def stop(self) -> None:
        for loop in self._loops.values():
            loop.cancel()
        for loop in self._loops.values():
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await loop
        self._loops.clear()

    async def _deliver_all(self, subscriber: Subscriber) -> None:
        await self._streams.ensure_group(subscriber.id, WEBHOOK_GROUP)
        # What a previous sender took and did not finish comes first (a restart, a pause).
        unacknowledged = True
        while True:
            entries = await self._streams.read_group(
                subscriber.id,
                WEBHOOK_GROUP,
                self._consumer,
                unacknowledged=unacknowledged,
                block_ms=BLOCK_MS,
            )
            if unacknowledged and not entries:
                unacknowledged = await self._claim_orphans(subscriber)
                continue
            for position, body in entries:
                try:
                    await self._deliver(subscriber, position, body)
                except Paused:
                    return  # unacknowledged: delivered first when resumed
                await self._streams.ack(subscriber.id, WEBHOOK_GROUP, position)

    async def _claim_orphans(self, subscriber: Subscriber) -> bool:
        """Entries another sender (a process that died) took and never acknowledged:
        this sender takes them over, in order. True if there were any."""
        key = self._streams.key(subscriber.id)
        claimed = await self._streams.redis.xautoclaim(
            key, WEBHOOK_GROUP, self._consumer, min_idle_time=0, start_id="0-0", count=100
        )
        return bool(claimed and claimed[1])

    async def _deliver(self, subscriber: Subscriber, position: str, body: bytes) -> None:
        attempts = 0
        retrying = AsyncRetrying(
            retry=retry_if_exception_type(DeliveryFailed),
            stop=stop_after_attempt(self._policy.attempts),
            wait=wait_exponential_jitter(
                multiplier=self._policy.first_retry_s,
                max=self._policy.max_retry_s,
                jitter=self._policy.first_retry_s,
            ),
            sleep=self._sleep,
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    attempts += 1
                    await self._sender.post(subscriber, body, unless_paused=True)
        except DeliveryFailed as failed:
            event = cloudevents.decode(body)
            letter = DeadLetter(
                id=str(uuid.uuid4()),
                subscriber_id=subscriber.id,
                position=position,
                event_id=event.get_id(),
                type=event.get_type(),
                attempts=attempts,
                last_status=failed.status,
                last_error=failed.reason[:ERROR_TEXT],
                failed_at=datetime.now(UTC),
            )
            await self._graph.write(lambda tx: GraphDeadLetterStore(tx).add(letter))
            log.warning(
                "webhook delivery to subscriber %s failed %d times (%s): dead letter %s",
                subscriber.id,
                attempts,
                failed.reason,
                letter.id,
            )


async def replay_dead_letter(
    letter_id: str, *, graph: GraphClient, streams: ChangeStreams, sender: WebhookSender
) -> DeadLetter:
    """Post a dead letter's event again, now (an admin's replay): marked replayed when
    the receiver accepts it; :class:`DeliveryFailed` with its answer when not."""
    letter = await graph.read(lambda tx: GraphDeadLetterStore(tx).get(letter_id))
    if letter is None:
        raise NotFound(f"No dead letter {letter_id}.", field="id")
    subscriber = await graph.read(lambda tx: GraphSubscriberStore(tx).get(letter.subscriber_id))
    if subscriber is None or subscriber.webhook_url is None:
        raise NotFound(f"No webhook subscriber {letter.subscriber_id}.", field="id")
    body = await streams.entry(subscriber.id, letter.position)
    if body is None:
        raise NotFound(
            "The stream no longer holds this entry (trimmed); rebuild from an export.",
            field="id",
        )
    await sender.post(subscriber, body, unless_paused=False)
    now = datetime.now(UTC)
    await graph.write(lambda tx: GraphDeadLetterStore(tx).replayed(letter.id, now=now))
    return replace(letter, replayed_at=now)
