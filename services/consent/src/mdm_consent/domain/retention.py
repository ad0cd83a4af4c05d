"""Purpose binding and retention: which of a person's attribute categories still
serve a purpose (GDPR Art. 5(1)(b), (c), (e); Datensparsamkeit).

Each purpose lists the data categories it uses (``dataCategories``, codes of
:class:`mdm_common.contracts.DataCategory`); that binds every profile attribute
category to its purposes. For one person at time T each binding purpose stands:

* ``IN_USE``: consent is given on some channel, or another legal basis applies and
  its retention period has not run out;
* ``WITHDRAWN`` / ``EXPIRED`` (consent purposes): consent ended by withdrawal or
  expiry, and no channel is allowed or waiting (a pending double opt-in, a renewal
  or a parental authorisation);
* ``OBJECTED``: an Art. 21 objection blocks the purpose;
* ``RETENTION_OVER``: the purpose's retention period has passed since the person's
  latest event for it (and no consent keeps it in use);
* ``NOT_APPLICABLE``: a consent purpose the person never had an event for; it
  neither keeps nor removes anything.

A category is removed when at least one binding purpose applies to the person and
every one that applies has lapsed. A purpose on another basis than consent with no
event for the person applies and stays in use: we cannot know that a contract has
ended, so its data is kept (conservative; the evidence would be missing). Persons
with a restriction in force (Art. 18) are not touched: storage is all that is left
to do with their data, and deleting it could defeat the reason for restricting.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from mdm_common.contracts import DataCategory
from mdm_consent.domain.lineage import GroupFacts
from mdm_consent.domain.models import Fact, LegalBasis, Purpose
from mdm_consent.domain.rules import Reason, Verdict, decide


class Standing(StrEnum):
    IN_USE = "IN_USE"
    WITHDRAWN = "WITHDRAWN"
    EXPIRED = "EXPIRED"
    OBJECTED = "OBJECTED"
    RETENTION_OVER = "RETENTION_OVER"
    NOT_APPLICABLE = "NOT_APPLICABLE"

    @property
    def lapsed(self) -> bool:
        return self not in (Standing.IN_USE, Standing.NOT_APPLICABLE)


@dataclass(frozen=True)
class PurposeStanding:
    purpose: str
    standing: Standing
    since: datetime | None = None  # when it lapsed


def _latest(facts: Sequence[Fact], purpose: Purpose, at: datetime) -> Fact | None:
    own = [f for f in facts if f.purpose == purpose.code and f.occurred_at <= at]
    return max(own, key=lambda f: f.occurred_at, default=None)


def _retention_over(purpose: Purpose, latest: Fact | None, at: datetime) -> datetime | None:
    if latest is None:
        return None
    end = latest.occurred_at + timedelta(days=purpose.retention_days)
    return end if end <= at else None


def standing(purpose: Purpose, group: GroupFacts, at: datetime) -> PurposeStanding:
    """How the purpose stands for the person (their merge group) at ``at``."""
    facts = group.facts
    latest = _latest(facts, purpose, at)
    verdicts = [decide(purpose, c, facts, at, lineage=group.lineage) for c in purpose.channels]
    objected = next((v for v in verdicts if v.reason is Reason.OBJECTED), None)
    if objected is not None and not any(v.allowed for v in verdicts):
        return PurposeStanding(purpose.code, Standing.OBJECTED, _when(objected))
    if purpose.legal_basis is LegalBasis.CONSENT:
        if any(v.allowed for v in verdicts):
            return PurposeStanding(purpose.code, Standing.IN_USE)
        if latest is None:
            return PurposeStanding(purpose.code, Standing.NOT_APPLICABLE)
        # Lapsed: ended on some channel, never given on the others, and nothing waiting
        # (a pending opt-in, a renewal or a parental authorisation may still come).
        ended = [v for v in verdicts if v.reason in (Reason.WITHDRAWN, Reason.CONSENT_EXPIRED)]
        if ended and all(v.reason is Reason.NO_CONSENT for v in verdicts if v not in ended):
            last = max(ended, key=lambda v: _when(v) or at)
            kind = Standing.WITHDRAWN if last.reason is Reason.WITHDRAWN else Standing.EXPIRED
            return PurposeStanding(purpose.code, kind, _when(last))
    over = _retention_over(purpose, latest, at)
    if over is not None:
        return PurposeStanding(purpose.code, Standing.RETENTION_OVER, over)
    return PurposeStanding(purpose.code, Standing.IN_USE)


def _when(verdict: Verdict) -> datetime | None:
    return verdict.deciding.occurred_at if verdict.deciding else None


@dataclass(frozen=True)
class Lapse:
    """An attribute category no purpose serves any more, with the evidence."""

    category: str
    standings: tuple[PurposeStanding, ...]


def lapsed_categories(
    purposes: Sequence[Purpose], facts: dict[str, GroupFacts], at: datetime
) -> list[Lapse]:
    """The profile attribute categories to remove for one person (``facts``: their
    group's facts per purpose code); none while a restriction or erasure holds."""
    any_group = next(iter(facts.values()), None)
    if any_group is not None and any(h.in_force(at) for h in any_group.holds):
        return []
    standings = {p.code: standing(p, facts[p.code], at) for p in purposes if p.code in facts}
    lapses = []
    for category in DataCategory.ATTRIBUTES:
        binding = [standings[p.code] for p in purposes
                   if category in p.data_categories and p.code in standings]  # fmt: skip
        applying = [s for s in binding if s.standing is not Standing.NOT_APPLICABLE]
        if applying and all(s.standing.lapsed for s in applying):
            lapses.append(Lapse(category, tuple(applying)))
    return lapses
