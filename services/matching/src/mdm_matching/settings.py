from __future__ import annotations

from datetime import timedelta

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from mdm_common.settings import ServiceSettings
from mdm_matching.domain.batch_model import ModelRule
from mdm_matching.domain.engine.blocking import DEFAULT_MAX_BLOCK, DEFAULT_MAX_CANDIDATES
from mdm_matching.domain.online import Policy


class MatchingSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="MATCHING_", extra="ignore", frozen=True)

    service_name: str = "matching"
    graph_database: str = "matching"

    # The profile subgraph (called directly, signed with the gateway secret).
    profile_url: str = "http://127.0.0.1:4001/graphql"

    # Match probability at or above which a pair is merged automatically, and at or
    # above which (below the first) a steward reviews it.
    auto_merge_at: float = Field(default=0.99, gt=0, le=1)
    review_at: float = Field(default=0.5, gt=0, le=1)
    # Blocking keys shared by more records than this are too common to compare on.
    max_block: int = Field(default=DEFAULT_MAX_BLOCK, ge=2)
    # Online, a newcomer is scored against this many candidates at most: those
    # sharing the rarest keys with it.
    max_candidates: int = Field(default=DEFAULT_MAX_CANDIDATES, ge=1)
    # Person events a matching task handles in one pass: its own and those waiting
    # behind it in the queue (1: one person a task).
    online_batch: int = Field(default=50, ge=1)
    # Merge events a pass takes into account besides those: all of them in a few
    # statements and one profile read (a batch job's merges come hundreds a second).
    merge_events_per_pass: int = Field(default=500, ge=1)
    # Merges a batch re-matching task applies before it queues the rest and lets the
    # online matching events waiting behind it go first (a few seconds' worth: the
    # slices of a task overlap, one settling while the next merges).
    rematch_merges_per_task: int = Field(default=1000, ge=1)
    # A batch re-matching job trains the model first unless the current one was
    # trained at most this many hours ago on about as many profiles (domain/batch_model.py).
    rematch_model_max_age_hours: float = Field(default=7 * 24, gt=0)
    rematch_model_max_change: float = Field(default=0.1, ge=0)

    @property
    def model_rule(self) -> ModelRule:
        return ModelRule(
            max_age=timedelta(hours=self.rematch_model_max_age_hours),
            max_change=self.rematch_model_max_change,
        )

    @property
    def policy(self) -> Policy:
        return Policy(auto_merge_at=self.auto_merge_at, review_at=self.review_at,
                      max_block=self.max_block, max_candidates=self.max_candidates)  # fmt: skip
