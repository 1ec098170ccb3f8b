"""Rollback target selection and the fresh-test split of a continuous retrain."""

from __future__ import annotations

import pandas as pd

from movie_roulette.config import SplitConfig
from movie_roulette.data.demo import generate_demo
from movie_roulette.monitoring.retraining import fresh_split
from movie_roulette.rollback import rollback_target


def test_rollback_walks_back_through_the_promotion_history() -> None:
    versions = [
        {"version": "1", "production_since": 10.0},
        {"version": "2", "production_since": None},  # never promoted (staging)
        {"version": "3", "production_since": 30.0},
        {"version": "4", "production_since": 40.0},
    ]
    assert rollback_target(versions, "4") == "3"
    versions[3]["rolled_back_at"] = 50.0
    assert rollback_target(versions, "3") == "1"
    assert rollback_target([{"version": "1", "production_since": 1.0}], "1") is None


def _keys(frame: pd.DataFrame) -> set[tuple[int, int]]:
    return set(zip(frame.user_id, frame.movie_id, strict=True))


def test_fresh_split_tests_only_on_new_ratings_neither_model_has_seen() -> None:
    demo = generate_demo(seed=4, n_movies=100, n_users=60, mean_ratings_per_user=40, n_reviews=5)
    ratings = demo.ratings
    new = ratings.sample(frac=0.2, random_state=0)
    history = ratings.drop(new.index)
    train, valid, test, how = fresh_split(
        history, new.assign(event="rating"), SplitConfig(), 0.3, 1
    )
    assert _keys(test) <= _keys(new)
    assert not _keys(test) & (_keys(train) | _keys(valid))
    assert len(train) + len(valid) + len(test) == len(ratings)
    assert set(test.user_id) <= set(train.user_id)
    assert "fresh test" in how


def test_without_new_ratings_the_configured_split_is_used_and_said() -> None:
    demo = generate_demo(seed=4, n_movies=100, n_users=60, mean_ratings_per_user=40, n_reviews=5)
    empty = demo.ratings.iloc[:0].assign(event="rating")
    train, valid, test, how = fresh_split(demo.ratings, empty, SplitConfig(), 0.3, 1)
    assert len(test) > 0 and "configured per_user split" in how
