"""The training use case (``domain/training.py``): what a retrained model keeps."""

from __future__ import annotations

from datetime import UTC, datetime

from mdm_matching.domain.engine.features import make_record
from mdm_matching.domain.engine.model import default_parameters
from mdm_matching.domain.training import train_on

NOW = datetime(2026, 12, 6, 12, tzinfo=UTC)
RECORDS = [
    make_record(f"p{n}", given=given, family="Kesselring", birth=f"19{50 + n % 40}-03-0{1 + n % 9}")
    for n, given in enumerate(["Anna", "Peter", "Ursula", "Thomas"] * 5)
]


def test_a_retrained_model_keeps_what_an_admin_calibrated() -> None:
    calibrated = default_parameters()
    calibrated.review_at, calibrated.auto_merge_at = 0.6, 0.98
    calibrated.unreviewed_guards = ("given names differ",)
    parameters, _ = train_on(
        RECORDS, max_block=200, version="v2", now=NOW, keep_thresholds_of=calibrated
    )
    assert (parameters.version, parameters.trained_on_subjects) == ("v2", len(RECORDS))
    assert (parameters.review_at, parameters.auto_merge_at) == (0.6, 0.98)
    assert parameters.unreviewed_guards == ("given names differ",)


def test_a_first_model_has_no_calibration_of_its_own() -> None:
    parameters, _ = train_on(RECORDS, max_block=200, version="v1", now=NOW)
    assert (parameters.review_at, parameters.auto_merge_at) == (None, None)
    assert parameters.unreviewed_guards == ()
