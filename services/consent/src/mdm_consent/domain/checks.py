"""The contact check as a use case: one person, or many for a campaign selection."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from mdm_common.errors import InvalidInput
from mdm_consent.domain.consents import PERSON_ID
from mdm_consent.domain.lineage import GroupFacts
from mdm_consent.domain.models import Channel, Purpose
from mdm_consent.domain.purposes import PurposeCache, checked_code, known_purpose, unknown_purpose
from mdm_consent.domain.rules import Verdict, decide
from mdm_consent.domain.stores import Stores

MAX_BATCH = 10_000


@dataclass(frozen=True)
class ContactDecision:
    person_id: str
    purpose: str
    channel: Channel
    at: datetime
    verdict: Verdict
    # The person the answer is for: the id asked about, or the survivor it was merged into.
    answered_for: str


async def contact_check(
    person_ids: Sequence[str],
    stores: Stores,
    *,
    purpose: str,
    channel: Channel,
    at: datetime,
    cache: PurposeCache | None = None,
) -> list[ContactDecision]:
    """One decision per person id, in the order given (read transaction). With a
    ``cache``, a single check reads the graph once (purpose revision with the facts)."""
    if not 1 <= len(person_ids) <= MAX_BATCH:
        raise InvalidInput(f"Check 1-{MAX_BATCH} persons at a time.", field="personIds")
    bad = next((p for p in person_ids if not PERSON_ID.match(p)), None)
    if bad is not None:
        raise InvalidInput("personIds holds something that is not a person id.",
                           field="personIds")  # fmt: skip
    if at.tzinfo is None:
        raise InvalidInput("at needs a time zone.", field="at")
    if cache is not None and len(person_ids) == 1:
        found, facts = await _one(person_ids[0], stores, checked_code(purpose), cache)
    else:
        found = await known_purpose(stores, purpose)
        facts = await stores.consents.facts_of(person_ids, found.code)
    decisions = []
    for pid in person_ids:
        group = facts[pid]
        decided = verdict(found, channel, group, at)
        decisions.append(
            ContactDecision(pid, found.code, channel, at, decided, group.lineage.survivor_id)
        )
    return decisions


async def consent_state(person_id: str, stores: Stores, *, at: datetime) -> list[ContactDecision]:
    """The contact check at ``at`` for every registered purpose and each of its channels,
    by purpose code and channel (a person's consent state then; read transaction)."""
    if not PERSON_ID.match(person_id):
        raise InvalidInput("id is not a person id.", field="id")
    if at.tzinfo is None:
        raise InvalidInput("asOf needs a time zone.", field="asOf")
    decisions = []
    for purpose in sorted(await stores.purposes.all(), key=lambda p: p.code):
        group = (await stores.consents.facts_of([person_id], purpose.code))[person_id]
        for channel in sorted(purpose.channels, key=lambda c: c.value):
            decided = verdict(purpose, channel, group, at)
            decisions.append(
                ContactDecision(
                    person_id, purpose.code, channel, at, decided, group.lineage.survivor_id
                )
            )
    return decisions


def verdict(purpose: Purpose, channel: Channel, group: GroupFacts, at: datetime) -> Verdict:
    """The contact check's verdict for a person's (merge group's) facts."""
    return decide(purpose, channel, group.facts, at, lineage=group.lineage, holds=group.holds)


async def _one(
    person_id: str, stores: Stores, code: str, cache: PurposeCache
) -> tuple[Purpose, dict[str, GroupFacts]]:
    read = await stores.consents.facts_of_one(person_id, code)
    if read is None:
        raise unknown_purpose(code)
    group, revision = read
    found = cache.get(code, revision) or cache.put(await known_purpose(stores, code))
    return found, {person_id: group}
