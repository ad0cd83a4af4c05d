"""Which model a batch re-matching job scores with: the rule, without I/O.

A job over the whole base must not decide with the untrained defaults, nor pay
for a training when the current model still describes the data. It trains first
unless the current model was trained (or recalibrated from one trained) recently
enough on about as many profiles as there are now:

- there is no trained model (only the defaults);
- the model was trained longer ago than ``max_age``;
- the number of profiles changed by more than ``max_change`` (a share) since:
  m, u and the name frequencies follow the data, and a base that grew by a tenth
  has new names, new sources and new kinds of dirt.

The job records the model version that decided and why (``RematchJob.model_reason``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from mdm_matching.domain.engine.model import Parameters


@dataclass(frozen=True)
class ModelRule:
    max_age: timedelta = timedelta(days=7)
    max_change: float = 0.1

    def __post_init__(self) -> None:
        if self.max_age <= timedelta(0) or not self.max_change >= 0:
            raise ValueError("max_age must be positive and max_change not negative")


def training_reason(
    current: Parameters | None, *, subjects: int, now: datetime, rule: ModelRule
) -> str | None:
    """Why the job must train first; None when the current model may decide."""
    if current is None or current.trained_at is None or not current.trained_on_subjects:
        return "no trained model: the job trains one first"
    trained_at = datetime.fromisoformat(current.trained_at)
    if now - trained_at > rule.max_age:
        return f"the model was trained at {current.trained_at}, longer ago than {rule.max_age}"
    change = abs(subjects - current.trained_on_subjects) / current.trained_on_subjects
    if change > rule.max_change:
        return (
            f"the model was trained on {current.trained_on_subjects} profiles, there are "
            f"{subjects} now (changed by {change:.0%}, more than {rule.max_change:.0%})"
        )
    return None


def kept_reason(current: Parameters, *, subjects: int) -> str:
    """Why the current model decides."""
    return (
        f"the current model, trained at {current.trained_at} on "
        f"{current.trained_on_subjects} profiles ({subjects} now)"
    )
