"""The contact check over merged persons: the restrictive side wins until a new consent."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from mdm_consent.domain.lineage import Lineage, lineages
from mdm_consent.domain.models import (
    ActorType,
    Channel,
    EventType,
    Fact,
    MergeLink,
    MergeState,
    Method,
    Purpose,
)
from mdm_consent.domain.rules import Reason, decide

from .facts import CUSTOMER_MAIL, NEWSLETTER, at, fact

_facts = st.lists(
    st.builds(
        lambda t, m, c, a, meth: fact(
            t, m, channel=c, actor=a, method=meth, birth_date=date(1990, 1, 1)
        ),
        st.sampled_from(list(EventType)),
        st.integers(0, 100),
        st.sampled_from([Channel.EMAIL, Channel.PHONE, Channel.SMS, None]),
        st.sampled_from(list(ActorType)),
        st.sampled_from(list(Method)),
    ),
    max_size=10,
)
_purposes = st.sampled_from([NEWSLETTER, CUSTOMER_MAIL])

SURVIVOR, MERGED, THIRD, FOURTH = "a", "b", "c", "d"
MERGE_AT = 200  # minutes after T0; the generated histories end at 100


def link(survivor: str, merged: str, minutes: float, merge_id: str = "") -> MergeLink:
    return MergeLink(merge_id or f"m-{survivor}-{merged}", survivor, merged, at(minutes))


def of(person: str, *facts: Fact) -> list[Fact]:
    return [replace(f, person_id=person) for f in facts]


MERGED_AB = Lineage(SURVIVOR, (link(SURVIVOR, MERGED, MERGE_AT),))


def check(
    facts: list[Fact],
    minutes: float,
    *,
    lineage: Lineage = MERGED_AB,
    purpose: Purpose = NEWSLETTER,
    channel: Channel = Channel.EMAIL,
) -> tuple[bool, Reason]:
    verdict = decide(purpose, channel, facts, at(minutes), lineage=lineage)
    return verdict.allowed, verdict.reason


class TestConflictsAtTheMerge:
    def test_a_withdrawal_on_the_merged_side_blocks_the_survivors_later_grant(self) -> None:
        facts = [
            *of(MERGED, fact(EventType.CONFIRMED, 0), fact(EventType.WITHDRAWN, 10)),
            *of(SURVIVOR, fact(EventType.CONFIRMED, 50)),
        ]
        assert check(facts, MERGE_AT + 1) == (False, Reason.WITHDRAWN)
        # Each on its own, as before the merge or after an unmerge:
        assert check(of(SURVIVOR, *facts[2:]), 60, lineage=Lineage(SURVIVOR))[0]

    def test_a_withdrawal_on_the_survivor_blocks_the_merged_sides_grant(self) -> None:
        facts = [
            *of(SURVIVOR, fact(EventType.WITHDRAWN, 10)),
            *of(MERGED, fact(EventType.CONFIRMED, 50)),
        ]
        assert check(facts, MERGE_AT + 1) == (False, Reason.WITHDRAWN)

    def test_a_new_consent_after_the_merge_settles_it(self) -> None:
        staff = fact(EventType.CONFIRMED, MERGE_AT + 5, actor=ActorType.STAFF)
        facts = [
            *of(MERGED, fact(EventType.WITHDRAWN, 10)),
            *of(SURVIVOR, fact(EventType.CONFIRMED, 50), staff),
        ]
        assert check(facts, MERGE_AT + 4) == (False, Reason.WITHDRAWN)
        assert check(facts, MERGE_AT + 6) == (True, Reason.CONSENT_GIVEN)

    def test_an_objection_survives_the_other_sides_later_own_consent_and_an_import(self) -> None:
        facts = [
            *of(MERGED, fact(EventType.OBJECTED, 10, purpose=None, channel=None)),
            *of(
                SURVIVOR,
                fact(EventType.CONFIRMED, 50, method=Method.PREFERENCE_CENTRE),
                fact(EventType.CONFIRMED, MERGE_AT + 5, method=Method.IMPORT),
            ),
        ]
        assert check(facts, MERGE_AT + 10) == (False, Reason.OBJECTED)
        assert check(facts, MERGE_AT + 10, purpose=CUSTOMER_MAIL) == (False, Reason.OBJECTED)
        own = of(SURVIVOR, fact(EventType.CONFIRMED, MERGE_AT + 20, method=Method.WEB_FORM))
        assert check([*facts, *own], MERGE_AT + 21) == (True, Reason.CONSENT_GIVEN)

    def test_an_objection_lifted_on_its_own_side_before_the_merge_stays_lifted(self) -> None:
        facts = of(
            MERGED,
            fact(EventType.OBJECTED, 10, purpose=None, channel=None),
            fact(EventType.CONFIRMED, 20),
        )
        assert check(facts, MERGE_AT + 1) == (True, Reason.CONSENT_GIVEN)

    def test_a_grant_beside_an_expiry_or_nothing_stands(self) -> None:
        facts = [
            *of(MERGED, fact(EventType.CONFIRMED, 0), fact(EventType.EXPIRED, 5)),
            *of(SURVIVOR, fact(EventType.CONFIRMED, 1)),
        ]
        assert check(facts, MERGE_AT + 1) == (True, Reason.CONSENT_GIVEN)

    def test_a_minor_on_either_side_needs_authorisation(self) -> None:
        young = replace(
            fact(EventType.AGE_EVIDENCE, 0, purpose=None, channel=None),
            birth_date=at(0).date() - timedelta(days=365 * 10),
        )
        adult = replace(young, id="adult", birth_date=at(0).date() - timedelta(days=365 * 40))
        facts = [*of(MERGED, young), *of(SURVIVOR, fact(EventType.CONFIRMED, 1), adult)]
        assert check(facts, MERGE_AT + 1) == (False, Reason.PARENTAL_AUTHORISATION_REQUIRED)

    def test_a_withdrawal_of_the_merged_side_ends_the_existing_customer_exception(self) -> None:
        facts = [
            *of(SURVIVOR, fact(EventType.SALE_RECORDED, 50, purpose="customer-mail")),
            *of(MERGED, fact(EventType.WITHDRAWN, 10, purpose="customer-mail", channel=None)),
        ]
        assert check(facts, MERGE_AT + 1, purpose=CUSTOMER_MAIL) == (False, Reason.WITHDRAWN)


class TestChainsAndGroups:
    def test_a_chain_joins_at_the_latest_merge_on_the_path(self) -> None:
        lineage = lineages([link(SURVIVOR, MERGED, 100), link(FOURTH, SURVIVOR, 300)], [MERGED])[
            MERGED
        ]
        assert lineage.survivor_id == FOURTH
        assert lineage.joined_at(MERGED, SURVIVOR) == at(100)
        assert lineage.joined_at(MERGED, FOURTH) == at(300)
        facts = [
            *of(MERGED, fact(EventType.WITHDRAWN, 10)),
            *of(FOURTH, fact(EventType.CONFIRMED, 200)),
        ]
        assert check(facts, 301, lineage=lineage) == (False, Reason.WITHDRAWN)
        # a's consent after a and b merged settles b's withdrawal: d merged a settled side.
        facts += of(SURVIVOR, fact(EventType.CONFIRMED, 150))
        assert check(facts, 301, lineage=lineage) == (True, Reason.CONSENT_GIVEN)

    def test_two_merges_into_one_survivor(self) -> None:
        found = lineages([link(SURVIVOR, MERGED, 100), link(SURVIVOR, THIRD, 300)], [SURVIVOR])
        assert found[THIRD] == found[MERGED] == found[SURVIVOR]
        assert found[SURVIVOR].members == (SURVIVOR, MERGED, THIRD)
        assert found[SURVIVOR].joined_at(MERGED, THIRD) == at(300)

    def test_undone_links_and_out_of_order_links_are_left_out(self) -> None:
        undone = replace(link(SURVIVOR, MERGED, 100), state=MergeState.UNDONE)
        assert lineages([undone], [SURVIVOR, MERGED])[MERGED] == Lineage(MERGED)
        # b merged into a, then (heard of before the undo) a into b: no cycle.
        cycle = [link(SURVIVOR, MERGED, 100), link(MERGED, SURVIVOR, 200)]
        assert lineages(cycle, [SURVIVOR])[SURVIVOR] == Lineage(SURVIVOR, (cycle[0],))


# --- properties ---------------------------------------------------------------------

_restrictive = st.sampled_from(
    [
        fact(EventType.WITHDRAWN, 100.5, channel=None),
        fact(EventType.WITHDRAWN, 100.5),
        fact(EventType.OBJECTED, 100.5, purpose=None, channel=None),
        fact(EventType.OBJECTED, 100.5, channel=None),
    ]
)
_after_merge = st.lists(
    st.builds(
        lambda t, m: fact(t, MERGE_AT + m),
        st.sampled_from(
            [t for t in EventType if t not in (EventType.GRANTED, EventType.CONFIRMED)]
        ),
        st.integers(1, 50),
    ),
    max_size=4,
)


@given(_facts, _facts, _restrictive, _after_merge, st.booleans(), _purposes)
def test_a_withdrawal_or_objection_on_either_side_blocks_until_a_new_consent(  # noqa: PLR0917 - hypothesis passes the strategies positionally
    blocked_facts: list[Fact],
    other_facts: list[Fact],
    last: Fact,
    after: list[Fact],
    survivor_blocked: bool,
    purpose: Purpose,
) -> None:
    """If either side's latest event for the purpose is a withdrawal or objection and
    no consent was given after the merge, the check never allows."""
    restrictive = replace(last, purpose=purpose.code if last.purpose else None)
    blocked, other = (SURVIVOR, MERGED) if survivor_blocked else (MERGED, SURVIVOR)
    facts = [
        *of(blocked, *blocked_facts, restrictive),
        *of(other, *other_facts),
        *of(SURVIVOR, *after),
    ]
    # A withdrawal for one channel blocks that channel; one without a channel, all.
    for channel in (
        (restrictive.channel,) if restrictive.channel else (Channel.EMAIL, Channel.PHONE)
    ):
        assert not check(facts, MERGE_AT + 60, purpose=purpose, channel=channel)[0]


@given(_facts, _facts, _purposes, st.integers(0, 300))
def test_which_side_survives_does_not_change_the_answer(
    left: list[Fact], right: list[Fact], purpose: Purpose, minutes: int
) -> None:
    facts = [*of(SURVIVOR, *left), *of(MERGED, *right)]
    swapped = Lineage(MERGED, (link(MERGED, SURVIVOR, MERGE_AT),))
    for channel in (Channel.EMAIL, Channel.PHONE):
        as_merged = check(facts, minutes, purpose=purpose, channel=channel)
        assert as_merged == check(facts, minutes, purpose=purpose, channel=channel, lineage=swapped)


@given(_facts, _purposes, st.integers(0, 300))
def test_merging_a_person_without_events_changes_nothing(
    facts: list[Fact], purpose: Purpose, minutes: int
) -> None:
    own = of(SURVIVOR, *facts)
    for channel in (Channel.EMAIL, Channel.PHONE):
        alone = decide(purpose, channel, own, at(minutes))
        assert decide(purpose, channel, own, at(minutes), lineage=MERGED_AB) == alone


@given(_facts, _facts, _purposes)
def test_merged_allows_only_what_one_side_allowed_at_the_merge(
    left: list[Fact], right: list[Fact], purpose: Purpose
) -> None:
    """Without events after the merge, the group is never more permissive than both
    sides were on their own: allowed only if some side alone was allowed."""
    facts = [*of(SURVIVOR, *left), *of(MERGED, *right)]
    when: datetime = at(MERGE_AT + 1)
    for channel in (Channel.EMAIL, Channel.PHONE):
        if decide(purpose, channel, facts, when, lineage=MERGED_AB).allowed:
            assert any(
                decide(purpose, channel, side, when).allowed
                for side in (of(SURVIVOR, *left), of(MERGED, *right))
            )
