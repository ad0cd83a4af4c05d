"""Company comparisons and guards, each with the pairs it is for and against."""

from __future__ import annotations

from typing import Any

import pytest

from mdm_matching.domain.engine.companies.comparisons import (
    BRANCH_AND_HEAD,
    BRANCHES_DIFFER,
    LEIS_DIFFER,
    NAME,
    REGISTERS_DIFFER,
    VAT_IDS_DIFFER,
    compare,
    conflicts_of,
    name_level,
    register_level,
)
from mdm_matching.domain.engine.companies.features import CompanyRecord, make_company_record


def company(id: str = "a", **values: Any) -> CompanyRecord:  # noqa: A002 - as the profile names it
    return make_company_record(id, **({"name_key": "mueller maschinenbau"} | values))


@pytest.mark.parametrize(
    ("x", "y", "level"),
    [
        ("mueller maschinenbau", "mueller maschinenbau", 0),
        ("maschinenbau mueller", "mueller maschinenbau", 1),
        ("mueller maschinenbua", "mueller maschinenbau", 2),  # two letters swapped
        ("koch spedition sued", "koch spedition sed", 2),  # one word mistyped
        ("mueller bau nord", "mueller bau sued", NAME.differs),  # two companies, not a typo
        ("mueller maschinenbau", "mueller maschinenbau nord", 3),
        ("mueller maschinenbau", "schmidt logistik", NAME.differs),
        ("", "mueller maschinenbau", None),
    ],
)
def test_name_levels(x: str, y: str, level: int | None) -> None:
    assert name_level(x, y) == level


class TestRegister:
    def test_the_same_entry_and_a_court_left_out(self) -> None:
        a = company(register="HRB 12345", court="München")
        assert register_level(a, company(register="HRB 12345", court="München")) == 0
        assert register_level(a, company(register="HRB 12345")) == 0

    def test_the_same_number_at_another_court_is_another_entry(self) -> None:
        a = company(register="HRB 12345", court="München")
        assert register_level(a, company(register="HRB 12345", court="Köln")) == 2

    def test_a_typo_in_the_number(self) -> None:
        assert register_level(company(register="HRB 12345"), company(register="HRB 12354")) == 1
        assert register_level(company(register="HRB 12345"), company(register="HRA 12345")) == 2

    def test_unknown(self) -> None:
        assert register_level(company(register="HRB 12345"), company()) is None


class TestGuards:
    def conflicts(self, a: CompanyRecord, b: CompanyRecord) -> tuple[str, ...]:
        return conflicts_of(compare(a, b), a, b)

    def test_the_same_company_passes(self) -> None:
        a = company(register="HRB 1", vat="DE1", lei="L1", domains=["m.de"])
        assert self.conflicts(a, company("b", register="HRB 1", vat="DE1", lei="L1")) == ()

    def test_two_legal_entities(self) -> None:
        a = company(register="HRB 10000", vat="DE1", lei="L1")
        b = company("b", register="HRB 99999", vat="DE2", lei="L2")
        assert self.conflicts(a, b) == (REGISTERS_DIFFER, VAT_IDS_DIFFER, LEIS_DIFFER)
        # A typo in a register number is no second entity.
        assert self.conflicts(company(register="HRB 12345"), company(register="HRB 12354")) == ()

    def test_a_branch_and_its_head_office(self) -> None:
        head = company(vat="DE1", register="HRB 1")
        branch = company("b", name_key="mueller maschinenbau niederlassung koeln", vat="DE1")
        assert self.conflicts(head, branch) == (BRANCH_AND_HEAD,)

    def test_branches(self) -> None:
        cologne = company(name_key="mueller maschinenbau niederlassung koeln")
        hamburg = company("b", name_key="mueller maschinenbau niederlassung hamburg")
        typo = company("c", name_key="mueller maschinenbau niederlassung koln")
        assert self.conflicts(cologne, hamburg) == (BRANCHES_DIFFER,)
        assert self.conflicts(cologne, typo) == ()  # the same branch, its place mistyped
