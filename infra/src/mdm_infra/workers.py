"""More workers of one queue, each a process of its own, as on more hosts.

Workers share nothing but the broker and the graph: a re-matching job's partitions
are one task each, taken by whichever worker is free, and the job's state (which
partition is scored, which merge step is done) lives in the graph. So N processes
here behave as N hosts would. Used by the fault test of a killed worker and by
``bench/rematch_workers.py``.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator, Mapping

from mdm_infra.components import worker_answers, worker_argv
from mdm_infra.config import PlatformConfig
from mdm_infra.process import ManagedProcess
from mdm_infra.supervision import MARKER_ENV


@contextlib.contextmanager
def extra_workers(
    config: PlatformConfig,
    service: str,
    count: int,
    *,
    env: Mapping[str, str] | None = None,
    timeout_s: float = 60,
) -> Iterator[list[ManagedProcess]]:
    """``count`` workers of ``service``'s queue (concurrency 1 each, unsupervised: a
    killed one stays dead), answering when the block starts and stopped after it.
    ``env``: settings of their own (e.g. a short visibility timeout)."""
    workers = []
    try:
        for n in range(count):
            node = f"{service}-extra{n + 1}"
            worker = ManagedProcess(
                node,
                worker_argv(config, service, node=node),
                config.log_dir / f"{node}.log",
                # The platform's marker: a run that dies leaves no orphan behind.
                env=config.service_env(service)
                | {MARKER_ENV: str(config.state_dir)}
                | dict(env or {}),
                cwd=config.state_dir,
            )
            worker.start()
            workers.append(worker)
        for worker in workers:
            worker.wait_ready(
                functools.partial(worker_answers, config, worker.name), timeout_s=timeout_s
            )
        yield workers
    finally:
        for worker in workers:
            worker.stop()
