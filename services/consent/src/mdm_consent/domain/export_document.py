"""What an access export says beside the items (GDPR Art. 15(1)(c), (d), (g), (h)).

The items are what each service holds (:mod:`mdm_consent.domain.fulfilment`). This
module derives the rest of what Art. 15 asks for from them, without asking any
service again:

- **recipients** (Art. 15(1)(c)) and transfers (Art. 15(2)) as
  :mod:`mdm_consent.domain.export_recipients` finds them, as CSV rows;
- **retention per data category** (Art. 15(1)(d)): per category the purposes that
  bind it and the longest retention among them, or the criteria that decide how long
  it is kept;
- **the source of each item** (Art. 15(1)(g)) where the item does not name one but
  the platform knows where it came from;
- **why records were joined** (:mod:`mdm_consent.domain.merge_accounts`) as CSV
  rows beside the items.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mdm_common.contracts import DataCategory
from mdm_consent.domain.export_recipients import Recipients
from mdm_consent.domain.merge_accounts import MergeAccount

if TYPE_CHECKING:
    from mdm_consent.domain.fulfilment import Held

PROFILE = "profile"
MATCHING = "matching"
CONSENT = "consent"
DISTRIBUTION = "distribution"
# The service column of the rows this module adds to a CSV export: derived by the
# export, not held by any service.
EXPORT = "export"


# ------------------------------------------------------------------------ sources

# Where an item comes from when it names no source system: the service that made it
# (Art. 15(1)(g) asks for any available information on the source).
_MADE_BY = {
    (MATCHING, "subject"): "profile",  # matching's copy of the golden values
    (MATCHING, "reviewTask"): "matching",
    (MATCHING, "decision"): "matching",
    (MATCHING, "rematchProposal"): "matching",
    (MATCHING, "rematchStep"): "matching",
    (MATCHING, "erasure"): "matching",
    (DISTRIBUTION, "recipient"): "distribution",
    (DISTRIBUTION, "distributionState"): "distribution",
    (PROFILE, "household"): "profile",
    (PROFILE, "company"): "profile",
    (PROFILE, "relation"): "profile",
    (PROFILE, "merge"): "profile",
    (CONSENT, "readAudit"): "consent read audit",
}


def source_of(held: Held) -> str | None:
    """The item's source system, else the service that made it, else the person (for a
    request: how it was received); ``None`` only where the platform does not know it
    (a golden value kept from before lineage was recorded)."""
    item = held.item
    if item.source:
        return item.source
    if (held.service, item.origin) == (CONSENT, "request"):
        via = _json(item.value).get("receivedVia")
        return f"the data subject ({via})" if via else "the data subject"
    return _MADE_BY.get((held.service, item.origin))


# ------------------------------------------------------------------------- rights

# Art. 15(1)(e), (f): the rights the person has, stated in every export.
RIGHTS: tuple[dict[str, str], ...] = (
    {"article": "GDPR Art. 16", "right": "to have inaccurate data rectified"},
    {"article": "GDPR Art. 17", "right": "to have the data erased"},
    {"article": "GDPR Art. 18", "right": "to have processing restricted"},
    {
        "article": "GDPR Art. 21",
        "right": "to object to processing on legitimate interest "
        "or public task, and at any time to direct marketing",
    },
    {"article": "GDPR Art. 77", "right": "to lodge a complaint with a supervisory authority"},
)


# ---------------------------------------------------------------------- retention


@dataclass(frozen=True)
class CategoryRetention:
    """Art. 15(1)(d): how long one data category is kept, and why."""

    category: str
    purposes: tuple[str, ...]
    retention_days: int | None
    criteria: str

    def document(self) -> dict[str, Any]:
        return {
            "category": self.category,
            "purposes": list(self.purposes),
            "retentionDays": self.retention_days,
            "criteria": self.criteria,
        }


PURPOSE_BOUND = (
    "Kept while a purpose that applies to the person and uses this category is in use. "
    "Each purpose's retention period runs from the person's latest consent event for "
    "it; once every purpose that applies has lapsed (withdrawn, expired, objected to or "
    "its retention over), the values are removed."
)
UNBOUND = (
    "No purpose that applies to the person uses this category; it is kept until the "
    "person asks for its erasure (Art. 17)."
)
_CRITERIA = {
    DataCategory.IDENTIFIERS: "Customer numbers, loyalty cards, tax and national ids: kept "
    "while the profile exists; the retention job does not remove them (it removes the "
    "six attribute categories), erasure does (Art. 17).",
    DataCategory.SOURCE_RECORD: "Which system sent which record: kept while the profile "
    "exists; the attribute values in a record are removed with their category. On "
    "erasure the records are deleted and only keyed hashes stay, so that the person is "
    "not imported again.",
    DataCategory.RELATIONSHIPS: "Households, employers, relations and merges: kept while "
    "the profile exists. On erasure only the ids, times and actors of merges stay, as "
    "the record of what was done (Art. 5(2)).",
    DataCategory.MATCHING: "Matching's copy of the compared values follows the profile: "
    "refreshed when it changes, deleted on erasure. Decisions on pairs stay as the "
    "audit trail, without notes (Art. 5(2)).",
    DataCategory.DISTRIBUTION: "Which subscribed systems were sent the person's data and "
    "when: ids and times, kept as the record of whom an erasure or a lapsed purpose was "
    "told (Art. 19). Digests of the values last sent (not the values) are kept while the "
    "person is distributed and removed on erasure.",
    DataCategory.CONSENT: "Consent events are kept as proof of consent (Art. 7(1)) for "
    "as long as it may have to be shown, and are pseudonymised on erasure (Art. "
    "17(3)(e)); requests and the read audit are kept as the record that they were "
    "handled (Art. 5(2)).",
}
_ORDER = {c: n for n, c in enumerate((*DataCategory.ATTRIBUTES, *_CRITERIA))}


def retention(rows: Sequence[dict[str, Any]], days: dict[str, int]) -> list[CategoryRetention]:
    """Per category held: the purposes binding it (as the items name them), the longest
    retention among them (``days`` per purpose code), and the criteria."""
    bound: dict[str, set[str]] = {}
    for row in rows:
        bound.setdefault(row["category"], set()).update(row["purposes"])
    found = []
    for category in sorted(bound, key=lambda c: (_ORDER.get(c, len(_ORDER)), c)):
        codes = tuple(sorted(bound[category]))
        criteria = _CRITERIA.get(category) or (PURPOSE_BOUND if codes else UNBOUND)
        longest = max((days[c] for c in codes if c in days), default=None)
        found.append(CategoryRetention(category, codes, longest, criteria))
    return found


# ----------------------------------------------------------------------- the rows


def csv_rows(
    person_id: str,
    *,
    accounts: Sequence[MergeAccount],
    sent_to: Recipients,
    kept: Sequence[CategoryRetention],
) -> list[dict[str, Any]]:
    """The merges, recipients and retention as CSV rows (service ``export``)."""

    def row(origin: str, category: str, field: str, value: str, **more: Any) -> dict[str, Any]:
        base = dict.fromkeys(("source", "sourceId", "recordedAt", "retentionDays"))
        return {
            "service": EXPORT,
            "personId": person_id,
            "origin": origin,
            "category": category,
            "field": field,
            "value": value,
            "purposes": [],
            **base,
            **more,
        }

    rows = [
        row(
            "mergeEvidence",
            DataCategory.RELATIONSHIPS,
            "merge",
            m.in_words,
            personId=m.survivor_id or person_id,
            source=MATCHING if m.comparisons else PROFILE,
            sourceId=m.merge_id,
            recordedAt=m.at.isoformat() if m.at else None,
        )
        for m in accounts
    ]
    for entry in sent_to.document():
        names = [_recipient_text(r) for r in entry["recipients"]]
        value = "; ".join(names) if names else entry["description"]
        rows.append(row("recipients", "", entry["category"], value))
    rows += [
        row(
            "transfer",
            "",
            t.country,
            f"{t.recipient} ({t.safeguard}, {t.document_ref})",
            purposes=list(t.purposes),
        )
        for t in sent_to.transfers
    ]
    rows += [
        row(
            "retention",
            k.category,
            "retention",
            k.criteria,
            purposes=list(k.purposes),
            retentionDays=k.retention_days,
        )
        for k in kept
    ]
    return rows


def _json(value: str) -> dict[str, Any]:
    try:
        found = json.loads(value)
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}


def _recipient_text(recipient: str | dict[str, Any]) -> str:
    if isinstance(recipient, str):  # a source system
        return recipient
    if "reader" in recipient:
        return str(recipient["reader"])
    if "subscriberId" in recipient:  # a subscriber of the change stream
        told = [f"for {recipient.get('purpose')}", f"first sent {recipient.get('firstSentAt')}"]
        if recipient.get("stoppedAt"):
            told.append(f"told to stop {recipient['stoppedAt']} ({recipient.get('stopReason')})")
        if recipient.get("erasureNotifiedAt"):
            told.append(f"told of the erasure {recipient['erasureNotifiedAt']}")
        return f"{recipient['name']} ({', '.join(told)})"
    return f"{recipient['name']} ({recipient['kind']}, {recipient['country']})"
