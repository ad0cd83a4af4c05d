"""Registering and steering subscribers: what an admin does."""

from __future__ import annotations

import base64
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from mdm_common.contracts import Event
from mdm_common.errors import Conflict, InvalidInput, NotFound
from mdm_distribution.domain import categories
from mdm_distribution.domain.models import Delivery, Subscriber
from mdm_distribution.domain.ports import ContactChecks
from mdm_distribution.domain.stores import Stores
from mdm_distribution.domain.transactions import Transactions

MAX_NAME = 100
MAX_URL = 2000
# The Standard Webhooks secret format: base64 after the prefix.
SECRET_PREFIX = "whsec_"  # noqa: S105 - a prefix, not a secret


@dataclass(frozen=True)
class NewSubscriber:
    name: str
    purpose: str
    channel: str
    categories: tuple[str, ...]
    webhook_url: str | None = None


@dataclass(frozen=True)
class WebhookRules:
    """Which webhook URLs are accepted: https, or plain http on these hosts only."""

    plain_http_hosts: tuple[str, ...] = ("127.0.0.1", "localhost")

    def check(self, url: str) -> str:
        url = url.strip()
        try:
            parts = urlsplit(url)
            host = parts.hostname
        except ValueError:  # an IPv6 host without its closing bracket, a bad port
            host = None
        if len(url) > MAX_URL or not host or parts.username or parts.password:
            raise InvalidInput("The webhook URL is no absolute URL.", field="webhookUrl")
        if parts.scheme == "https" or (parts.scheme == "http" and host in self.plain_http_hosts):
            return url
        raise InvalidInput(
            "A webhook URL must use https (plain http only on a development host).",
            field="webhookUrl",
        )


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


async def create(
    request: NewSubscriber,
    *,
    transactions: Transactions,
    checks: ContactChecks,
    rules: WebhookRules,
    now: datetime,
) -> tuple[Subscriber, str | None]:
    """Register a subscriber; returns it with its webhook secret (shown this once).

    Its categories must be among its purpose's, and of the golden record; its channel
    one of the purpose's. The persons the purpose allows now are sent to it by a
    backfill job (``distribution.backfill_requested``), page by page."""
    name = request.name.strip()
    if not name or len(name) > MAX_NAME:
        raise InvalidInput(f"A name of 1 to {MAX_NAME} characters is needed.", field="name")
    terms = await checks.purpose(request.purpose)
    if terms is None:
        raise NotFound(f"No purpose {request.purpose!r} is registered.", field="purpose")
    if request.channel not in terms.channels:
        raise InvalidInput(
            f"The purpose covers the channels {', '.join(terms.channels)} only.", field="channel"
        )
    wanted = tuple(dict.fromkeys(request.categories))
    if not wanted:
        raise InvalidInput("Name the data categories the subscriber needs.", field="categories")
    outside = [c for c in wanted if c not in terms.data_categories or c not in categories.SHAREABLE]
    if outside:
        raise InvalidInput(
            "A subscriber receives only categories of its purpose that the golden record "
            f"holds; not: {', '.join(outside)}.",
            field="categories",
            details={"categories": outside, "purposeCategories": list(terms.data_categories)},
        )
    url = rules.check(request.webhook_url) if request.webhook_url is not None else None
    subscriber = Subscriber(
        id=str(uuid.uuid4()),
        name=name,
        purpose=terms.code,
        channel=request.channel,
        categories=wanted,
        delivery=Delivery.WEBHOOK if url else Delivery.STREAM,
        created_at=now,
        webhook_url=url,
    )
    secret = new_secret() if url else None

    async def work(stores: Stores) -> None:
        if await stores.subscribers.name_taken(name):
            raise Conflict(f"A subscriber named {name!r} exists.", field="name")
        await stores.subscribers.add(subscriber, secret)
        stores.events.record(Event.DISTRIBUTION_BACKFILL_REQUESTED, subscriber_id=subscriber.id)

    await transactions.write(work)
    return subscriber, secret


async def _existing(stores: Stores, subscriber_id: str) -> Subscriber:
    subscriber = await stores.subscribers.get(subscriber_id)
    if subscriber is None:
        raise NotFound(f"No subscriber {subscriber_id}.", field="id")
    return subscriber


async def _in_force(stores: Stores, subscriber_id: str) -> Subscriber:
    subscriber = await _existing(stores, subscriber_id)
    if subscriber.removed_at is not None:
        raise Conflict(
            f"Subscriber {subscriber_id} was removed.", field="id", details={"reason": "REMOVED"}
        )
    return subscriber


async def set_paused(
    subscriber_id: str, *, paused: bool, transactions: Transactions, now: datetime
) -> Subscriber:
    """Pause or resume pushing to a subscriber. Its stream keeps every change meanwhile:
    resuming delivers what was recorded while paused, in order."""

    async def work(stores: Stores) -> Subscriber:
        await _in_force(stores, subscriber_id)
        await stores.subscribers.set_paused(subscriber_id, paused=paused, now=now)
        return await _existing(stores, subscriber_id)

    return await transactions.write(work)


async def rotate_secret(
    subscriber_id: str, *, transactions: Transactions, overlap: timedelta, now: datetime
) -> tuple[Subscriber, str]:
    """A new webhook secret (shown this once). For ``overlap`` deliveries carry a
    signature with the old secret as well, so the receiver can switch at its pace."""
    secret = new_secret()

    async def work(stores: Stores) -> Subscriber:
        subscriber = await _in_force(stores, subscriber_id)
        if subscriber.delivery is not Delivery.WEBHOOK:
            raise InvalidInput("Only a webhook subscriber has a secret.", field="id")
        await stores.subscribers.rotate_secret(
            subscriber_id, secret, now=now, previous_until=now + overlap
        )
        return await _existing(stores, subscriber_id)

    return await transactions.write(work), secret


async def remove(subscriber_id: str, *, transactions: Transactions, now: datetime) -> Subscriber:
    """Remove a subscriber: it is told nothing more, its secret is forgotten; what it was
    sent stays on record (Art. 19) under its name. Its stream is deleted by the caller
    after this commits."""

    async def work(stores: Stores) -> Subscriber:
        found = await _existing(stores, subscriber_id)
        if found.removed_at is not None:
            return found
        await stores.subscribers.remove(subscriber_id, now=now)
        return await _existing(stores, subscriber_id)

    return await transactions.write(work)
