from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from mdm_common.errors import InvalidInput
from mdm_consent.domain.models import Channel, ConsentDraft, ConsentStatus

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
DRAFT = ConsentDraft(
    person_id="0b6f7c1e-1d2f-4c1a-9a0e-2f3b4c5d6e7f", purpose="newsletter",
    status=ConsentStatus.GRANTED, channel=Channel.EMAIL, source="  shop-checkout ",
)  # fmt: skip


def test_a_valid_draft_becomes_an_event_with_its_proof() -> None:
    event = DRAFT.to_event(now=NOW, recorded_by="crm-app")
    assert (event.purpose, event.status, event.channel) == ("newsletter", "GRANTED", "EMAIL")
    assert event.source == "shop-checkout"
    assert (event.recorded_at, event.recorded_by) == (NOW, "crm-app")


def test_every_event_gets_its_own_id() -> None:
    assert (
        DRAFT.to_event(now=NOW, recorded_by="a").id != DRAFT.to_event(now=NOW, recorded_by="a").id
    )


@pytest.mark.parametrize(
    ("change", "field"),
    [({"person_id": "Anna Müller"}, "personId"), ({"purpose": "News Letter"}, "purpose"),
     ({"purpose": "x"}, "purpose"), ({"source": "   "}, "source"),
     ({"source": "s" * 201}, "source")],
)  # fmt: skip
def test_rejects(change: dict[str, str], field: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        replace(DRAFT, **change).to_event(now=NOW, recorded_by="a")
    assert raised.value.field == field
