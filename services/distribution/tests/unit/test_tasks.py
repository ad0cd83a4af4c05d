"""What each heard event asks a distribution pass to look at."""

from __future__ import annotations

from mdm_common.contracts import NONE
from mdm_distribution.domain.models import Cause
from mdm_distribution.tasks import cause_of


def test_each_event_becomes_its_cause() -> None:
    merge = {"survivor_id": "p1", "merged_id": "p2", "merge_id": "m1"}
    assert cause_of("distribution.on_person_merged", merge) == Cause("MERGED", "p1", other_id="p2")
    assert cause_of("distribution.on_person_unmerged", merge) == Cause(
        "UNMERGED", "p1", other_id="p2"
    )
    assert cause_of("distribution.on_person_erased", {"person_id": "p1"}) == Cause("ERASED", "p1")
    assert cause_of("distribution.on_person_changed", {"person_id": "p1"}) == Cause("CHANGED", "p1")


def test_a_consent_event_without_a_purpose_or_channel_names_none() -> None:
    heard = {"person_id": "p1", "purpose": NONE, "channel": NONE, "change": "OBJECTED"}
    assert cause_of("distribution.on_consent_changed", heard) == Cause(
        "CONSENT", "p1", purpose=None, channel=None, change="OBJECTED"
    )
    named = heard | {"purpose": "newsletter", "channel": "EMAIL"}
    assert cause_of("distribution.on_consent_changed", named).purpose == "newsletter"
