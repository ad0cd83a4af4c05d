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


def test_the_expiry_job_runs_daily_at_its_hour_and_pages_by_cursor() -> None:
    from mdm_consent import tasks

    entry = tasks.celery.conf.beat_schedule["expiry"]
    assert entry["task"] == "consent.expiry_scheduled"
    assert {entry["task"], "consent.expiry_page"} <= set(tasks.celery.tasks)
    assert entry["schedule"] == crontab(hour=tasks.settings.expiry_hour_utc, minute=0)
