"""Source systems that may send records, and how much each is trusted."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from mdm_common.errors import InvalidInput

# Reserved: the source of values a data-subject rectification (GDPR Art. 16) set,
# one record per request (sourceId = the request's id); it wins survivorship for
# its field over every configured source (domain/rectification.py). No system may
# be configured under this name, so no import can send such records.
RECTIFICATION = "rectification"


@dataclass(frozen=True)
class SourceSystem:
    name: str
    priority: int  # 1 is the most trusted; used by the SOURCE_PRIORITY survivorship rule


class SourceRegistry:
    def __init__(self, priorities: Mapping[str, int]) -> None:
        if RECTIFICATION in priorities:
            raise ValueError(f"{RECTIFICATION!r} is reserved for rectified values")
        self._systems = {name: SourceSystem(name, p) for name, p in priorities.items()}

    def get(self, name: str) -> SourceSystem:
        try:
            return self._systems[name]
        except KeyError:
            known = ", ".join(sorted(self._systems))
            raise InvalidInput(
                f"Unknown source system '{name[:40]}'. Known: {known}.", field="source"
            ) from None

    def priority_of(self, name: str) -> int:
        system = self._systems.get(name)
        # A source removed from the configuration still ranks, below every known one.
        return system.priority if system else 1_000

    @property
    def names(self) -> list[str]:
        return sorted(self._systems)
