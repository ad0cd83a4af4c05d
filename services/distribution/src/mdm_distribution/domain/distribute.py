"""One distribution pass: the persons some events touched, told to every subscriber.

The golden records and the contact checks are read inside the pass's write
transaction, after the pass has written each person's distribution state (its lock):
two passes on one person never both decide from what they read before the other
committed. On Neo4j the second waits for the first's lock; on ArcadeDB (optimistic)
the second fails at its commit and runs again, reading afresh. A pass therefore never
overwrites a newer record with an older one, and each subscriber's messages on a person
are committed in the order they were decided (see docs/decisions/0016).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime

from mdm_distribution.domain.models import Cause, Subscriber, Verdict
from mdm_distribution.domain.ports import ContactChecks, GoldenRecords
from mdm_distribution.domain.reconcile import Facts, Plan, persons_of, plan
from mdm_distribution.domain.stores import Stores
from mdm_distribution.domain.transactions import Transactions


async def distribute(
    causes: Sequence[Cause],
    *,
    transactions: Transactions,
    records: GoldenRecords,
    checks: ContactChecks,
    now: datetime,
    and_then: Callable[[Stores], Awaitable[None]] | None = None,
) -> Plan:
    """``and_then``: more work of the same transaction (a backfill's next page)."""
    asked = persons_of(causes)

    async def work(stores: Stores) -> Plan:
        subscribers = await stores.subscribers.all()
        if not subscribers:
            # Nobody to tell: a subscriber registered later gets each person whole. An
            # erased person's digests (of earlier subscribers) go all the same.
            erased: dict[str, dict[str, str] | None] = {
                c.person_id: None for c in causes if c.kind == "ERASED"
            }
            await stores.recipients.save_states(erased)
            if and_then is not None:
                await and_then(stores)
            return Plan(states=erased)
        await stores.recipients.lock(asked, now=now)
        views = await records.persons(asked)
        survivors = sorted({v.id for v in views.values() if v is not None} - set(asked))
        if survivors:
            await stores.recipients.lock(survivors, now=now)
        ids = [*asked, *survivors]
        live = sorted({v.id for v in views.values() if v is not None})
        facts = Facts(
            views=views,
            subscribers=subscribers,
            verdicts=await _verdicts(subscribers, live, checks=checks, now=now),
            states=await stores.recipients.states(ids),
            recipients=await stores.recipients.of_persons(ids),
        )
        result = plan(causes, facts, now=now)
        await stores.recipients.save_states(result.states)
        await stores.recipients.save(result.recipients.values())
        await stores.messages.add(result.messages)
        if and_then is not None:
            await and_then(stores)
        return result

    return await transactions.write(work)


async def _verdicts(
    subscribers: Sequence[Subscriber],
    person_ids: Sequence[str],
    *,
    checks: ContactChecks,
    now: datetime,
) -> dict[tuple[str, str], Verdict]:
    """Each subscriber's contact check, one call per purpose and channel."""
    by_terms: dict[tuple[str, str], list[Subscriber]] = defaultdict(list)
    for subscriber in subscribers:
        by_terms[(subscriber.purpose, subscriber.channel)].append(subscriber)
    verdicts: dict[tuple[str, str], Verdict] = {}
    if not person_ids:
        return verdicts
    for (purpose, channel), group in by_terms.items():
        answers = await checks.check(person_ids, purpose=purpose, channel=channel, at=now)
        for subscriber in group:
            for person_id, verdict in answers.items():
                verdicts[(subscriber.id, person_id)] = verdict
    return verdicts
