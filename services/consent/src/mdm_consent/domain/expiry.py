"""Expiry as an event: which grants lapsed by their purpose's consent validity, and
the EXPIRED event that records each lapse (GDPR Art. 7(1), 5(2), 5(1)(e)).

The contact check computes a lapse at any time T from the grant and the purpose's
``consentValidityDays``; this module turns it into a record, so that the history,
the printable document, the data-subject export and downstream notices show it. The
question "did this grant lapse?" is asked of the contact check's own rules
(:func:`mdm_consent.domain.rules.decide`), never answered a second time here:

* The consent rule alone is asked: the purpose as if its basis were consent, without
  objections, evidence of age or holds in front. Those stop contact for other reasons;
  the consent lapses all the same, and its lapse is recorded.
* A grant lapsed when the consent rule, asked at the moment of the lapse (grant time
  + validity), answers ``CONSENT_EXPIRED`` resting on that very grant: nothing ended
  it before (a withdrawal, a later grant, an expiry recorded by hand).
* Merge groups are decided per group, over every member's facts and the lineage, as
  the contact check reads them; each EXPIRED event is recorded under the member who
  gave the grant, so that an unmerge leaves each side's history complete. Should the
  group's answer now still rest on a lapsed grant that its own lapse moment did not
  show (two sides' grants standing side by side), that grant's lapse is recorded too:
  the answer then names an EXPIRED event, as for one person.
* A person (or group) with a restriction or erasure in force is left as it is (Art.
  18(2): storage only; Art. 17); after a restriction is lifted the next run records
  the lapse at its real moment.

An EXPIRED event's id is derived from the grant's id: one grant expires once,
whoever runs the job how often.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime

from mdm_consent.domain.lineage import GroupFacts
from mdm_consent.domain.models import (
    ActorType,
    ConsentEvent,
    EventType,
    Fact,
    LegalBasis,
    Method,
    Purpose,
)
from mdm_consent.domain.rules import Reason, decide, lapses_at

# The namespace of EXPIRED event ids (uuid5 of the grant id): fixed for good.
_EXPIRY_IDS = uuid.UUID("6f0c3c1e-5f55-4d8e-9a55-3a1f0f6de7a1")
_GRANTS = (EventType.GRANTED, EventType.CONFIRMED)
# Facts that stop contact for other reasons than the consent's own state.
_NOT_CONSENT = (EventType.OBJECTED, EventType.AGE_EVIDENCE, EventType.PARENTAL_AUTHORISATION)
# Who records an expiry: the consent service itself, not a person (docs/consent.md).
RECORDED_BY = "service:consent"


def expiry_id(grant_id: str) -> str:
    """The id of the EXPIRED event of a grant: the same on every run."""
    return str(uuid.uuid5(_EXPIRY_IDS, f"expiry:{grant_id}"))


def lapsed_grants(purpose: Purpose, group: GroupFacts, at: datetime) -> list[Fact]:
    """The grants of the person (merge group) that lapsed by ``at`` and have no
    EXPIRED event yet, in the order they lapsed."""
    if purpose.consent_validity_days is None or any(h.in_force(at) for h in group.holds):
        return []
    consent = replace(purpose, legal_basis=LegalBasis.CONSENT)
    facts = [f for f in group.facts if f.type not in _NOT_CONSENT]
    grants = sorted(
        (
            f
            for f in facts
            if f.type in _GRANTS
            and f.purpose == purpose.code
            and f.channel in purpose.channels
            and _lapse(purpose, f) <= at
        ),
        key=lambda f: (_lapse(purpose, f), f.id),
    )
    found: list[Fact] = []

    def expire(grant: Fact) -> None:
        found.append(grant)
        facts.append(expiry_fact(purpose, grant))

    for grant in grants:
        assert grant.channel is not None  # grants are per channel
        verdict = decide(
            consent, grant.channel, facts, _lapse(purpose, grant), lineage=group.lineage
        )
        if verdict.reason is Reason.CONSENT_EXPIRED and verdict.deciding == grant:
            expire(grant)
    for channel in purpose.channels:
        for _ in range(len(grants)):  # each round expires one more grant, or stops
            verdict = decide(consent, channel, facts, at, lineage=group.lineage)
            resting = verdict.deciding
            if verdict.reason is not Reason.CONSENT_EXPIRED or resting is None:
                break
            if resting not in grants or resting in found:
                break  # an EXPIRED event decides, or a grant not lapsed by validity
            expire(resting)
    return found


def _lapse(purpose: Purpose, grant: Fact) -> datetime:
    lapse = lapses_at(purpose, grant)
    assert lapse is not None  # only asked for purposes with a validity
    return lapse


def expiry_fact(purpose: Purpose, grant: Fact) -> Fact:
    """The fact the EXPIRED event of ``grant`` adds to the history."""
    return Fact(
        id=expiry_id(grant.id),
        type=EventType.EXPIRED,
        occurred_at=_lapse(purpose, grant),
        purpose=purpose.code,
        channel=grant.channel,
        method=Method.SYSTEM,
        actor=ActorType.SYSTEM,
        person_id=grant.person_id,
    )


def expiry_event(
    purpose: Purpose, grant: Fact, *, survivor_id: str, run_id: str, now: datetime
) -> ConsentEvent:
    """The EXPIRED event recording the lapse of ``grant``: for its purpose and channel,
    at the moment of the lapse, recorded by the consent service in run ``run_id``.
    The evidence reference names the grant and the validity it lapsed by."""
    fact = expiry_fact(purpose, grant)
    return ConsentEvent(
        id=fact.id,
        person_id=grant.person_id or survivor_id,
        type=EventType.EXPIRED,
        occurred_at=fact.occurred_at,
        recorded_at=now,
        recorded_by=RECORDED_BY,
        collection_point=f"expiry run {run_id}",
        method=Method.SYSTEM,
        actor=ActorType.SYSTEM,
        purpose=purpose.code,
        channel=grant.channel,
        evidence_ref=f"grant {grant.id}; consentValidityDays {purpose.consent_validity_days}",
    )
