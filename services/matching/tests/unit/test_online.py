"""The thresholds a model carries, and the scorer of a pinned model version."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

import pytest

from mdm_common.errors import Conflict
from mdm_matching.domain.engine.model import Parameters, Score, default_parameters
from mdm_matching.domain.online import Policy, ScorerCache


def model(version: str, *, review_at: float | None = None, auto: float | None = None) -> Parameters:
    parameters = default_parameters()
    parameters.version, parameters.review_at, parameters.auto_merge_at = version, review_at, auto
    return parameters


class TestPolicyForModel:
    def test_a_calibrated_model_brings_its_thresholds(self) -> None:
        found = Policy(auto_merge_at=0.99, review_at=0.5, max_candidates=7).for_model(
            model("v", review_at=0.6, auto=0.97)
        )
        assert (found.review_at, found.auto_merge_at, found.max_candidates) == (0.6, 0.97, 7)

    def test_a_model_without_thresholds_keeps_the_settings(self) -> None:
        found = Policy(auto_merge_at=0.98, review_at=0.4).for_model(model("v"))
        assert (found.review_at, found.auto_merge_at) == (0.4, 0.98)

    def test_a_calibrated_model_brings_its_unreviewed_guards(self) -> None:
        calibrated = model("v")
        calibrated.unreviewed_guards = ("given names differ",)
        found = Policy().for_model(calibrated)
        assert found.unreviewed_guards == {"given names differ"}
        stored = Parameters.from_json(calibrated.to_json())
        assert stored.unreviewed_guards == ("given names differ",)
        assert Policy().for_model(model("v")).unreviewed_guards == frozenset()


def score(probability: float, *conflicts: str) -> Score:
    return Score("a", "b", 0.0, probability, (), conflicts)


class TestWorthReview:
    policy = Policy(review_at=0.5, unreviewed_guards=frozenset({"given names differ"}))

    @pytest.mark.parametrize(
        ("found", "expected"),
        [
            (score(0.7), True),  # uncertain
            (score(0.3), False),  # below the review threshold
            (score(0.995, "birth dates differ"), True),  # one guard holds a likely pair back
            (score(0.995, "given names differ"), False),  # ... but not one no longer reviewed
            (score(0.995, "birth dates differ", "given names differ"), False),  # two guards
        ],
    )
    def test_which_pairs_a_steward_sees(self, found: Score, expected: bool) -> None:
        assert self.policy.worth_review(found) is expected


@dataclass
class Models:
    current: Parameters | None
    versions: dict[str, Parameters] = field(default_factory=dict)
    loads: int = 0

    async def model_version(self) -> str | None:
        return self.current.version if self.current else None

    async def load_model(self) -> Parameters | None:
        self.loads += 1
        return self.current

    async def load_model_version(self, version: str) -> Parameters | None:
        self.loads += 1
        return self.versions.get(version)

    async def save_model(self, parameters: Parameters, *, at: datetime) -> None:
        raise NotImplementedError


class TestScorerOfVersion:
    async def test_a_pinned_version_outlives_a_newer_current_one(self) -> None:
        pinned = model("v1")
        models = Models(current=model("v2"), versions={"v1": pinned})
        cache = ScorerCache()
        subjects = cast("Any", models)  # the store methods the cache calls
        assert (await cache.of_version(subjects, "v1")).parameters is pinned
        assert (await cache.of_version(subjects, None)).parameters.version == "v2"
        loads = models.loads
        await cache.of_version(subjects, "v1")
        assert models.loads == loads  # cached

    async def test_an_unknown_version_is_a_conflict(self) -> None:
        with pytest.raises(Conflict):
            await ScorerCache().of_version(cast("Any", Models(current=None)), "gone")
