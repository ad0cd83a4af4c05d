"""Match subjects and candidates (the foundation slice: registration only).

A person becomes a match subject when the profile service announces it. Candidate
generation and scoring come with the matching issue; until then a subject has no
candidates, and the API says so truthfully instead of inventing any.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class MatchSubject:
    person_id: str
    registered_at: datetime
    merged_into: str | None = None


@dataclass(frozen=True)
class MatchCandidate:
    person_id: str
    candidate_id: str
    score: float
