"""The merge preview: the contact check before and after a merge that is not made."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields, replace
from typing import Any

import pytest

from mdm_common.errors import InvalidInput
from mdm_consent.domain.checks import verdict
from mdm_consent.domain.lineage import GroupFacts, Lineage, joined
from mdm_consent.domain.merges import PREVIEW_MERGE_ID, preview_contacts
from mdm_consent.domain.models import Channel, EventType, MergeLink, Purpose
from mdm_consent.domain.rules import Reason
from mdm_consent.domain.stores import Stores

from .facts import CUSTOMER_MAIL, NEWSLETTER, at, fact

A = "0b1c4a9e-0000-4000-8000-00000000000a"
B = "0b1c4a9e-0000-4000-8000-00000000000b"
C = "0b1c4a9e-0000-4000-8000-00000000000c"
NOW = at(500)


class Purposes:
    def __init__(self, *purposes: Purpose) -> None:
        self.found = list(purposes)

    async def all(self) -> list[Purpose]:
        return self.found


class Consents:
    """Each person's group as the contact check reads it; every read recorded."""

    def __init__(self, groups: dict[str, GroupFacts]) -> None:
        self.groups = groups
        self.reads: list[tuple[tuple[str, ...], str]] = []

    async def facts_of(self, person_ids: Sequence[str], purpose: str) -> dict[str, GroupFacts]:
        self.reads.append((tuple(person_ids), purpose))
        return {
            pid: replace(
                self.groups.get(pid, GroupFacts(Lineage(pid))),
                facts=tuple(
                    f
                    for f in self.groups.get(pid, GroupFacts(Lineage(pid))).facts
                    if f.purpose in (purpose, None)
                ),
            )
            for pid in person_ids
        }


def stores(consents: Consents, *purposes: Purpose) -> Stores:
    # Only purposes and consents are read; any other store touched would fail the test.
    nothing: Any = None
    return Stores(
        **{f.name: nothing for f in fields(Stores)}
        | {"purposes": Purposes(*purposes), "consents": consents}
    )


def person(pid: str, *facts: Any) -> GroupFacts:
    return GroupFacts(Lineage(pid), tuple(replace(f, person_id=pid) for f in facts))


async def preview(consents: Consents, survivor: str = A, merged: str = B) -> list[Any]:
    return await preview_contacts(
        survivor, merged, stores(consents, CUSTOMER_MAIL, NEWSLETTER), at=NOW, now=NOW
    )


class TestChanges:
    async def test_every_purpose_and_channel_before_and_after(self) -> None:
        consents = Consents({B: person(B, fact(EventType.GRANTED, 10))})
        found = await preview(consents)
        assert [(c.purpose.code, c.channel) for c in found] == [
            *(("customer-mail", ch) for ch in CUSTOMER_MAIL.channels),
            *(("newsletter", ch) for ch in NEWSLETTER.channels),
        ]
        email = next(c for c in found if (c.purpose, c.channel) == (NEWSLETTER, Channel.EMAIL))
        assert (email.before.allowed, email.before.reason) == (False, Reason.NO_CONSENT)
        assert (email.merged_before.allowed, email.after.allowed) == (True, True)
        assert email.after.reason is Reason.CONSENT_GIVEN
        assert consents.reads == [((A, B), "customer-mail"), ((A, B), "newsletter")]

    async def test_after_is_the_contact_check_of_the_group_the_merge_makes(self) -> None:
        survivor = person(A, fact(EventType.GRANTED, 10))
        merged = person(B, fact(EventType.GRANTED, 0), fact(EventType.WITHDRAWN, 5))
        found = await preview(Consents({A: survivor, B: merged}))
        email = next(c for c in found if (c.purpose, c.channel) == (NEWSLETTER, Channel.EMAIL))
        group = joined(survivor, merged, MergeLink(PREVIEW_MERGE_ID, A, B, NOW))
        assert email.after == verdict(NEWSLETTER, Channel.EMAIL, group, NOW)
        assert (email.before.allowed, email.after.reason) == (True, Reason.WITHDRAWN)


class TestRefusals:
    @pytest.mark.parametrize(
        ("survivor", "merged", "field"),
        [(A, A, "mergedId"), ("not-an-id", B, "survivorId"), (A, "x", "mergedId")],
    )
    async def test_bad_ids(self, survivor: str, merged: str, field: str) -> None:
        with pytest.raises(InvalidInput) as raised:
            await preview(Consents({}), survivor, merged)
        assert raised.value.field == field

    async def test_a_person_merged_away_names_its_survivor(self) -> None:
        group = Lineage(C, (MergeLink("m1", C, B, at(1)),))
        consents = Consents({B: GroupFacts(group)})
        with pytest.raises(InvalidInput, match=f"merged into {C}") as raised:
            await preview(consents)
        assert (raised.value.field, raised.value.details) == ("mergedId", {"mergedInto": C})

    async def test_a_time_without_zone(self) -> None:
        with pytest.raises(InvalidInput):
            await preview_contacts(
                A, B, stores(Consents({}), NEWSLETTER), at=NOW.replace(tzinfo=None), now=NOW
            )
