"""The data-quality report of one source record."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Severity(StrEnum):
    INFO = "INFO"  # nothing wrong, worth knowing (e.g. a value the source did not send)
    WARNING = "WARNING"  # usable, but not trustworthy for 1:1 marketing as it is
    ERROR = "ERROR"  # the record cannot identify anybody: it is refused


@dataclass(frozen=True)
class Fix:
    """Something normalisation changed. ``code`` is stable; ``detail`` never holds personal data."""

    field: str
    code: str
    detail: str = ""


@dataclass(frozen=True)
class Issue:
    field: str
    code: str
    severity: Severity
    detail: str = ""


@dataclass
class QualityReport:
    fixes: list[Fix] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)

    def fix(self, field_name: str, code: str, detail: str = "") -> None:
        self.fixes.append(Fix(field_name, code, detail))

    def issue(self, field_name: str, code: str, severity: Severity, detail: str = "") -> None:
        self.issues.append(Issue(field_name, code, severity, detail))

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.severity is Severity.ERROR]
