"""What the distribution service holds on a person, for access requests (Art. 15).

Per subscriber that was ever sent the person's data: who, for which purpose, when first
and last, when told to stop and why, when told of an erasure (ids and times, kept as the
record of Art. 19 after an erasure too); and whether digests of the person's values as
last distributed are kept (digests, never the values).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from mdm_common.contracts import DataCategory, PersonalDataItem
from mdm_common.errors import InvalidInput
from mdm_distribution.domain.stores import Stores

MAX_IDS = 100  # a merge group's ids; more is no data-subject request
RECIPIENT = "recipient"
STATE = "distributionState"


@dataclass(frozen=True)
class DistributionData:
    person_ids: tuple[str, ...]
    items: tuple[PersonalDataItem, ...]


def checked_ids(person_ids: Sequence[str]) -> list[str]:
    ids = list(dict.fromkeys(i.strip() for i in person_ids if i.strip()))
    if not ids or len(ids) > MAX_IDS:
        raise InvalidInput(f"Name 1 to {MAX_IDS} person ids.", field="personIds")
    return ids


async def personal_data(person_ids: Sequence[str], stores: Stores) -> DistributionData:
    ids = checked_ids(person_ids)
    subscribers = {s.id: s for s in await stores.subscribers.all(removed=True)}
    recipients = await stores.recipients.of_persons(ids)
    states = await stores.recipients.states(ids)
    items: list[PersonalDataItem] = []
    for (subscriber_id, person_id), r in sorted(recipients.items()):
        if not r.ever_sent:
            continue
        subscriber = subscribers.get(subscriber_id)
        value = {
            "subscriberId": subscriber_id,
            "subscriber": subscriber.name if subscriber else None,
            "purpose": subscriber.purpose if subscriber else None,
            "categories": list(subscriber.categories) if subscriber else [],
            "receiving": r.receiving,
            "firstSentAt": r.first_sent_at.isoformat() if r.first_sent_at else None,
            "lastSentAt": r.last_sent_at.isoformat() if r.last_sent_at else None,
            "stoppedAt": r.stopped_at.isoformat() if r.stopped_at else None,
            "stopReason": r.stop_reason,
            "erasureNotifiedAt": (
                r.erasure_notified_at.isoformat() if r.erasure_notified_at else None
            ),
        }
        items.append(
            PersonalDataItem(
                person_id=person_id,
                origin=RECIPIENT,
                category=DataCategory.DISTRIBUTION,
                field=subscriber.name if subscriber else subscriber_id,
                value=json.dumps(value, sort_keys=True),
                recorded_at=r.first_sent_at,
            )
        )
    for person_id, digests in sorted(states.items()):
        items.append(
            PersonalDataItem(
                person_id=person_id,
                origin=STATE,
                category=DataCategory.DISTRIBUTION,
                field="digests",
                value=f"digests of {len(digests)} attributes as last distributed (no values)",
            )
        )
    return DistributionData(tuple(ids), tuple(items))
