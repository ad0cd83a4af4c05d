"""The single contact check with the purpose cache, against the real graph server: it
must never answer from a purpose older than the stored one."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from mdm_common.errors import NotFound
from mdm_common.graph import GraphClient
from mdm_consent.domain import checks, purposes
from mdm_consent.domain.models import Channel, EventType

from .test_consent_merges import NOW, _consents, _persons


async def test_a_new_material_notice_is_seen_at_once(
    graph_for: Callable[[str], GraphClient],
) -> None:
    c = await _consents(graph_for)
    (person,) = _persons(1)
    await c.record(person, EventType.GRANTED, 0)
    cache = purposes.PurposeCache()

    async def check(minutes: float) -> str:
        at = NOW + timedelta(minutes=minutes)
        (found,) = await c.tx.read(
            lambda s: checks.contact_check(
                [person], s, purpose=c.purpose, channel=Channel.SMS, at=at, cache=cache
            )
        )
        return str(found.verdict.reason)

    assert await check(10) == "CONSENT_GIVEN"
    assert cache.get(c.purpose, 2) is not None  # revision 2: created, one notice
    material = purposes.NoticeDraft(purpose=c.purpose, language="de", text="Neu", material=True)
    await c.tx.write(lambda s: purposes.publish_notice(
        material, s, now=NOW + timedelta(minutes=20), actor="o"))  # fmt: skip
    assert await check(30) == "RENEWAL_REQUIRED"
    assert cache.get(c.purpose, 2) is None
    assert cache.get(c.purpose, 3) is not None


async def test_an_unknown_purpose_is_not_found(graph_for: Callable[[str], GraphClient]) -> None:
    c = await _consents(graph_for)
    (person,) = _persons(1)
    with pytest.raises(NotFound) as refused:
        await c.tx.read(lambda s: checks.contact_check(
            [person], s, purpose="no-such-purpose", channel=Channel.SMS, at=NOW,
            cache=purposes.PurposeCache()))  # fmt: skip
    assert refused.value.details == {"reason": "UNKNOWN_PURPOSE"}
