"""Which model a batch job decides with: train first, or keep the current one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from mdm_matching.domain.batch_model import ModelRule, kept_reason, training_reason
from mdm_matching.domain.engine.model import Parameters, default_parameters

NOW = datetime(2026, 12, 6, 12, tzinfo=UTC)
RULE = ModelRule(max_age=timedelta(days=7), max_change=0.1)


def trained(*, days_ago: float, subjects: int) -> Parameters:
    parameters = default_parameters()
    parameters.version = "v1"
    parameters.trained_at = (NOW - timedelta(days=days_ago)).isoformat()
    parameters.trained_on_subjects = subjects
    return parameters


class TestTrainingReason:
    def test_no_model_means_training(self) -> None:
        assert training_reason(None, subjects=100, now=NOW, rule=RULE) is not None

    def test_the_defaults_are_no_trained_model(self) -> None:
        reason = training_reason(default_parameters(), subjects=100, now=NOW, rule=RULE)
        assert reason is not None
        assert "no trained model" in reason

    def test_a_recent_model_on_about_as_many_profiles_decides(self) -> None:
        current = trained(days_ago=2, subjects=1000)
        assert training_reason(current, subjects=1080, now=NOW, rule=RULE) is None
        assert "1000 profiles (1080 now)" in kept_reason(current, subjects=1080)

    def test_an_old_model_is_trained_again(self) -> None:
        reason = training_reason(
            trained(days_ago=8, subjects=1000), subjects=1000, now=NOW, rule=RULE
        )
        assert reason is not None
        assert "longer ago" in reason

    @pytest.mark.parametrize("subjects", [880, 1120])
    def test_a_base_that_changed_much_trains_again(self, subjects: int) -> None:
        reason = training_reason(
            trained(days_ago=1, subjects=1000), subjects=subjects, now=NOW, rule=RULE
        )
        assert reason is not None
        assert "changed by 12%" in reason

    def test_the_rule_is_checked(self) -> None:
        with pytest.raises(ValueError, match="positive"):
            ModelRule(max_age=timedelta(0))
