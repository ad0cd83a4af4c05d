"""The retention job's schedule as Celery beat reads it (no broker needed)."""

from __future__ import annotations

from celery.schedules import crontab


def test_the_retention_job_runs_daily_at_the_configured_hour() -> None:
    from mdm_consent import tasks

    entry = tasks.celery.conf.beat_schedule["retention"]
    assert entry["task"] == "consent.retention_scheduled"
    assert entry["task"] in tasks.celery.tasks
    assert entry["schedule"] == crontab(hour=tasks.settings.retention_hour_utc, minute=0)
    assert tasks.celery.conf.timezone == "UTC"
