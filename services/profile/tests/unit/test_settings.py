from __future__ import annotations

import pytest
from pydantic import ValidationError

from mdm_profile.domain.golden import Rule
from mdm_profile.settings import ProfileSettings


def test_survivorship_is_merged_over_the_defaults() -> None:
    settings = ProfileSettings(survivorship={"email": Rule.SOURCE_PRIORITY})
    assert settings.survivorship_rules["email"] is Rule.SOURCE_PRIORITY
    assert settings.survivorship_rules["address"] is Rule.MOST_RECENT


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        ({"shoeSize": Rule.MOST_RECENT}, "no survivorship for 'shoeSize'"),
        ({"identifiers": Rule.MOST_RECENT}, "no survivorship for 'identifiers'"),
        ({"birthDate": Rule.ALL_VALUES}, "ALL_VALUES is the identifiers' own rule"),
    ],
)
def test_unknown_attributes_and_the_identifiers_rule_are_refused(
    rules: dict[str, Rule], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        ProfileSettings(survivorship=rules)
