"""Compliance views as documents: a person's consent history with the exact notice
texts (Markdown, printable). The records of processing are in domain/processing_report.py.

Rendering is pure; the use cases read inside a (write) transaction the caller owns,
because every read is audited in the same transaction.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from mdm_common.auth import Principal
from mdm_consent.domain import audit
from mdm_consent.domain.models import ConsentEvent, NoticeVersion, Purpose
from mdm_consent.domain.stores import Stores

MEDIA_TYPE = "text/markdown"


@dataclass(frozen=True)
class HistoryDocument:
    person_id: str
    generated_at: datetime
    generated_by: str
    text: str
    media_type: str = MEDIA_TYPE


async def history_document(
    person_id: str, stores: Stores, *, reader: Principal, now: datetime
) -> HistoryDocument:
    events = await audit.read_history_document(person_id, stores, reader=reader, now=now)
    purposes: dict[str, Purpose] = {}
    for code in sorted({e.purpose for e in events if e.purpose}):
        found = await stores.purposes.get(code, texts=True)
        if found is not None:
            purposes[code] = found
    text = render_history(person_id, events, purposes, reader=reader.subject, now=now)
    return HistoryDocument(person_id, now, reader.subject, text)


def _time(t: datetime) -> str:
    return t.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _fenced(text: str) -> str:
    """The text verbatim in a code block whose fence no backtick run in it can close."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}text\n{text}\n{fence}"


def render_history(
    person_id: str, events: Sequence[ConsentEvent], purposes: dict[str, Purpose], *,
    reader: str, now: datetime,
) -> str:  # fmt: skip
    """The printable history: every event oldest first with its proof, then each notice
    version referred to, once, with its hash and its full text."""
    ordered = sorted(events, key=lambda e: (e.occurred_at, e.recorded_at, e.id))
    others = sorted({e.person_id for e in ordered} - {person_id})
    lines = [
        f"# Consent history of person {person_id}",
        "",
        f"Generated at {_time(now)} by {reader} (consent service). Times in UTC, events in "
        f"the order they occurred: {len(ordered)}.",
    ]
    if others:
        lines.append(f"Includes the events of merged persons: {', '.join(others)} (each event "
                     "names the person it was recorded for).")  # fmt: skip
    lines += ["", "## Events", ""]
    if not ordered:
        lines += ["No consent events are recorded for this person.", ""]
    notices: dict[tuple[str, int], NoticeVersion | None] = {}
    for number, e in enumerate(ordered, start=1):
        purpose = purposes.get(e.purpose) if e.purpose else None
        lines += [f"### {number}. {e.type.value}, {_time(e.occurred_at)}", ""]
        rows: list[tuple[str, str | None]] = [
            ("Event id", e.id),
            ("Person", e.person_id),
            ("Purpose", f"{e.purpose} ({purpose.name})" if purpose else e.purpose),
            ("Channel", e.channel.value if e.channel else None),
            ("Occurred at", _time(e.occurred_at)),
            ("Recorded at", f"{_time(e.recorded_at)} by {e.recorded_by}"),
            ("Actor", e.actor.value + (f" (staff id {e.staff_id})" if e.staff_id else "")),
            ("Method", e.method.value),
            ("Collection point", e.collection_point),
            ("Language", e.language),
            ("Evidence reference", e.evidence_ref),
            ("Confirms event", e.confirms),
            ("Birth date", e.birth_date.isoformat() if e.birth_date else None),
            ("Product category", e.product_category),
            ("Imported", _imported(e)),
        ]
        if e.notice_version is not None and e.purpose:
            notice = purpose.notice(e.notice_version) if purpose else None
            notices.setdefault((e.purpose, e.notice_version), notice)
            rows.append(("Notice", f"version {e.notice_version}, SHA-256 {e.notice_sha256} "
                                   "(full text below)"))  # fmt: skip
        lines += [f"- {label}: {value}" for label, value in rows if value is not None]
        lines.append("")
    lines += ["## Notice texts referred to", ""]
    if not notices:
        lines += ["None.", ""]
    for (code, version), notice in sorted(notices.items()):
        lines.append(f"### {code}, version {version}")
        lines.append("")
        if notice is None or notice.text is None:
            lines += ["The text of this version is not in the registry.", ""]
            continue
        verified = NoticeVersion.hash_of(notice.text) == notice.sha256
        lines += [
            f"- Language: {notice.language}",
            f"- Published at: {_time(notice.published_at)} by {notice.published_by}",
            f"- Material: {'yes' if notice.material else 'no'}",
            f"- SHA-256: {notice.sha256} ({'matches' if verified else 'DOES NOT MATCH'} "
            "the text below, UTF-8)",
            "",
            _fenced(notice.text),
            "",
        ]
    return "\n".join(lines)


def _imported(e: ConsentEvent) -> str | None:
    if e.imported is None:
        return None
    x = e.imported
    return (
        f"from {x.source} (reference {x.reference}, document SHA-256 {x.document_sha256}) "
        f"at {_time(x.imported_at)} by {x.imported_by}"
    )
