"""Purpose binding and retention: which attribute categories lapse for a person."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from mdm_common.contracts import DataCategory
from mdm_consent.domain.lineage import GroupFacts, Lineage
from mdm_consent.domain.models import Channel, EventType, Fact, Hold, HoldKind, LegalBasis
from mdm_consent.domain.retention import Standing, lapsed_categories, standing

from .facts import CUSTOMER_MAIL, NEWSLETTER, at, fact

MAIL = replace(NEWSLETTER, data_categories=(DataCategory.EMAIL, DataCategory.IDENTITY))
INVOICES = replace(
    NEWSLETTER, code="invoices", legal_basis=LegalBasis.CONTRACT, direct_marketing=False,
    channels=(Channel.EMAIL, Channel.POST),
    data_categories=(DataCategory.EMAIL, DataCategory.POSTAL_ADDRESS),
)  # fmt: skip
OFFERS = replace(CUSTOMER_MAIL, data_categories=(DataCategory.PHONE,), retention_days=730)


def group(*facts: Fact, holds: tuple[Hold, ...] = ()) -> GroupFacts:
    return GroupFacts(Lineage("p1"), tuple(facts), holds)


def by_purpose(*facts: Fact, holds: tuple[Hold, ...] = ()) -> dict[str, GroupFacts]:
    # The store hands each purpose its own facts and the shared ones; the rules
    # filter by purpose anyway, so one list serves all here.
    g = group(*facts, holds=holds)
    return {p.code: g for p in (MAIL, INVOICES, OFFERS)}


GRANT = fact(EventType.CONFIRMED)  # a confirmed e-mail opt-in
WITHDRAWAL = fact(EventType.WITHDRAWN, 10, channel=None)


class TestStanding:
    def test_consent_given_keeps_the_purpose_in_use(self) -> None:
        assert standing(MAIL, group(GRANT), at(5)).standing is Standing.IN_USE

    def test_withdrawn_consent_lapses_at_once(self) -> None:
        found = standing(MAIL, group(GRANT, WITHDRAWAL), at(11))
        assert (found.standing, found.since) == (Standing.WITHDRAWN, at(10))

    def test_consent_past_its_validity_expires(self) -> None:
        short = replace(MAIL, consent_validity_days=30)
        found = standing(short, group(GRANT), at(0) + timedelta(days=31))
        assert found.standing is Standing.EXPIRED

    def test_a_pending_opt_in_on_another_channel_keeps_it_waiting(self) -> None:
        pending = fact(EventType.PENDING_DOUBLE_OPT_IN, 12, channel=Channel.SMS)
        email_only = fact(EventType.WITHDRAWN, 10, channel=Channel.EMAIL)
        assert standing(MAIL, group(GRANT, email_only), at(11)).standing is Standing.WITHDRAWN
        assert standing(MAIL, group(GRANT, email_only, pending), at(13)).standing is (
            Standing.IN_USE)  # fmt: skip

    def test_a_consent_purpose_never_consented_to_does_not_apply(self) -> None:
        assert standing(MAIL, group(), at(5)).standing is Standing.NOT_APPLICABLE

    def test_another_basis_lapses_when_its_retention_is_over(self) -> None:
        sale = fact(EventType.SALE_RECORDED, purpose=OFFERS.code, channel=None)
        assert standing(OFFERS, group(sale), at(0) + timedelta(days=729)).standing is (
            Standing.IN_USE)  # fmt: skip
        found = standing(OFFERS, group(sale), at(0) + timedelta(days=731))
        assert (found.standing, found.since) == (Standing.RETENTION_OVER,
                                                 at(0) + timedelta(days=730))  # fmt: skip

    def test_an_objection_lapses_direct_marketing_on_any_basis(self) -> None:
        objection = fact(EventType.OBJECTED, 3, purpose=None, channel=None)
        assert standing(OFFERS, group(objection), at(4)).standing is Standing.OBJECTED


class TestLapsedCategories:
    def test_a_category_goes_when_its_only_purpose_lapsed(self) -> None:
        lapses = lapsed_categories([MAIL], by_purpose(GRANT, WITHDRAWAL), at(11))
        assert [lapse.category for lapse in lapses] == [DataCategory.IDENTITY, DataCategory.EMAIL]
        assert lapses[0].standings[0].purpose == MAIL.code

    def test_a_contract_purpose_keeps_the_category(self) -> None:
        lapses = lapsed_categories([MAIL, INVOICES], by_purpose(GRANT, WITHDRAWAL), at(11))
        # e-mail is bound to invoices too (contract: in use); the name only to the newsletter
        assert [lapse.category for lapse in lapses] == [DataCategory.IDENTITY]

    def test_nothing_goes_without_a_purpose_that_applied(self) -> None:
        assert lapsed_categories([MAIL], by_purpose(), at(11)) == []

    def test_nothing_goes_while_processing_is_restricted(self) -> None:
        hold = Hold(HoldKind.RESTRICTED, at(1), "r1")
        assert lapsed_categories([MAIL], by_purpose(GRANT, WITHDRAWAL, holds=(hold,)),
                                 at(11)) == []  # fmt: skip
