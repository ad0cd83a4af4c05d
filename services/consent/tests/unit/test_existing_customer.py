"""UWG §7(3): the existing-customer e-mail exception, condition by condition (pure).

Nr. 1 a sale, Nr. 2 the controller's own similar goods, Nr. 3 no objection, Nr. 4 the
customer told at the sale and in every message that they may object at any time.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from mdm_common.errors import InvalidInput
from mdm_consent.domain.models import ActorType, Channel, EventType, Fact, Method, Purpose
from mdm_consent.domain.purposes import PurposeDraft
from mdm_consent.domain.rules import Obligation, Reason, Verdict, decide

from .facts import CUSTOMER_MAIL, T0, at, fact, notice
from .test_consents import GRANT, NOW

OPT_OUT = (Obligation.OPT_OUT_NOTICE_IN_EVERY_MESSAGE,)


def sale(minutes: float = 0, **values: object) -> Fact:
    return fact(
        EventType.SALE_RECORDED,
        minutes,
        purpose=CUSTOMER_MAIL.code,
        channel=None,
        method=Method.ORDER,
        **values,
    )


def check(
    facts: list[Fact], *, purpose: Purpose = CUSTOMER_MAIL, channel: Channel = Channel.EMAIL
) -> Verdict:
    return decide(purpose, channel, facts, at(60))


class TestNr1ASale:
    def test_a_recorded_sale_allows_email(self) -> None:
        bought = sale()
        verdict = check([bought])
        assert (verdict.allowed, verdict.reason, verdict.deciding, verdict.obligations) == (
            True,
            Reason.EXISTING_CUSTOMER,
            bought,
            OPT_OUT,
        )

    def test_no_sale_no_exception(self) -> None:
        verdict = check([])
        assert (verdict.allowed, verdict.reason, verdict.obligations) == (
            False,
            Reason.NO_CONSENT_OR_SALE,
            (),
        )

    def test_a_sale_for_another_purpose_does_not_count(self) -> None:
        assert check([replace(sale(), purpose="other-mail")]).reason == Reason.NO_CONSENT_OR_SALE

    def test_a_sale_recorded_after_the_check_time_does_not_count(self) -> None:
        assert check([sale(61)]).reason == Reason.NO_CONSENT_OR_SALE


class TestNr2OwnSimilarProducts:
    @pytest.mark.parametrize("category", ["shoes", "bags"])
    def test_a_sale_of_a_category_the_purpose_advertises(self, category: str) -> None:
        assert check([sale(product_category=category)]).reason == Reason.EXISTING_CUSTOMER

    def test_a_sale_of_other_goods_is_not_similar(self) -> None:
        furniture = sale(product_category="furniture")
        verdict = check([furniture])
        assert (verdict.allowed, verdict.reason, verdict.deciding) == (
            False,
            Reason.NOT_SIMILAR_PRODUCTS,
            furniture,
        )

    def test_a_purpose_advertising_no_category_has_no_exception(self) -> None:
        bare = replace(CUSTOMER_MAIL, product_categories=())
        assert check([sale()], purpose=bare).reason == Reason.NOT_SIMILAR_PRODUCTS

    def test_a_sale_recorded_without_its_category_proves_no_similarity(self) -> None:
        legacy = replace(sale(), product_category=None)
        verdict = check([legacy])
        assert (verdict.allowed, verdict.reason, verdict.deciding) == (
            False,
            Reason.SALE_WITHOUT_PRODUCT_CATEGORY,
            legacy,
        )
        # The officer imports the sale again with its category and the order.
        again = replace(sale(1), imported=True, method=Method.IMPORT)
        assert check([legacy, again]).reason == Reason.EXISTING_CUSTOMER

    def test_any_qualifying_sale_counts_not_only_the_latest(self) -> None:
        shoes, sofa = sale(0), sale(5, product_category="furniture")
        verdict = check([shoes, sofa])
        assert (verdict.reason, verdict.deciding) == (Reason.EXISTING_CUSTOMER, shoes)


class TestNr3NoObjection:
    def test_an_objection_to_direct_marketing_blocks_it(self) -> None:
        objection = fact(EventType.OBJECTED, 10, purpose=None, channel=None)
        verdict = check([sale(), objection, sale(20)])
        assert (verdict.allowed, verdict.reason, verdict.deciding) == (
            False,
            Reason.OBJECTED,
            objection,
        )

    def test_an_objection_to_the_purpose_blocks_it(self) -> None:
        objection = fact(EventType.OBJECTED, 10, purpose=CUSTOMER_MAIL.code, channel=None)
        assert check([sale(), objection]).reason == Reason.OBJECTED

    def test_a_withdrawal_for_the_purpose_blocks_it(self) -> None:
        withdrawal = fact(EventType.WITHDRAWN, 10, purpose=CUSTOMER_MAIL.code, channel=None)
        assert check([sale(), withdrawal]).reason == Reason.WITHDRAWN

    def test_an_objection_to_another_purpose_leaves_it(self) -> None:
        other = fact(EventType.OBJECTED, 10, purpose="invoices", channel=None)
        assert check([sale(), other]).reason == Reason.EXISTING_CUSTOMER

    def test_a_later_own_consent_lifts_an_objection_for_consent_only(self) -> None:
        objection = fact(EventType.OBJECTED, 10, purpose=None, channel=None)
        own = fact(EventType.GRANTED, 20, purpose=CUSTOMER_MAIL.code, channel=Channel.EMAIL)
        verdict = check([sale(), objection, own])
        assert (verdict.reason, verdict.obligations) == (Reason.CONSENT_GIVEN, ())
        staff = replace(own, actor=ActorType.STAFF)
        assert check([sale(), objection, staff]).reason == Reason.OBJECTED


class TestNr4ToldTheyMayObject:
    def test_at_the_sale_by_a_notice_published_before_it(self) -> None:
        later = replace(CUSTOMER_MAIL, notices=(notice(1, at=at(5)),))
        told = sale(6)
        assert check([told], purpose=later).reason == Reason.EXISTING_CUSTOMER
        untold = sale(0)
        verdict = check([untold], purpose=later)
        assert (verdict.allowed, verdict.reason, verdict.deciding) == (
            False,
            Reason.NO_OPT_OUT_NOTICE,
            untold,
        )

    @pytest.mark.parametrize("version", [None, 7])
    def test_not_without_a_notice_version_of_the_purpose(self, version: int | None) -> None:
        assert check([sale(notice_version=version)]).reason == Reason.NO_OPT_OUT_NOTICE

    def test_in_every_message_the_sender_must_say_it(self) -> None:
        assert check([sale()]).obligations == OPT_OUT

    def test_no_such_obligation_on_consent_or_another_channel(self) -> None:
        grant = fact(EventType.GRANTED, purpose=CUSTOMER_MAIL.code, channel=Channel.EMAIL)
        assert check([sale(), grant]).obligations == ()
        post = check([sale()], channel=Channel.POST)
        assert (post.reason, post.obligations) == (Reason.LEGAL_BASIS, ())

    def test_never_by_phone(self) -> None:
        assert check([sale()], channel=Channel.PHONE).reason == Reason.NO_CONSENT


DRAFT = PurposeDraft(
    code="customer-mail",
    name="Customer mail",
    description="d",
    legal_basis=CUSTOMER_MAIL.legal_basis,
    channels=(Channel.EMAIL,),
    data_categories=("email",),
    retention_days=730,
    direct_marketing=True,
)
SALE = replace(
    GRANT,
    type=EventType.SALE_RECORDED,
    channel=None,
    language=None,
    method=Method.ORDER,
    evidence_ref="order-100234",
    product_category="shoes",
)


class TestTheProof:
    def test_a_purpose_declares_its_product_categories(self) -> None:
        found = replace(DRAFT, product_categories=("shoes", "bags", "shoes"))
        assert found.to_purpose(now=T0, created_by="o").product_categories == ("shoes", "bags")
        assert DRAFT.to_purpose(now=T0, created_by="o").product_categories == ()

    @pytest.mark.parametrize("bad", ["Shoes", "", "schuhe und taschen"])
    def test_product_categories_are_codes(self, bad: str) -> None:
        with pytest.raises(InvalidInput) as raised:
            replace(DRAFT, product_categories=(bad,)).to_purpose(now=T0, created_by="o")
        assert raised.value.field == "productCategories"

    def test_a_sale_names_the_order_and_the_category(self) -> None:
        event = SALE.to_event(now=NOW, recorded_by="officer")
        assert (event.evidence_ref, event.product_category) == ("order-100234", "shoes")
        assert event.fact.product_category == "shoes"
        with pytest.raises(InvalidInput) as raised:
            replace(SALE, product_category=None, evidence_ref=None).to_event(
                now=NOW, recorded_by="officer"
            )
        assert raised.value.details == {
            "reason": "PROOF_MISSING",
            "missing": ["evidenceRef", "productCategory"],
        }

    @pytest.mark.parametrize(
        ("change", "field"),
        [
            ({"product_category": "Schuhe!"}, "productCategory"),
            (
                {"type": EventType.GRANTED, "channel": Channel.EMAIL, "language": "de"},
                "productCategory",
            ),
        ],
    )
    def test_a_category_is_a_code_and_belongs_to_sales_only(
        self, change: dict[str, object], field: str
    ) -> None:
        with pytest.raises(InvalidInput) as raised:
            replace(SALE, **change).to_event(now=NOW, recorded_by="a")  # type: ignore[arg-type]
        assert raised.value.field == field
