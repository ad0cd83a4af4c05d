"""An event recorder for use-case tests: what a use case announced, in order."""

from __future__ import annotations


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, str]]] = []

    def record(self, event: str, **ids: str) -> None:
        self.events.append((event, ids))
