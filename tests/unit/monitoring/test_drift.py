"""Drift features and the Evidently 0.7 data-drift report."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from movie_roulette.data.demo import generate_batch, generate_demo
from movie_roulette.monitoring.drift import (
    FEATURES,
    NO_GENRE,
    UNKNOWN_MOVIE,
    drift_features,
    run_drift_report,
)


@pytest.fixture(scope="module")
def demo():
    return generate_demo(seed=11, n_movies=150, n_users=120, mean_ratings_per_user=60, n_reviews=5)


def test_features_describe_each_interaction() -> None:
    catalogue = pd.DataFrame(
        {
            "movie_id": [1, 2],
            "genres": ["Drama|Comedy", ""],
            "year": pd.array([1999, None], "Int64"),
        }
    )
    reference = pd.DataFrame({"user_id": [1, 1, 2], "movie_id": [1, 1, 2]})
    interactions = pd.DataFrame(
        {
            "user_id": [1, 3, 2],
            "movie_id": [1, 2, 9],
            "rating": [4.0, np.nan, 2.5],
            "timestamp": [3600 * 5, 0, 3600 * 23],
        }
    )
    features = drift_features(interactions, reference, catalogue)
    assert list(features.columns) == FEATURES
    assert features["user_history"].tolist() == pytest.approx([math.log1p(2), 0.0, math.log1p(1)])
    assert features["item_popularity"].tolist() == pytest.approx([math.log1p(2), math.log1p(1), 0])
    assert features["primary_genre"].tolist() == ["Drama", NO_GENRE, UNKNOWN_MOVIE]
    assert features["movie_year"].iloc[0] == 1999 and features["movie_year"].isna().tolist()[
        1:
    ] == [True, True]
    assert features["hour_of_day"].tolist() == [5.0, 0.0, 23.0]
    assert math.isnan(features["rating"].iloc[1])


def test_missing_columns_are_named() -> None:
    with pytest.raises(ValueError, match=r"catalogue misses column\(s\) \['year'\]"):
        drift_features(
            pd.DataFrame(columns=["user_id", "movie_id", "rating", "timestamp"]),
            pd.DataFrame(columns=["user_id", "movie_id"]),
            pd.DataFrame(columns=["movie_id", "genres"]),
        )


def test_a_sample_of_the_same_data_does_not_drift_and_shifted_tastes_do(demo) -> None:
    ratings = demo.ratings
    held = ratings.sample(frac=0.2, random_state=1)
    base = ratings.drop(held.index)
    reference = drift_features(base, base, demo.catalogue)

    same = run_drift_report(reference, drift_features(held, base, demo.catalogue), 0.5)
    assert same.summary["drift_share"] < 0.5
    assert same.summary["dataset_drift"] is False
    assert set(same.summary["columns"]) == set(FEATURES)
    assert "<html" in same.html.lower()

    shifted = generate_batch(
        demo,
        1500,
        seed=3,
        start_ts=int(ratings.timestamp.max()) + 1,
        taste_shift=0.8,
        new_user_share=0.5,
    )
    drifted = run_drift_report(reference, drift_features(shifted, base, demo.catalogue), 0.5)
    assert drifted.summary["dataset_drift"] is True
    assert {"user_history", "primary_genre"} <= set(drifted.summary["drifted_columns"])
    column = drifted.summary["columns"]["user_history"]
    assert column["drifted"] is True and column["score"] > column["threshold"]


def test_no_current_data_gives_a_skipped_report_not_an_error(demo) -> None:
    reference = drift_features(demo.ratings, demo.ratings, demo.catalogue)
    result = run_drift_report(reference, reference.iloc[:0], 0.5)
    assert result.summary["skipped"] == "no current data to compare"
    assert result.summary["drift_share"] == 0.0


def test_a_column_without_values_is_skipped_and_reported(demo) -> None:
    reference = drift_features(demo.ratings, demo.ratings, demo.catalogue)
    clicks = reference.iloc[:300].assign(rating=np.nan)
    result = run_drift_report(reference, clicks, 0.5)
    assert "rating" in result.summary["skipped_columns"]
    assert "rating" not in result.summary["columns"]
