"""What a company search asks for, read as cleaning reads it."""

from __future__ import annotations

import pytest

from mdm_common.errors import InvalidInput
from mdm_profile.domain.company_search import CompanyCriteria, criteria_from


def _criteria(**given: str) -> CompanyCriteria:
    args: dict[str, str | None] = dict.fromkeys(
        ("name", "registry_number", "vat_id", "domain", "postal_code")
    )
    return criteria_from(**{**args, **given})


def test_values_are_searched_as_they_are_stored() -> None:
    assert _criteria(
        name="Müller Maschinenbau G.m.b.H.",
        registry_number="HRB 123 456, AG München",
        vat_id="de 136 695 976",
        domain="https://www.Mueller.de/impressum",
        postal_code=" 80331 ",
    ) == CompanyCriteria(
        name_key="mueller maschinenbau",
        register="HRB|123456",
        vat_id="DE136695976",
        domain="mueller.de",
        postal_code="80331",
    )


@pytest.mark.parametrize(
    ("given", "field"),
    [
        ({"vat_id": "DE136695977"}, "vatId"),
        ({"registry_number": "123456"}, "registryNumber"),
        ({"domain": "n/a"}, "domain"),
        ({}, "name"),
        ({"name": "  "}, "name"),
    ],
)
def test_unusable_or_missing_criteria_are_refused_with_their_field(
    given: dict[str, str], field: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        _criteria(**given)
    assert refused.value.field == field


def test_a_legal_form_alone_is_searched_as_a_name() -> None:
    assert _criteria(name="GmbH").name_key == "gmbh"
