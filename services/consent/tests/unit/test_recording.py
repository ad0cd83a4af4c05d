"""What may be recorded as happening now, and what only an import brings in; both
checked before the profile service or the graph is asked anything."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from mdm_common.errors import Forbidden, InvalidInput
from mdm_consent.domain import consents, imports
from mdm_consent.domain.models import EventType, Method

from .test_consents import GRANT, NOW

SKEW = timedelta(minutes=5)


class Untouched:
    """Ports that must not be reached: the request is refused before."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"{name} was called")


async def record(**change: Any) -> None:
    await consents.record_event(
        replace(GRANT, **change),
        directory=Untouched(),  # type: ignore[arg-type]
        transactions=Untouched(),  # type: ignore[arg-type]
        now=NOW,
        recorded_by="shop-app",
        may_record=consents.CUSTOMER_ACTS,
        skew=SKEW,
    )


class TestAnApplicationRecordsWhatACustomerDoesNow:
    @pytest.mark.parametrize("type_", sorted(set(EventType) - consents.CUSTOMER_ACTS))
    async def test_not_what_the_controller_asserts(self, type_: EventType) -> None:
        with pytest.raises(Forbidden) as refused:
            await record(type=type_)
        assert (refused.value.field, refused.value.details) == (
            "type",
            {"reason": "NOT_A_CUSTOMER_ACT"},
        )

    @pytest.mark.parametrize(
        "offset", [-SKEW - timedelta(seconds=1), SKEW + timedelta(seconds=1), -timedelta(days=9000)]
    )
    async def test_not_outside_the_skew_of_the_servers_clock(self, offset: timedelta) -> None:
        with pytest.raises(InvalidInput) as refused:
            await record(occurred_at=NOW + offset)
        assert refused.value.field == "occurredAt"
        assert refused.value.details == {"reason": "NOT_NOW", "skewSeconds": 300}

    async def test_not_an_import(self) -> None:
        with pytest.raises(InvalidInput) as refused:
            await record(method=Method.IMPORT)
        assert refused.value.details == {"reason": "USE_IMPORT"}

    def test_the_acts_of_a_customer(self) -> None:
        assert {t.value for t in consents.CUSTOMER_ACTS} == {
            "GRANTED",
            "PENDING_DOUBLE_OPT_IN",
            "CONFIRMED",
            "WITHDRAWN",
            "OBJECTED",
        }


DIGEST = "a" * 64


async def import_(**change: Any) -> None:
    draft = imports.ImportDraft(
        source="old-crm", reference="export-7", document_sha256=DIGEST, events=(GRANT,)
    )
    await imports.import_events(
        replace(draft, **change),
        directory=Untouched(),  # type: ignore[arg-type]
        transactions=Untouched(),  # type: ignore[arg-type]
        now=NOW,
        imported_by="officer-1",
    )


class TestAnImport:
    @pytest.mark.parametrize(
        ("change", "field"),
        [
            ({"document_sha256": "not-a-digest"}, "documentSha256"),
            ({"document_sha256": "a" * 63}, "documentSha256"),
            ({"source": "  "}, "source"),
            ({"reference": ""}, "reference"),
            ({"reference": "r" * 201}, "reference"),
            ({"events": ()}, "events"),
            ({"events": (GRANT,) * 501}, "events"),
        ],
    )
    async def test_needs_its_evidence(self, change: dict[str, Any], field: str) -> None:
        with pytest.raises(InvalidInput) as refused:
            await import_(**change)
        assert refused.value.field == field

    async def test_says_when_each_event_happened_and_which_was_refused(self) -> None:
        dated = replace(GRANT, occurred_at=NOW - timedelta(days=3000))
        with pytest.raises(InvalidInput) as refused:
            await import_(events=(dated, GRANT))
        assert (refused.value.field, refused.value.details) == ("occurredAt", {"index": 1})

    async def test_checks_each_events_proof(self) -> None:
        dated = replace(GRANT, occurred_at=NOW - timedelta(days=3000))
        with pytest.raises(InvalidInput) as refused:
            await import_(events=(dated, replace(dated, evidence_ref=None)))
        assert refused.value.details["index"] == 1
        assert refused.value.details["reason"] == "PROOF_MISSING"
