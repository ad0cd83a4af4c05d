"""Registering and steering subscribers against the real graph server."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

import pytest

from mdm_common.contracts import Event
from mdm_common.errors import Conflict, InvalidInput, NotFound
from mdm_common.graph import GraphClient
from mdm_distribution.adapters.transactions import SCHEMA, GraphTransactions
from mdm_distribution.domain import subscribers
from mdm_distribution.domain.models import Delivery, Verdict
from mdm_distribution.domain.ports import PurposeTerms

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
RULES = subscribers.WebhookRules()
# A purpose the running platform's registry does not hold: its distribution worker
# (sharing this database) sends these subscribers nothing.
PURPOSE = "mailing-" + uuid.uuid4().hex[:8]


class Registry:
    """The consent service's purpose registry as the use case asks it (the contact check
    is not needed here)."""

    async def purpose(self, code: str) -> PurposeTerms | None:
        if code != PURPOSE:
            return None
        return PurposeTerms(PURPOSE, ("EMAIL",), ("identity", "email", "consent"))

    async def check(
        self, person_ids: Sequence[str], *, purpose: str, channel: str, at: datetime
    ) -> dict[str, Verdict]:
        raise AssertionError("not asked when registering")


@pytest.fixture
async def transactions(graph_for: Callable[[str], GraphClient]) -> GraphTransactions:
    graph = graph_for("distribution")
    await graph.apply_schema(SCHEMA)
    return GraphTransactions(graph, stream_prefix=f"test:{uuid.uuid4().hex}:")


def request(**overrides: object) -> subscribers.NewSubscriber:
    values: dict[str, object] = {
        "name": f"mailer-{uuid.uuid4().hex[:8]}",
        "purpose": PURPOSE,
        "channel": "EMAIL",
        "categories": ("identity", "email"),
    }
    return subscribers.NewSubscriber(**(values | overrides))  # type: ignore[arg-type]


async def create(
    transactions: GraphTransactions, **overrides: object
) -> tuple[subscribers.Subscriber, str | None]:
    return await subscribers.create(
        request(**overrides), transactions=transactions, checks=Registry(), rules=RULES, now=NOW
    )


class TestRegistering:
    async def test_a_stream_subscriber_is_stored_and_its_backfill_requested(
        self, transactions: GraphTransactions
    ) -> None:
        created, secret = await create(transactions)
        assert (created.delivery, secret) == (Delivery.STREAM, None)
        stored = await transactions.read(lambda s: s.subscribers.get(created.id))
        assert stored == created
        rows = await transactions.unit_of_work.graph.read(
            lambda tx: tx.run(
                "t",
                "MATCH (e:OutboxEvent {name: $name}) WHERE e.payload CONTAINS $id RETURN e.id",
                name=Event.DISTRIBUTION_BACKFILL_REQUESTED,
                id=created.id,
            )
        )
        assert len(rows) == 1

    async def test_a_webhook_subscriber_gets_a_secret_kept_for_signing_only(
        self, transactions: GraphTransactions
    ) -> None:
        created, secret = await create(transactions, webhook_url="https://mailer.example/hook")
        assert created.delivery is Delivery.WEBHOOK
        assert secret is not None
        assert secret.startswith("whsec_")
        held = await transactions.read(lambda s: s.subscribers.secrets(created.id))
        assert held is not None
        assert held.current == secret

    @pytest.mark.parametrize(
        ("overrides", "field"),
        [
            ({"name": "  "}, "name"),
            ({"purpose": "profiling"}, "purpose"),
            ({"channel": "PHONE"}, "channel"),
            ({"categories": ()}, "categories"),
            ({"categories": ("identity", "postal_address")}, "categories"),  # not the purpose's
            ({"categories": ("consent",)}, "categories"),  # the purpose's, not a record's
            ({"webhook_url": "http://mailer.example/hook"}, "webhookUrl"),  # plain http
            ({"webhook_url": "https://user:pw@mailer.example/"}, "webhookUrl"),
            ({"webhook_url": "mailer.example"}, "webhookUrl"),
            ({"webhook_url": "https://[::1/hook"}, "webhookUrl"),
        ],
    )
    async def test_refuses_what_it_cannot_serve(
        self, transactions: GraphTransactions, overrides: dict[str, object], field: str
    ) -> None:
        with pytest.raises((InvalidInput, NotFound)) as refused:
            await create(transactions, **overrides)
        assert refused.value.field == field

    async def test_a_name_is_taken_once(self, transactions: GraphTransactions) -> None:
        created, _ = await create(transactions)
        with pytest.raises(Conflict):
            await create(transactions, name=created.name)


class TestSteering:
    async def test_pause_and_resume(self, transactions: GraphTransactions) -> None:
        created, _ = await create(transactions, webhook_url="https://mailer.example/hook")
        paused = await subscribers.set_paused(
            created.id, paused=True, transactions=transactions, now=NOW
        )
        assert (paused.paused, paused.paused_at) == (True, NOW)
        resumed = await subscribers.set_paused(
            created.id, paused=False, transactions=transactions, now=NOW
        )
        assert (resumed.paused, resumed.paused_at) == (False, None)
        with pytest.raises(NotFound):
            await subscribers.set_paused(
                "no-such-id", paused=True, transactions=transactions, now=NOW
            )

    async def test_a_rotated_secret_signs_with_the_old_one_until_the_overlap_ends(
        self, transactions: GraphTransactions
    ) -> None:
        created, old = await create(transactions, webhook_url="https://mailer.example/hook")
        rotated, new = await subscribers.rotate_secret(
            created.id, transactions=transactions, overlap=timedelta(hours=1), now=NOW
        )
        assert rotated.secret_rotated_at == NOW
        held = await transactions.read(lambda s: s.subscribers.secrets(created.id))
        assert held is not None
        assert held.signing(NOW + timedelta(minutes=59)) == [new, old]
        assert held.signing(NOW + timedelta(hours=1)) == [new]

    async def test_a_stream_subscriber_has_no_secret_to_rotate(
        self, transactions: GraphTransactions
    ) -> None:
        created, _ = await create(transactions)
        with pytest.raises(InvalidInput):
            await subscribers.rotate_secret(
                created.id, transactions=transactions, overlap=timedelta(0), now=NOW
            )


class TestRemoving:
    async def test_a_removed_subscriber_is_told_nothing_more_and_stays_on_record(
        self, transactions: GraphTransactions
    ) -> None:
        created, _ = await create(transactions, webhook_url="https://mailer.example/hook")
        removed = await subscribers.remove(created.id, transactions=transactions, now=NOW)
        assert removed.removed_at == NOW
        in_force = await transactions.read(lambda s: s.subscribers.all())
        assert created.id not in {s.id for s in in_force}
        on_record = await transactions.read(lambda s: s.subscribers.all(removed=True))
        assert created.id in {s.id for s in on_record}
        assert await transactions.read(lambda s: s.subscribers.secrets(created.id)) is None
        with pytest.raises(Conflict):
            await subscribers.set_paused(
                created.id, paused=True, transactions=transactions, now=NOW
            )
        again = await subscribers.remove(created.id, transactions=transactions, now=NOW)
        assert again.removed_at == NOW  # removing twice changes nothing
