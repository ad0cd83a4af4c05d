"""A dead letter that cannot be recorded is logged, and the worker goes on."""

from __future__ import annotations

import logging
import time

import pytest

from mdm_common.dead_letters import record_dead_letter
from mdm_common.events import make_celery
from mdm_infra.ports import free_port


@pytest.mark.parametrize("scheme", ["redis://127.0.0.1:{}/0", "amqp://guest:guest@127.0.0.1:{}//"])
def test_an_unreachable_broker_is_logged_not_raised(
    scheme: str, caplog: pytest.LogCaptureFixture
) -> None:
    app = make_celery("test", scheme.format(free_port()))  # nothing listens there
    started = time.monotonic()
    with caplog.at_level(logging.ERROR, logger="mdm_common.dead_letters"):
        record_dead_letter(app, task="consent.on_person_merged", task_id="t-1", error="TypeError")
    assert time.monotonic() - started < 5
    assert "could not record dead letter for consent.on_person_merged" in caplog.text
    app.close()
