"""The re-consent worklist: entries from the contact check's RENEWAL_REQUIRED answers."""

from __future__ import annotations

import csv
import io
from dataclasses import replace

from mdm_consent.domain.checks import ContactDecision
from mdm_consent.domain.models import Channel, EventType, LegalBasis
from mdm_consent.domain.reconsent import CSV_COLUMNS, Worklist, due_list, renewal_due
from mdm_consent.domain.rules import Reason, Verdict, decide

from .facts import NEWSLETTER, at, fact, notice

DAY = 24 * 60
# v2 editorial, v3 material (day 10), v4 editorial (day 20)
PURPOSE = replace(
    NEWSLETTER,
    notices=(
        notice(1),
        notice(2, at=at(5 * DAY)),
        notice(3, material=True, at=at(10 * DAY)),
        notice(4, at=at(20 * DAY)),
    ),
)


def decision(
    person: str, *facts_: object, survivor: str | None = None, minutes: float = 30 * DAY
) -> ContactDecision:
    verdict = decide(PURPOSE, Channel.EMAIL, facts_, at(minutes))  # type: ignore[arg-type]
    return ContactDecision(
        person, PURPOSE.code, Channel.EMAIL, at(minutes), verdict, survivor or person
    )


class TestRenewalDue:
    def test_names_the_agreed_the_required_and_the_current_version(self) -> None:
        grant = fact(EventType.GRANTED, notice_version=2)
        entry = renewal_due(decision("p1", grant), PURPOSE)
        assert entry is not None
        assert (
            entry.person_id,
            entry.agreed_version,
            entry.required_version,
            entry.current_version,
        ) == ("p1", 2, 3, 4)
        assert entry.required_published_at == at(10 * DAY)
        assert (entry.granted_at, entry.grant_event_id) == (grant.occurred_at, grant.id)

    def test_other_answers_are_not_on_the_list(self) -> None:
        current = fact(EventType.GRANTED, 11 * DAY, notice_version=3)
        assert renewal_due(decision("p1", current), PURPOSE) is None
        assert renewal_due(decision("p2"), PURPOSE) is None  # NO_CONSENT
        withdrawn = (fact(EventType.GRANTED), fact(EventType.WITHDRAWN, DAY, channel=None))
        assert renewal_due(decision("p3", *withdrawn), PURPOSE) is None

    def test_before_the_material_version_nobody_is_due(self) -> None:
        grant = fact(EventType.GRANTED)
        assert renewal_due(decision("p1", grant, minutes=9 * DAY), PURPOSE) is None

    def test_a_renewal_answer_for_another_basis_is_listed_too(self) -> None:
        offers = replace(PURPOSE, legal_basis=LegalBasis.LEGITIMATE_INTEREST)
        grant = fact(EventType.GRANTED, channel=Channel.PHONE)
        verdict = decide(offers, Channel.PHONE, [grant], at(30 * DAY))
        answer = ContactDecision("p1", offers.code, Channel.PHONE, at(30 * DAY), verdict, "p1")
        assert verdict.reason is Reason.RENEWAL_REQUIRED
        assert renewal_due(answer, offers) is not None


class TestDueList:
    def test_a_merge_group_once_by_its_survivor_in_id_order(self) -> None:
        grant = fact(EventType.GRANTED)
        found = due_list(
            [
                decision("p9", grant),
                decision("p2", grant, survivor="p1"),
                decision("p1", grant),
                decision("p5"),
            ],
            PURPOSE,
        )
        assert [e.person_id for e in found] == ["p1", "p9"]

    def test_the_csv_has_a_header_and_one_row_per_entry(self) -> None:
        grant = fact(EventType.GRANTED)
        entries = tuple(due_list([decision("p1", grant), decision("p2", grant)], PURPOSE))
        page = Worklist(PURPOSE.code, Channel.EMAIL, at(30 * DAY), "officer", 2, entries, False)
        assert page.csv.count("\r\n") == 3
        rows = list(csv.DictReader(io.StringIO(page.csv)))
        assert tuple(rows[0]) == CSV_COLUMNS
        assert [(r["person_id"], r["agreed_version"], r["required_version"]) for r in rows] == [
            ("p1", "1", "3"),
            ("p2", "1", "3"),
        ]
        assert page.end_cursor == "p2"

    def test_the_deciding_verdict_is_required(self) -> None:
        empty = ContactDecision(
            "p1", PURPOSE.code, Channel.EMAIL, at(0), Verdict(False, Reason.RENEWAL_REQUIRED), "p1"
        )
        assert renewal_due(empty, PURPOSE) is None
