"""EM training on data with names and birth dates only (no labels)."""

from __future__ import annotations

import random

import pytest

from mdm_matching.domain.engine import blocking
from mdm_matching.domain.engine.comparisons import BIRTH, COMPARISONS
from mdm_matching.domain.engine.features import MatchRecord, make_record
from mdm_matching.domain.engine.model import Parameters, default_sessions, train

GIVEN = ["Anna", "Peter", "Ursula", "Thomas", "Monika", "Klaus", "Sabine", "Jürgen", "Petra",
         "Stefan", "Renate", "Uwe", "Birgit", "Frank", "Helga", "Dieter"]  # fmt: skip
FAMILY = ["Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker",
          "Schulz", "Hoffmann", "Koch", "Richter", "Klein", "Wolf", "Neumann", "Braun"]  # fmt: skip
PERSONS, DUPLICATES = 3000, 300


def _typo(rng: random.Random, birth: str) -> str:
    i = rng.choice([3, 5, 7])  # a digit of year, month or day
    return birth[:i] + str((int(birth[i]) + 1) % 10) + birth[i + 1 :]


def _data() -> list[MatchRecord]:
    """Few names, so that strangers of the same name far outnumber the duplicates;
    every duplicate has either a typo in its birth date or none."""
    rng = random.Random(3)  # noqa: S311 - test data, not cryptography
    people = [(rng.choice(GIVEN), rng.choice(FAMILY),
               f"{rng.randint(1940, 2000)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}")
              for _ in range(PERSONS)]  # fmt: skip
    records = [make_record(f"p{i}", given=g, family=f, birth=b) for i, (g, f, b) in
               enumerate(people)]  # fmt: skip
    for i in range(DUPLICATES):
        g, f, b = people[i]
        records.append(make_record(f"d{i}", given=g, family=f,
                                   birth=_typo(rng, b) if i % 2 else b))  # fmt: skip
    return records


@pytest.fixture(scope="module")
def trained() -> Parameters:
    records = _data()
    by_id = {r.id: r for r in records}
    pairs = ((by_id[a], by_id[b]) for a, b in blocking.candidate_pairs(records))
    return train(records, pairs, sessions=default_sessions(), u_samples=50_000)


class TestNamesAndBirthDatesOnly:
    def test_the_prior_counts_duplicates_not_namesakes(self, trained: Parameters) -> None:
        n = PERSONS + DUPLICATES
        true_prior = DUPLICATES / (n * (n - 1) / 2)
        # Over all candidate pairs EM took strangers of the same name for duplicates.
        assert true_prior / 2 < trained.prior < true_prior * 2

    def test_the_birth_date_levels_are_learnt_where_only_they_are_free(
        self, trained: Parameters
    ) -> None:
        birth = trained.m[COMPARISONS.index(BIRTH)]
        # Half the duplicates carry a typo: learnt from pairs blocked on names, although
        # the birth date is the only comparison left free there.
        assert birth[0] == pytest.approx(birth[1], abs=0.15)
        assert birth[1] > 0.3
        # How often a duplicate's birth date differs entirely cannot be told from
        # namesakes: it stays at the starting guess.
        assert birth[BIRTH.differs] == pytest.approx(0.03 / 0.98)  # the starting shape
