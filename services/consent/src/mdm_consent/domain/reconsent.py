"""The re-consent worklist: who must be asked again after a material notice version
(GDPR Art. 7(1), 5(2)).

A material version requires renewed consent from everybody who agreed to an older
one; the contact check answers ``RENEWAL_REQUIRED`` for them from its publication on.
The worklist lists exactly those persons for a purpose and channel: it asks the
contact check (:func:`mdm_consent.domain.checks.contact_check`, the same code the
applications call) for every person with events for the purpose, and keeps the
answers ``RENEWAL_REQUIRED``. A merge group is listed once, under the survivor the
check answered for. Each entry names the notice version agreed to, the material
version that requires renewal with its publication, and the current version to ask
for. The read is audited: one entry per person listed, and one for the view.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from mdm_common.auth import Principal
from mdm_common.errors import InvalidInput
from mdm_consent.domain import audit, checks
from mdm_consent.domain.consents import PERSON_ID
from mdm_consent.domain.models import Channel, Purpose
from mdm_consent.domain.purposes import known_purpose
from mdm_consent.domain.rules import Reason, renewal_notices
from mdm_consent.domain.stores import Stores

MAX_PAGE = 500
OPERATION = "reconsent worklist"
CSV_COLUMNS = (
    "person_id",
    "purpose",
    "channel",
    "agreed_version",
    "required_version",
    "required_published_at",
    "current_version",
    "granted_at",
    "grant_event_id",
)


@dataclass(frozen=True)
class RenewalDue:
    """A person (merge group, by its survivor) whose consent needs renewing."""

    person_id: str
    purpose: str
    channel: Channel
    agreed_version: int | None  # the notice version of the grant (None: none recorded)
    required_version: int  # the latest material version after it
    required_published_at: datetime
    current_version: int  # the version to ask for now
    granted_at: datetime
    grant_event_id: str


@dataclass(frozen=True)
class Worklist:
    purpose: str
    channel: Channel
    generated_at: datetime
    generated_by: str
    total: int  # persons due over the whole list, not only this page
    entries: tuple[RenewalDue, ...]
    has_next_page: bool

    @property
    def end_cursor(self) -> str | None:
        return self.entries[-1].person_id if self.entries else None

    @property
    def csv(self) -> str:
        """The page's entries as CSV for the mailing system (RFC 4180, CRLF, header)."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(CSV_COLUMNS)
        for e in self.entries:
            writer.writerow(
                [
                    e.person_id,
                    e.purpose,
                    e.channel.value,
                    "" if e.agreed_version is None else e.agreed_version,
                    e.required_version,
                    e.required_published_at.isoformat(),
                    e.current_version,
                    e.granted_at.isoformat(),
                    e.grant_event_id,
                ]
            )
        return out.getvalue()


def renewal_due(decision: checks.ContactDecision, purpose: Purpose) -> RenewalDue | None:
    """The worklist entry for a contact check's answer, if it is ``RENEWAL_REQUIRED``."""
    grant = decision.verdict.deciding
    if decision.verdict.reason is not Reason.RENEWAL_REQUIRED or grant is None:
        return None
    required = renewal_notices(purpose, grant, decision.at)[-1]
    current = max(n.version for n in purpose.notices if n.published_at <= decision.at)
    return RenewalDue(
        person_id=decision.answered_for,
        purpose=purpose.code,
        channel=decision.channel,
        agreed_version=grant.notice_version,
        required_version=required.version,
        required_published_at=required.published_at,
        current_version=current,
        granted_at=grant.occurred_at,
        grant_event_id=grant.id,
    )


def due_list(decisions: Sequence[checks.ContactDecision], purpose: Purpose) -> list[RenewalDue]:
    """Every person due, once per merge group (its survivor), in person id order."""
    due = {}
    for decision in decisions:
        entry = renewal_due(decision, purpose)
        if entry is not None:
            due[entry.person_id] = entry
    return [due[p] for p in sorted(due)]


async def worklist(
    stores: Stores,
    *,
    purpose: str,
    channel: Channel,
    first: int,
    after: str | None,
    reader: Principal,
    now: datetime,
) -> Worklist:
    """A page of the worklist after the person id ``after`` (write transaction: the
    read is audited with it)."""
    if not 1 <= first <= MAX_PAGE:
        raise InvalidInput(f"first must be 1-{MAX_PAGE}.", field="first")
    if after is not None and not PERSON_ID.match(after):
        raise InvalidInput("after is not a person id.", field="after")
    found = await known_purpose(stores, purpose, field="purpose")
    if channel not in found.channels:
        raise InvalidInput(
            f"Purpose {found.code} does not use {channel.value}.",
            field="channel",
            details={"reason": "CHANNEL_NOT_COVERED"},
        )
    persons = await stores.consents.persons_of(found.code)
    decisions: list[checks.ContactDecision] = []
    for start in range(0, len(persons), checks.MAX_BATCH):
        decisions += await checks.contact_check(
            persons[start : start + checks.MAX_BATCH],
            stores,
            purpose=found.code,
            channel=channel,
            at=now,
        )
    due = due_list(decisions, found)
    rest = [e for e in due if after is None or e.person_id > after]
    page = tuple(rest[:first])
    scope = f"purpose {found.code} channel {channel.value}"
    await audit.audited_view(
        stores,
        reader=reader,
        operation=OPERATION,
        now=now,
        scope=f"{scope}: {len(page)} of {len(due)} listed",
    )
    if page:
        await audit.audited_reads(
            [e.person_id for e in page],
            stores,
            reader=reader,
            operation=OPERATION,
            scope=scope,
            now=now,
        )
    return Worklist(
        found.code, channel, now, reader.subject, len(due), page, has_next_page=len(rest) > first
    )
