"""A golden record as one flat row: the columns of the categories asked for, as text."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from mdm_distribution.exporting import rows

ANNA = {
    "id": "p1",
    "updatedAt": "2026-12-07T09:00:00+00:00",
    "givenName": "Anna",
    "familyName": "Müller",
    "titles": ["Dr.", "Prof."],
    "email": "anna@example.org",
    "address": {
        "street": "Hauptstraße",
        "houseNumber": "5",
        "postalCode": "10115",
        "city": "Berlin",
        "country": "DE",
    },
    "identifiers": [{"scheme": "CUSTOMER_NUMBER", "issuer": "shop", "value": "K-1"}],
}


def test_the_columns_of_the_categories_only_after_id_and_time() -> None:
    assert rows.columns(["email", "identity"]) == [
        "personId",
        "updatedAt",
        "givenName",
        "familyName",
        "titles",
        "suffix",
        "salutation",
        "email",
    ]
    assert rows.columns(["consent", "matching"]) == ["personId", "updatedAt"]


def test_a_record_flattened() -> None:
    row = rows.row_of(ANNA, rows.columns(rows.ALL_CATEGORIES))
    assert row["personId"] == "p1"
    assert row["titles"] == "Dr. Prof."
    assert (row["street"], row["city"], row["country"]) == ("Hauptstraße", "Berlin", "DE")
    assert row["identifiers"] == "CUSTOMER_NUMBER:shop:K-1"
    assert row["phone"] is None  # the record has none
    assert rows.row_of(ANNA, ["personId", "email"]) == {
        "personId": "p1",
        "email": "anna@example.org",
    }


@given(st.sets(st.sampled_from([*rows.ALL_CATEGORIES, "consent"])))
def test_a_row_has_exactly_its_columns(categories: set[str]) -> None:
    names = rows.columns(categories)
    assert list(rows.row_of(ANNA, names)) == names
    assert all(v is None or isinstance(v, str) for v in rows.row_of(ANNA, names).values())
