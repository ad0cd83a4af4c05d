"""A model's parameters: m and u per comparison level, the prior, name frequencies.

Plain data, serialisable as JSON; how they are found is ``learning.py``, how a
pair is scored with them ``model.py``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from mdm_matching.domain.engine.comparisons import COMPARISONS
from mdm_matching.domain.engine.features import MatchRecord

EPSILON = 1e-5
# A name the trained model keeps a frequency for is carried by at least this many
# persons (k-anonymity): the model then names nobody, and erasing a person need not
# touch it. Rarer names share one frequency per attribute, the mean frequency of the
# rare names (an aggregate that names nobody either): most family names in a
# customer base are rare, and the level's u, dominated by "Müller" and "Schmidt",
# would understate two "Przybylski" agreeing by several bits.
MIN_TF_PERSONS = 5


def _initial_m(levels: int) -> list[float]:
    """A starting point for EM: duplicates mostly agree exactly."""
    shape = [0.80, 0.10, 0.05, 0.03, 0.02][:levels]
    total = sum(shape)
    return [v / total for v in shape]


@dataclass
class Parameters:
    """A trained (or default) model. Serialisable as plain JSON."""

    prior: float  # probability that two random records are duplicates
    m: list[list[float]]
    u: list[list[float]]
    # Relative frequency of each folded given / family name among all records.
    tf: dict[str, dict[str, float]] = field(default_factory=dict)
    # Per attribute: the frequency of a name not in ``tf`` (carried by fewer than
    # MIN_TF_PERSONS persons, or unseen when the model was trained).
    rare_tf: dict[str, float] = field(default_factory=dict)
    trained_on_pairs: int = 0
    iterations: int = 0
    version: str = "default"  # set when stored: when it was trained
    # Thresholds an admin calibrated on stewards' decisions for this model (None: the
    # deployment's settings apply); see domain/calibration.py.
    review_at: float | None = None
    auto_merge_at: float | None = None
    trained_on_subjects: int = 0  # profiles the model was trained on
    trained_at: str | None = None  # ISO time of the training (recalibration keeps it)
    # Identity guards an admin stopped asking stewards about, because their decisions
    # showed the guard right (``recalibration.recalibrate``): a pair that one of these
    # alone holds back is no review task. Sorted, each once.
    unreviewed_guards: tuple[str, ...] = ()

    def to_json(self) -> dict[str, object]:
        return {
            "prior": self.prior,
            "comparisons": [c.name for c in COMPARISONS],
            "m": self.m,
            "u": self.u,
            "tf": self.tf,
            "rareTf": self.rare_tf,
            "trainedOnPairs": self.trained_on_pairs,
            "iterations": self.iterations,
            "version": self.version,
            "reviewAt": self.review_at,
            "autoMergeAt": self.auto_merge_at,
            "trainedOnSubjects": self.trained_on_subjects,
            "trainedAt": self.trained_at,
            "unreviewedGuards": list(self.unreviewed_guards),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> Parameters:
        m, u = _rows_by_comparison(data)
        return cls(
            prior=float(data["prior"]),  # type: ignore[arg-type]
            m=m,
            u=u,
            tf={k: dict(v) for k, v in data.get("tf", {}).items()},  # type: ignore[attr-defined]
            rare_tf={k: float(v) for k, v in data.get("rareTf", {}).items()},  # type: ignore[attr-defined]
            trained_on_pairs=int(data.get("trainedOnPairs", 0)),  # type: ignore[call-overload]
            iterations=int(data.get("iterations", 0)),  # type: ignore[call-overload]
            version=str(data.get("version", "default")),
            review_at=_optional_float(data.get("reviewAt")),
            auto_merge_at=_optional_float(data.get("autoMergeAt")),
            trained_on_subjects=int(data.get("trainedOnSubjects", 0)),  # type: ignore[call-overload]
            trained_at=str(data["trainedAt"]) if data.get("trainedAt") else None,
            unreviewed_guards=tuple(str(g) for g in data.get("unreviewedGuards") or ()),  # type: ignore[attr-defined]
        )


def _rows_by_comparison(data: Mapping[str, object]) -> tuple[list[list[float]], list[list[float]]]:
    """m and u in the order of :data:`COMPARISONS`, whatever the stored model knew.

    A model stored before a comparison existed (before identifiers: six rows, no
    names) lacks its rows: that comparison gets the untrained defaults until the
    next training. A row whose number of levels changed is replaced likewise.
    """
    stored_m = [list(map(float, row)) for row in data["m"]]  # type: ignore[attr-defined]
    stored_u = [list(map(float, row)) for row in data["u"]]  # type: ignore[attr-defined]
    stored_names = data.get("comparisons")
    names = (
        [str(name) for name in stored_names]  # type: ignore[attr-defined]
        if stored_names
        else [c.name for c in COMPARISONS][: len(stored_m)]
    )
    index = {name: i for i, name in enumerate(names) if i < len(stored_m)}
    defaults = default_parameters()
    m, u = [], []
    for position, comparison in enumerate(COMPARISONS):
        i = index.get(comparison.name)
        if i is not None and len(stored_m[i]) == len(comparison.levels):
            m.append(stored_m[i])
            u.append(stored_u[i])
        else:
            m.append(defaults.m[position])
            u.append(defaults.u[position])
    return m, u


def _optional_float(value: object) -> float | None:
    return None if value is None else float(value)  # type: ignore[arg-type]


def default_parameters() -> Parameters:
    """Used until the first training: conservative guesses, documented in docs/matching.md.

    ``u`` of the exact level is what two random German records share by chance
    (a common given name about 1 %, a birth date 1 in 20,000 ...).
    """
    u_exact = {
        "givenName": 0.01,
        "familyName": 0.005,
        "birthDate": 0.00005,
        "email": 0.00001,
        "phone": 0.00002,
        "address": 0.0001,
        "identifiers": 0.000001,
    }
    # The levels between: three times as common by chance as the one above, except
    # birth dates, where a near date is far more common than the same one: some 20
    # dates lie one typo or a day-month swap away (about 1e-3), and the same year with
    # the same month or day is 1/60 x (1/12 + 1/30), about 2e-3.
    # Identifiers: two persons share a value only by a data error, but customer and
    # card numbers are handed out in sequence, so neighbours one digit apart are
    # common (a dense six-digit range: some 60 of them per number).
    u_between = {"birthDate": [0.001, 0.002], "identifiers": [0.001]}
    m, u = [], []
    for comparison in COMPARISONS:
        levels = len(comparison.levels)
        m.append(_initial_m(levels))
        exact = u_exact[comparison.name]
        rest = u_between.get(comparison.name) or [exact * 3 ** (i + 1) for i in range(levels - 2)]
        u.append([exact, *rest, max(EPSILON, 1 - exact - sum(rest))])
    # One duplicate pair among 10,000 random pairs: 10 % duplicates among 2,000 records.
    return Parameters(prior=1e-4, m=m, u=u)


def term_frequencies(records: Iterable[MatchRecord]) -> dict[str, dict[str, float]]:
    """Relative frequency of each given / family name at least MIN_TF_PERSONS persons carry."""
    counts, total = _name_counts(records)
    if not total:
        return {}
    return {
        attr: {v: c / total for v, c in counter.items() if c >= MIN_TF_PERSONS}
        for attr, counter in counts.items()
    }


def rare_term_frequencies(records: Iterable[MatchRecord]) -> dict[str, float]:
    """Per attribute, the mean frequency of a name fewer than MIN_TF_PERSONS persons carry.

    The mean over the records that carry a rare name (sum c^2 / (N sum c)): what an
    exact agreement on such a name costs by chance, on average. Never above
    (MIN_TF_PERSONS - 1) / N, and one number per attribute, so it names nobody.
    """
    counts, total = _name_counts(records)
    rare: dict[str, float] = {}
    for attr, counter in counts.items():
        carried = [c for c in counter.values() if c < MIN_TF_PERSONS]
        if carried and total:
            rare[attr] = sum(c * c for c in carried) / (total * sum(carried))
    return rare


def _name_counts(records: Iterable[MatchRecord]) -> tuple[dict[str, Counter[str]], int]:
    records = list(records)
    counts = {
        "given": Counter(r.given for r in records if r.given),
        "family": Counter(r.family for r in records if r.family),
    }
    return counts, len(records)
