"""The retraining decision names its trigger and the numbers either way."""

from __future__ import annotations

import pytest

from movie_roulette.monitoring.decision import decide_retraining

DRIFTED = {"drift_share": 0.67, "drifted_columns": ["primary_genre", "user_history"]}
CALM = {"drift_share": 0.17, "drifted_columns": ["rating"]}


def test_no_drift_and_few_new_interactions_means_no_retraining_with_the_numbers() -> None:
    d = decide_retraining(CALM, 2000, 0.5, 5000)
    assert d["retrain"] is False and d["triggers"] == []
    assert d["reason"] == (
        "No retraining: drift share 0.17 (1 drifted column(s): rating) vs threshold 0.50; "
        "2000 new interaction(s) vs minimum 5000; not forced."
    )


@pytest.mark.parametrize(
    ("summary", "new", "force", "production", "triggers"),
    [
        (DRIFTED, 2000, False, True, ["drift"]),
        (CALM, 6000, False, True, ["new_interactions"]),
        (CALM, 0, True, True, ["forced"]),
        (CALM, 10, False, False, ["no_production_model"]),
        (DRIFTED, 0, False, True, []),  # nothing new: drift cannot come from new data
        (DRIFTED, 9000, True, True, ["forced", "drift", "new_interactions"]),
    ],
)
def test_each_trigger(summary, new, force, production, triggers) -> None:
    d = decide_retraining(summary, new, 0.5, 5000, force=force, has_production=production)
    assert d["triggers"] == triggers
    assert d["retrain"] is bool(triggers)
    if "drift" in triggers:
        assert "primary_genre, user_history" in d["reason"]


def test_a_skipped_drift_check_is_not_drift() -> None:
    d = decide_retraining({"drift_share": 0.0, "skipped": "no current data to compare"}, 0, 0.5, 10)
    assert d["retrain"] is False
    assert "no drift check (no current data to compare)" in d["reason"]


def test_bad_thresholds_are_named() -> None:
    with pytest.raises(ValueError, match="drift_share_threshold"):
        decide_retraining(CALM, 1, 0.0, 5)
    with pytest.raises(ValueError, match="min_new_interactions"):
        decide_retraining(CALM, 1, 0.5, 0)


def test_drift_on_a_batch_below_min_drift_rows_is_reported_but_no_trigger() -> None:
    summary = {"drift_share": 1.0, "drifted_columns": ["rating", "genre"], "current_rows": 32}
    small = decide_retraining(summary, 32, 0.5, 5000, min_drift_rows=200)
    assert small["retrain"] is False and small["triggers"] == []
    assert "32 current row(s) < continuous.min_drift_rows 200" in small["reason"]
    big = decide_retraining({**summary, "current_rows": 2000}, 2000, 0.5, 5000, min_drift_rows=200)
    assert big["triggers"] == ["drift"]
