"""The evidence that two residents of one address live together, true and false cases."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from mdm_profile.domain.household_evidence import (
    LINK_CONFIDENCE,
    Evidence,
    Resident,
    confidence,
    family_domain,
    is_crowded,
    links_at_address,
    name_parts,
    pair_evidence,
)
from mdm_profile.domain.quality.folding import fold

LANDLINE = ("+4930123456", "FIXED_LINE")
MOBILE = ("+4915112345678", "MOBILE")


def person(pid: str, family: str, **facts: object) -> Resident:
    return Resident(pid, family, **facts)  # type: ignore[arg-type]


def linked(residents: list[Resident]) -> set[frozenset[str]]:
    return {frozenset((link.first, link.second)) for link in links_at_address(residents)}


class TestSigns:
    def test_the_same_family_name_in_any_spelling(self) -> None:
        assert pair_evidence(person("a", "Müller"), person("b", "MUELLER")) == {
            Evidence.SAME_FAMILY_NAME
        }

    def test_a_part_of_a_double_name(self) -> None:
        assert pair_evidence(person("a", "Müller-Schmidt"), person("b", "Schmidt")) == {
            Evidence.DOUBLE_NAME
        }

    def test_a_name_with_spaces_is_no_double_name(self) -> None:
        assert name_parts("von der Heide") == frozenset()
        assert pair_evidence(person("a", "von der Heide"), person("b", "Heide")) == frozenset()

    def test_a_previous_name_in_a_source_record(self) -> None:
        wife = person("a", "Schmidt", record_family_names=("Schmidt", "Weber"))
        assert pair_evidence(wife, person("b", "Weber")) == {Evidence.PREVIOUS_NAME}

    def test_a_previous_double_name_contains_the_partners_name(self) -> None:
        wife = person("a", "Schmidt", record_family_names=("Weber-Schmidt",))
        assert Evidence.PREVIOUS_NAME in pair_evidence(wife, person("b", "Weber"))

    def test_a_typo_in_a_record_is_no_previous_name_of_anybody_else(self) -> None:
        wife = person("a", "Schmidt", record_family_names=("Schmitd",))
        assert pair_evidence(wife, person("b", "Weber")) == frozenset()

    def test_a_shared_landline_and_a_shared_mobile(self) -> None:
        a = person("a", "Roth", phones=(LANDLINE, MOBILE))
        b = person("b", "Berg", phones=(LANDLINE, MOBILE))
        assert pair_evidence(a, b) == {Evidence.SHARED_LANDLINE, Evidence.SHARED_MOBILE}

    def test_a_private_domain_but_no_mass_provider(self) -> None:
        a = person("a", "Roth", emails=("eva@roth-berg.de", "eva.roth@web.de"))
        b = person("b", "Berg", emails=("tom@Roth-Berg.de", "tom.berg@web.de"))
        assert pair_evidence(a, b) == {Evidence.FAMILY_EMAIL_DOMAIN}
        c = person("c", "Kaya", emails=("x@gmail.com",))
        d = person("d", "Nowak", emails=("y@gmail.com",))
        assert pair_evidence(c, d) == frozenset()

    @given(st.sampled_from(["example.org", "shop.test", "a.invalid", "example.com"]))
    def test_placeholder_domains_are_no_family_domain(self, domain: str) -> None:
        assert family_domain(f"someone@{domain}") is None

    @given(st.sampled_from(["web.de", "gmx.de", "gmail.com", "t-online.de", "GMX.NET"]))
    def test_mass_providers_are_no_family_domain(self, domain: str) -> None:
        assert family_domain(f"someone@{domain}") is None

    @given(st.lists(st.text(alphabet="abcdefghäöüß ", min_size=1, max_size=8), min_size=2))
    def test_every_part_of_a_double_name_is_found(self, parts: list[str]) -> None:
        found = name_parts("-".join(parts))
        assert {fold(p) for p in parts if fold(p)} == found

    @given(st.text(max_size=30))
    def test_any_text_gives_a_domain_or_none_without_failing(self, text: str) -> None:
        found = family_domain(text)
        assert found is None or (found == found.lower() and "." in found)


class TestConfidence:
    def test_one_weak_sign_is_not_enough(self) -> None:
        assert confidence([Evidence.SHARED_MOBILE]) < LINK_CONFIDENCE

    def test_one_strong_sign_is_enough(self) -> None:
        strong = [Evidence.SAME_FAMILY_NAME, Evidence.SHARED_LANDLINE, Evidence.PREVIOUS_NAME]
        for sign in [*strong, Evidence.FAMILY_EMAIL_DOMAIN]:
            assert confidence([sign]) >= LINK_CONFIDENCE, sign

    def test_signs_add_up(self) -> None:
        both = confidence([Evidence.SAME_FAMILY_NAME, Evidence.SHARED_LANDLINE])
        assert both > confidence([Evidence.SHARED_LANDLINE]) > confidence([])
        assert confidence([]) == 0.0

    def test_names_count_half_at_a_crowded_address(self) -> None:
        assert confidence([Evidence.SAME_FAMILY_NAME], crowded=True) < LINK_CONFIDENCE
        assert (
            confidence([Evidence.SAME_FAMILY_NAME, Evidence.SHARED_MOBILE], crowded=True)
            >= LINK_CONFIDENCE
        )


class TestAddresses:
    def test_the_address_alone_links_nobody(self) -> None:
        flat_share = [person("a", "Roth"), person("b", "Berg"), person("c", "Kaya")]
        assert linked(flat_share) == set()

    def test_namesakes_in_a_small_house_are_one_household(self) -> None:
        assert linked([person("a", "Roth"), person("b", "Roth")]) == {frozenset("ab")}

    def test_a_couple_with_different_names_shares_a_landline(self) -> None:
        couple = [person("a", "Roth", phones=(LANDLINE,)), person("b", "Berg", phones=(LANDLINE,))]
        assert linked(couple) == {frozenset("ab")}

    def test_a_domain_that_many_names_share_is_an_employers(self) -> None:
        names = ["Roth", "Berg", "Kaya", "Nowak"]
        colleagues = [person(n, n, emails=(f"{n}@firma-ag.de",)) for n in names]
        assert linked(colleagues) == set()
        assert linked(colleagues[:3]) == {
            frozenset(p) for p in [("Roth", "Berg"), ("Roth", "Kaya"), ("Berg", "Kaya")]
        }

    def test_a_couple_with_different_names_and_nothing_else_is_not_found(self) -> None:
        assert linked([person("a", "Roth"), person("b", "Berg")]) == set()

    def test_a_flat_share_with_one_mobile_given_twice_is_no_household(self) -> None:
        flat_share = [person("a", "Roth", phones=(MOBILE,)), person("b", "Berg", phones=(MOBILE,))]
        assert linked(flat_share) == set()

    def test_a_married_name_links_through_the_previous_one(self) -> None:
        residents = [
            person("a", "Schmidt", record_family_names=("Weber",)),
            person("b", "Weber"),
            person("c", "Kaya"),
        ]
        assert linked(residents) == {frozenset("ab")}

    def test_namesakes_in_an_apartment_block_need_more_than_the_name(self) -> None:
        names = ["Müller", "Müller", "Kaya", "Nowak", "Weber", "Schulz", "Braun", "Wolf"]
        block = [person(f"n{i}", name) for i, name in enumerate(names)]
        assert is_crowded(block)
        assert linked(block) == set()
        block.append(person("m", "Müller", phones=(LANDLINE,)))
        block.append(person("w", "Nowak", phones=(LANDLINE,)))
        assert linked(block) == {frozenset({"m", "w"})}

    def test_a_family_in_an_apartment_block_is_found_by_its_landline(self) -> None:
        names = ["Kaya", "Nowak", "Weber", "Schulz", "Braun", "Wolf"]
        block = [person(f"n{i}", name) for i, name in enumerate(names)]
        block += [person("a", "Roth", phones=(LANDLINE,)), person("b", "Roth", phones=(LANDLINE,))]
        assert linked(block) == {frozenset("ab")}

    def test_many_persons_at_one_address_are_not_compared_all_with_all(self) -> None:
        block = [person(f"p{i:04d}", f"Name{i}") for i in range(3000)]
        assert links_at_address(block) == []

    def test_address_alone_links_everyone_when_asked(self) -> None:
        found = links_at_address([person("a", "Roth"), person("b", "Berg")], address_alone=True)
        assert [(link.first, link.second) for link in found] == [("a", "b")]
