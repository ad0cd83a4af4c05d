"""Matching events waiting in the matching queue, taken by the task that runs now
(:mod:`mdm_common.waiting_events`): persons and companies created or changed, to match,
and the merges among them, taken into account in their place.

A pass takes up to a limit of persons and companies to match, and merges up to a limit
of their own (``apart_limit``): taking a merge into account costs a fraction of
matching.
"""

from __future__ import annotations

from celery import Celery

from mdm_common.waiting_events import WaitingEvents

# Tasks whose messages can join a pass, with the ids each message carries: a person
# or company to match, or a merge to take into account (in its place among the others).
MATCH_EVENTS = frozenset({"matching.on_person_created", "matching.on_person_updated"})
MERGE_EVENT = "matching.on_person_merged"
COMPANY_EVENT = "matching.on_company_changed"
COMPANY_MERGE_EVENT = "matching.on_company_merged"
MATCHING_EVENTS = {
    **dict.fromkeys(MATCH_EVENTS, ("person_id",)),
    MERGE_EVENT: ("survivor_id", "merged_id", "merge_id"),
    COMPANY_EVENT: ("company_id",),
    COMPANY_MERGE_EVENT: ("survivor_id", "merged_id", "merge_id"),
}


def matching_events(celery: Celery, queue: str) -> WaitingEvents:
    """The matching queue's person and company events; merges count against
    ``apart_limit``."""
    return WaitingEvents(
        celery, queue, MATCHING_EVENTS, apart=frozenset({MERGE_EVENT, COMPANY_MERGE_EVENT})
    )
