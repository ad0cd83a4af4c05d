"""Rectification requests in the real graph server: the ask and the outcome are kept
with the request, the stewards' queue finds the open ones, the value goes once decided.
The profile is replaced by a recorder (end to end: tests/e2e/test_rectification.py)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from mdm_common.auth import Principal, Role
from mdm_common.graph import GraphClient
from mdm_consent.adapters.transactions import SCHEMA, GraphTransactions
from mdm_consent.domain import fulfilment
from mdm_consent.domain import rectification as rect
from mdm_consent.domain.rectification import Decision, ProfileAnswer, Rectification
from mdm_consent.domain.requests import (
    IdentityCheck,
    ReceivedVia,
    RequestDraft,
    RequestStatus,
    RequestType,
    known,
    submit,
)

from .test_requests_fulfilment import Services

REASON = "The registry extract confirms the corrected spelling."
NOW = datetime.now(UTC)
OFFICER = Principal("officer-1", frozenset({Role.COMPLIANCE}))
STEWARD = Principal("steward-1", frozenset({Role.STEWARD}))


class Directory:
    async def resolve(self, person_id: str) -> str | None:
        return person_id


class Profile:
    async def check(
        self, person_id: str, field: str, value: str, *, actor: Principal
    ) -> ProfileAnswer:
        return ProfileAnswer((person_id,), ("crm",))

    async def rectify(
        self, person_id: str, request_id: str, field: str, value: str, *, actor: Principal
    ) -> ProfileAnswer:
        return ProfileAnswer((person_id, "merged-1"), ("crm", "shop"))


async def _transactions(graph_for: Callable[[str], GraphClient]) -> GraphTransactions:
    graph = graph_for("consent")
    await graph.apply_schema(SCHEMA)
    return GraphTransactions(graph)


async def test_the_ask_and_the_outcome_are_kept_and_the_value_goes_once_decided(
    graph_for: Callable[[str], GraphClient],
) -> None:
    tx = await _transactions(graph_for)
    profile = Profile()
    person = str(uuid.uuid4())
    asked = Rectification("address", '{"street": "Gartenweg 3", "city": "Hamburg"}')
    made = await rect.submit_rectification(
        RequestDraft(
            RequestType.RECTIFICATION,
            person,
            ReceivedVia.WEB_FORM,
            IdentityCheck.ACCOUNT_LOGIN,
            rectification=asked,
        ),
        profile=profile,
        directory=Directory(),
        transactions=tx,
        actor=OFFICER,
        now=NOW,
    )
    stored = await tx.read(lambda s: known(s, made.id))
    assert stored.rectification == Rectification(asked.field, asked.value, recipients=("crm",))
    queue, _ = await tx.read(
        lambda s: rect.queue(s, status=RequestStatus.OPEN, first=200, after=None, now=NOW)
    )
    assert made.id in {r.id for r in queue}
    await rect.decide(
        made.id,
        approve=True,
        reason=REASON,
        profile=profile,
        transactions=tx,
        actor=STEWARD,
        now=NOW,
    )
    done = await tx.read(lambda s: known(s, made.id))
    assert done.status is RequestStatus.COMPLETED
    assert done.rectification == Rectification(
        "address",
        None,
        recipients=("crm", "shop"),
        decision=Decision.APPROVED,
        decided_at=NOW,
        decided_by=STEWARD.subject,
        reason=REASON,
    )
    assert done.person_ids == (person, "merged-1")
    rows = await tx.read(lambda s: s.requests.of_person([person]))
    assert [r.id for r in rows] == [made.id]
    queue, _ = await tx.read(
        lambda s: rect.queue(s, status=RequestStatus.OPEN, first=200, after=None, now=NOW)
    )
    assert made.id not in {r.id for r in queue}


async def test_an_erasure_clears_the_pending_rectifications_values(
    graph_for: Callable[[str], GraphClient],
) -> None:
    tx = await _transactions(graph_for)
    person = str(uuid.uuid4())

    def asking(type_: RequestType, rectification: Rectification | None) -> RequestDraft:
        return RequestDraft(
            type_,
            person,
            ReceivedVia.EMAIL,
            IdentityCheck.ACCOUNT_LOGIN,
            note="Asked at the counter.",
            rectification=rectification,
        )

    pending = await rect.submit_rectification(
        asking(RequestType.RECTIFICATION, Rectification("email", "neu@example.org")),
        profile=Profile(),
        directory=Directory(),
        transactions=tx,
        actor=OFFICER,
        now=NOW,
    )
    erasure = await submit(
        asking(RequestType.ERASURE, None),
        directory=Directory(),
        transactions=tx,
        submitted_by="o",
        now=NOW,
    )
    await fulfilment.carry_out(
        erasure.id, services=Services(), transactions=tx, actor=OFFICER, now=NOW
    )
    kept = await tx.read(lambda s: known(s, pending.id))
    assert (kept.status, kept.note) == (RequestStatus.OPEN, None)
    assert kept.rectification == Rectification("email", None, recipients=("crm",))
