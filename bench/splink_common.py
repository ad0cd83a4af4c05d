"""What the Splink runs of the benchmarks share (``matching_splink.py`` for persons,
``company_splink.py`` for companies): a workaround for Splink 5.0.0, and training,
prediction and clustering once the settings and the prior are in place. Imports
nothing of ours, so that a Splink process measures Splink alone."""

from __future__ import annotations

import time
from typing import Any


def clamp_m_probabilities() -> None:
    """Splink 5.0.0 refuses an m probability below 1e-300, which its own EM yields when
    no duplicate ever falls into a level (the German generator never changes postal
    code, city or house number). Such a level is then clamped at 1e-300: a veto, as EM
    meant it, instead of an exception."""
    import splink.internals.expectation_maximisation as em  # noqa: PLC0415

    populate = em.populate_m_u_from_lookup

    def clamped(fixed: set[str], level: Any, column: str, lookup: dict[str, Any]) -> None:
        for values in lookup.get(column, {}).values():
            if isinstance(values.get("m_probability"), float):
                values["m_probability"] = max(values["m_probability"], 1e-300)
        populate(fixed, level, column, lookup)

    em.populate_m_u_from_lookup = clamped


def train_and_cluster(
    linker: Any,
    training_rules: list[Any],
    *,
    threshold: float,
    prior: str,
    seconds: dict[str, float],
    started: float,
) -> dict[str, Any]:
    """u by random sampling, m by EM per training rule (prior "em": the share of
    matches EM found, scaled to all pairs by Splink), prediction, and the clusters at
    ``threshold``; the prior "rule" was estimated by the caller."""
    linker.training.estimate_u_using_random_sampling(max_pairs=1e7, seed=1)
    for index, rule in enumerate(training_rules):
        linker.training.estimate_parameters_using_expectation_maximisation(
            rule,
            populate_probability_two_random_records_match_from_trained_values=(
                prior == "em" and index == len(training_rules) - 1
            ),
        )
    seconds["train"] = time.perf_counter() - started
    predictions = linker.inference.predict(threshold_match_probability=0.5)
    seconds["predict"] = time.perf_counter() - started - seconds["train"]
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
        predictions, threshold_match_probability=threshold
    ).as_pandas_dataframe()
    seconds["total"] = time.perf_counter() - started
    groups = clusters.groupby("cluster_id")["unique_id"].apply(list)
    return {
        "clusters": [g for g in groups if len(g) > 1],
        "pairs_above_half": len(predictions.as_pandas_dataframe()),
        "prior": linker._settings_obj._probability_two_random_records_match,
        "seconds": seconds,
    }
