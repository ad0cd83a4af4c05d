"""The contact check: may we contact this person for this purpose over this channel at T?

A pure function of the purpose (with its notice versions), the person's facts and
the point in time; only facts that occurred at or before T count. The rules, in
the order they are applied (docs/consent.md explains each):

1. The purpose must use the channel.
2. An Art. 21 objection blocks the purpose it names, and an objection to direct
   marketing (Art. 21(2)) blocks every direct-marketing purpose, on every legal
   basis. Only a later consent that the person gives themself (not an import, not
   staff, not a guardian) lifts it, and only for that purpose and channel.
3. Consent (Art. 6(1)(a)) is per purpose and channel: pending double opt-in is no
   consent; a withdrawal or expiry ends it at once; it lapses after the purpose's
   validity; a later material notice version needs renewed consent; a consent given
   under 16 counts only with a recorded parental authorisation (Art. 8).
4. Direct marketing on another basis follows UWG §7: e-mail needs consent or the
   existing-customer exception (§7(3) Nr. 1-4: a recorded sale of goods like those
   the purpose advertises, no withdrawal or objection, the customer told at the sale
   that they may object; every message must tell it again: an obligation of the
   verdict); phone and SMS always need consent; post and personalised web do not.
5. Any other purpose is allowed on its legal basis.

Merged persons (:mod:`mdm_consent.domain.lineage`): the facts of every member of
the group count, and a later fact settles an earlier one only if the two persons'
histories were already one when it happened. Before that, the two sides stood side
by side and the restrictive one wins: a withdrawal or objection of either side stands
until a new consent given after the merge (for an objection: given by the person
themself), whatever the other side granted before.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from mdm_consent.domain.lineage import Lineage
from mdm_consent.domain.models import (
    ActorType,
    Channel,
    EventType,
    Fact,
    Hold,
    HoldKind,
    LegalBasis,
    Method,
    NoticeVersion,
    Purpose,
)

ADULT_AGE = 16  # GDPR Art. 8(1), the age Germany keeps


class Reason(StrEnum):
    CONSENT_GIVEN = "CONSENT_GIVEN"
    EXISTING_CUSTOMER = "EXISTING_CUSTOMER"  # UWG §7(3)
    LEGAL_BASIS = "LEGAL_BASIS"  # allowed on the purpose's basis other than consent
    CHANNEL_NOT_COVERED = "CHANNEL_NOT_COVERED"
    NO_CONSENT = "NO_CONSENT"
    DOUBLE_OPT_IN_PENDING = "DOUBLE_OPT_IN_PENDING"
    WITHDRAWN = "WITHDRAWN"
    OBJECTED = "OBJECTED"
    CONSENT_EXPIRED = "CONSENT_EXPIRED"
    RENEWAL_REQUIRED = "RENEWAL_REQUIRED"  # a material notice version came after the consent
    PARENTAL_AUTHORISATION_REQUIRED = "PARENTAL_AUTHORISATION_REQUIRED"
    NO_CONSENT_OR_SALE = "NO_CONSENT_OR_SALE"
    PROCESSING_RESTRICTED = "PROCESSING_RESTRICTED"  # Art. 18 request in force
    ERASED = "ERASED"  # Art. 17: the person's data is erased
    # UWG §7(3) Nr. 2: the sale was of goods unlike those the purpose advertises.
    NOT_SIMILAR_PRODUCTS = "NOT_SIMILAR_PRODUCTS"
    # UWG §7(3) Nr. 2: a sale recorded without its product category proves no similarity.
    SALE_WITHOUT_PRODUCT_CATEGORY = "SALE_WITHOUT_PRODUCT_CATEGORY"
    # UWG §7(3) Nr. 4: the sale names no notice the customer could have been shown then.
    NO_OPT_OUT_NOTICE = "NO_OPT_OUT_NOTICE"


class Obligation(StrEnum):
    """What the sending system must do for the contact to be lawful."""

    # UWG §7(3) Nr. 4: every message tells the customer they may object at any time,
    # at no cost beyond the basic rates.
    OPT_OUT_NOTICE_IN_EVERY_MESSAGE = "OPT_OUT_NOTICE_IN_EVERY_MESSAGE"


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    reason: Reason
    legal_basis: LegalBasis | None = None
    deciding: Fact | None = None
    obligations: tuple[Obligation, ...] = ()


# At the same instant the restrictive event wins: it sorts last.
_RANK = {EventType.WITHDRAWN: 2, EventType.OBJECTED: 2, EventType.EXPIRED: 2}
_GRANTS = (EventType.GRANTED, EventType.CONFIRMED)
_ENDS = (EventType.WITHDRAWN, EventType.EXPIRED)
_CONSENT_ONLY = (Channel.PHONE, Channel.SMS)  # UWG §7(2) Nr. 1 and 2


def chronological(facts: Iterable[Fact], at: datetime) -> list[Fact]:
    """The facts that occurred at or before ``at``, once each, oldest first."""
    unique = {f.id: f for f in facts if f.occurred_at <= at}
    return sorted(unique.values(), key=lambda f: (f.occurred_at, _RANK.get(f.type, 0), f.id))


def decide(
    purpose: Purpose, channel: Channel, facts: Iterable[Fact], at: datetime, *,
    lineage: Lineage | None = None, holds: Iterable[Hold] = (),
) -> Verdict:  # fmt: skip
    """The verdict at ``at``; ``lineage`` when the facts are those of a merge group,
    ``holds`` the restrictions and erasures of the group's members (they come first:
    a restricted or erased person is contacted on no basis at all)."""
    standing = {h.kind for h in holds if h.in_force(at)}
    if HoldKind.ERASED in standing:
        return Verdict(False, Reason.ERASED, purpose.legal_basis)
    if HoldKind.RESTRICTED in standing:
        return Verdict(False, Reason.PROCESSING_RESTRICTED, purpose.legal_basis)
    return _by_facts(purpose, channel, facts, at, lineage)


def _by_facts(
    purpose: Purpose, channel: Channel, facts: Iterable[Fact], at: datetime,
    lineage: Lineage | None,
) -> Verdict:  # fmt: skip
    history = chronological(facts, at)
    joined = _Joined(lineage)
    if channel not in purpose.channels:
        return Verdict(False, Reason.CHANNEL_NOT_COVERED, purpose.legal_basis)
    objections = _objections(purpose, history)
    if objections:
        standing = [
            o
            for o in objections
            if not any(_lifts(f, o, purpose, channel, joined) for f in history)
        ]
        if standing:
            return Verdict(False, Reason.OBJECTED, purpose.legal_basis, standing[-1])
        return _consent(purpose, channel, history, at, joined, objections=objections)
    if purpose.legal_basis is LegalBasis.CONSENT:
        return _consent(purpose, channel, history, at, joined)
    if not purpose.direct_marketing:
        return Verdict(True, Reason.LEGAL_BASIS, purpose.legal_basis)
    return _marketing_without_consent_basis(purpose, channel, history, at, joined)


class _Joined:
    """Whether a later fact settles an earlier one: same person, or their histories
    were one (merged) before the later fact happened."""

    def __init__(self, lineage: Lineage | None) -> None:
        self._lineage = lineage if lineage is not None and lineage.links else None

    def unsettled(self, later: Fact, earlier: list[Fact]) -> list[Fact]:
        """The earlier facts that ``later`` does not settle (none for one person)."""
        if self._lineage is None:
            return []
        return [f for f in earlier if not self.settles(later, f)]

    def settles(self, later: Fact, earlier: Fact) -> bool:
        if self._lineage is None or later.person_id == earlier.person_id:
            return True
        since = self._lineage.joined_at(later.person_id, earlier.person_id)
        return since is None or later.occurred_at > since


def _objections(purpose: Purpose, history: Sequence[Fact]) -> list[Fact]:
    """The objections that concern the purpose, oldest first."""
    return [
        fact for fact in history
        if fact.type is EventType.OBJECTED and (
            fact.purpose == purpose.code
            or (purpose.direct_marketing and (fact.direct_marketing or fact.purpose is None))
        )
    ]  # fmt: skip


def _lifts(fact: Fact, objection: Fact, purpose: Purpose, channel: Channel,
           joined: _Joined) -> bool:  # fmt: skip
    """A consent the person gave themself, after the objection (and after the merge
    that joined it to the objection's side), for this purpose and channel."""
    return (
        fact.type in _GRANTS and fact.purpose == purpose.code and fact.channel is channel
        and fact.occurred_at > objection.occurred_at and fact.actor is ActorType.DATA_SUBJECT
        and fact.method is not Method.IMPORT and not fact.imported
        and joined.settles(fact, objection)
    )  # fmt: skip


def _marketing_without_consent_basis(
    purpose: Purpose, channel: Channel, history: Sequence[Fact], at: datetime, joined: _Joined
) -> Verdict:
    # A withdrawal on either side of a merge blocks the exception: the union is strict.
    consent = _consent(purpose, channel, history, at, joined)
    if consent.allowed or channel in _CONSENT_ONLY:
        return consent
    withdrawal = next(
        (f for f in reversed(history) if f.type is EventType.WITHDRAWN
         and f.purpose == purpose.code and f.channel in (None, channel)), None,
    )  # fmt: skip
    if withdrawal is not None:
        return Verdict(False, Reason.WITHDRAWN, purpose.legal_basis, withdrawal)
    if channel is not Channel.EMAIL:
        return Verdict(True, Reason.LEGAL_BASIS, purpose.legal_basis)
    return _existing_customer(purpose, history)


def _existing_customer(purpose: Purpose, history: Sequence[Fact]) -> Verdict:
    """UWG §7(3): the address came with a sale (Nr. 1) of goods or services like those
    the purpose advertises (Nr. 2), and the customer was told at the sale that they may
    object at any time (Nr. 4); every message must tell it again (the obligation). Nr. 3,
    no objection or withdrawal, the caller checked. Any sale meeting all of them counts;
    else the latest sale says why not."""
    sales = [f for f in history if f.type is EventType.SALE_RECORDED and f.purpose == purpose.code]
    if not sales:
        return Verdict(False, Reason.NO_CONSENT_OR_SALE, purpose.legal_basis)
    refusals = [(sale, _sale_refusal(purpose, sale)) for sale in sales]
    qualifying = [sale for sale, refusal in refusals if refusal is None]
    if qualifying:
        return Verdict(
            True,
            Reason.EXISTING_CUSTOMER,
            purpose.legal_basis,
            qualifying[-1],
            obligations=(Obligation.OPT_OUT_NOTICE_IN_EVERY_MESSAGE,),
        )
    sale, refusal = refusals[-1]
    return Verdict(False, refusal or Reason.NO_CONSENT_OR_SALE, purpose.legal_basis, sale)


def _sale_refusal(purpose: Purpose, sale: Fact) -> Reason | None:
    if sale.product_category is None:  # recorded before sales named their category
        return Reason.SALE_WITHOUT_PRODUCT_CATEGORY
    if sale.product_category not in purpose.product_categories:
        return Reason.NOT_SIMILAR_PRODUCTS
    notice = purpose.notice(sale.notice_version) if sale.notice_version else None
    if notice is None or notice.published_at > sale.occurred_at:
        return Reason.NO_OPT_OUT_NOTICE  # a text published after the sale was not shown at it
    return None


def _consent(
    purpose: Purpose, channel: Channel, history: Sequence[Fact], at: datetime,
    joined: _Joined, *, objections: Sequence[Fact] = (),
) -> Verdict:  # fmt: skip
    """Consent for the purpose and channel; after an objection only grants that lift it count.

    Per person the latest grant, withdrawal or expiry is the state. In a merge group
    a fact settles only the facts it is joined with; what it does not settle stands
    beside it, and of standing facts a withdrawal beats a grant.
    """
    standing: list[Fact] = []  # grants, withdrawals and expiries nothing settled
    pending: list[Fact] = []
    for fact in history:
        if fact.purpose != purpose.code or fact.channel not in (None, channel):
            continue
        # A withdrawal or expiry without a channel ends every channel; consent is per channel.
        if fact.channel is None and fact.type not in _ENDS:
            continue
        if fact.type in _GRANTS and not all(
            _lifts(fact, o, purpose, channel, joined) for o in objections
        ):
            continue
        if fact.type in _GRANTS or fact.type in _ENDS:
            standing = [*joined.unsettled(fact, standing), fact]
            pending = joined.unsettled(fact, pending)
        elif fact.type is EventType.PENDING_DOUBLE_OPT_IN:
            pending = [*joined.unsettled(fact, pending), fact]
    withdrawals = [f for f in standing if f.type is EventType.WITHDRAWN]
    grants = [f for f in standing if f.type in _GRANTS]
    if withdrawals and grants:
        return Verdict(False, Reason.WITHDRAWN, LegalBasis.CONSENT, withdrawals[-1])
    if not grants:
        return _no_live_grant(standing[-1] if standing else None,
                              pending[-1] if pending else None)  # fmt: skip
    return _granted(purpose, channel, history, at, joined, grant=grants[-1])


def _granted(
    purpose: Purpose, channel: Channel, history: Sequence[Fact], at: datetime,
    joined: _Joined, *, grant: Fact,
) -> Verdict:  # fmt: skip
    basis = LegalBasis.CONSENT
    minor = _minor_without_authorisation(purpose, channel, history, grant, joined)
    if minor is not None:
        return Verdict(False, Reason.PARENTAL_AUTHORISATION_REQUIRED, basis, minor)
    lapse = lapses_at(purpose, grant)
    if lapse is not None and at >= lapse:
        return Verdict(False, Reason.CONSENT_EXPIRED, basis, grant)
    if _renewal_required(purpose, grant, at):
        return Verdict(False, Reason.RENEWAL_REQUIRED, basis, grant)
    return Verdict(True, Reason.CONSENT_GIVEN, basis, grant)


def lapses_at(purpose: Purpose, grant: Fact) -> datetime | None:
    """When a grant lapses by the purpose's consent validity (None: it does not)."""
    validity = purpose.consent_validity_days
    return None if validity is None else grant.occurred_at + timedelta(days=validity)


def _no_live_grant(state: Fact | None, pending: Fact | None) -> Verdict:
    basis = LegalBasis.CONSENT
    if pending is not None:
        return Verdict(False, Reason.DOUBLE_OPT_IN_PENDING, basis, pending)
    if state is None:
        return Verdict(False, Reason.NO_CONSENT, basis)
    reason = Reason.WITHDRAWN if state.type is EventType.WITHDRAWN else Reason.CONSENT_EXPIRED
    return Verdict(False, reason, basis, state)


def _minor_without_authorisation(
    purpose: Purpose, channel: Channel, history: Sequence[Fact], grant: Fact, joined: _Joined
) -> Fact | None:
    """The age evidence showing that the person was under 16 when they gave ``grant``,
    without parental authorisation, if so. The age at the consent decides, not the age
    now: a consent given at 15 does not become valid at 16; a new one given at 16 does.

    Later evidence corrects earlier evidence it is joined with; of two sides' evidence
    that stand side by side, the one showing a minor wins."""
    evidence: list[Fact] = []
    for fact in history:
        if fact.type is EventType.AGE_EVIDENCE and fact.birth_date:
            evidence = [*joined.unsettled(fact, evidence), fact]
    if not evidence:
        return None  # no evidence of age: the person is taken to be of age (docs/consent.md)
    given = grant.occurred_at.date()
    minors = [e for e in evidence if e.birth_date and age_on(e.birth_date, given) < ADULT_AGE]
    if not minors:
        return None
    authorised = any(f.type is EventType.PARENTAL_AUTHORISATION and f.purpose == purpose.code
                     and f.channel in (None, channel) for f in history)  # fmt: skip
    return None if authorised else minors[-1]


def _renewal_required(purpose: Purpose, grant: Fact, at: datetime) -> bool:
    return bool(renewal_notices(purpose, grant, at))


def renewal_notices(purpose: Purpose, grant: Fact, at: datetime) -> list[NoticeVersion]:
    """The material notice versions newer than the one the grant agreed to, published
    at or before ``at``, oldest first: each requires renewed consent."""
    agreed = grant.notice_version or 0
    return sorted(
        (n for n in purpose.notices if n.material and n.version > agreed and n.published_at <= at),
        key=lambda n: n.version,
    )


def age_on(birth: date, day: date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))
