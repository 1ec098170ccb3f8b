from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from movie_roulette.exceptions import UnknownGenreError
from movie_roulette.models.hybrid import (
    COLD_START,
    HybridRecommender,
    Recommendations,
    make_components,
    train_hybrid,
)
from movie_roulette.results import Fallback, RatingPrediction
from tests.unit.models.tiny import ACTION, COMEDY, split_tiny, tiny_model_config


@pytest.fixture(scope="module")
def hybrid(ratings: pd.DataFrame, catalogue: pd.DataFrame) -> HybridRecommender:
    train, valid = split_tiny(ratings)
    return train_hybrid(train, valid, catalogue, tiny_model_config(), seed=1, k=5)


def test_train_hybrid_tunes_weights_and_rating_stack(hybrid: HybridRecommender) -> None:
    assert set(hybrid.weights) == set(hybrid.components)
    assert any(w > 0 for w in hybrid.weights.values())
    assert "intercept" in hybrid.rating_coefs and "baseline" in hybrid.rating_coefs
    assert hybrid.fit_info["total_fit_seconds"] >= 0
    assert "refit_component_fit_seconds" in hybrid.fit_info


def test_components_are_accessible_on_their_own(hybrid: HybridRecommender) -> None:
    assert {
        "ease",
        "ease_liked",
        "ease_centered",
        "itemknn",
        "svd",
        "content",
        "popularity",
    } == set(hybrid.components)
    assert hybrid.components["svd"].recommend(1, k=3)


def test_known_user_gets_no_fallback_and_component_breakdown(hybrid: HybridRecommender) -> None:
    recs = hybrid.recommend_items(1, k=3)
    assert isinstance(recs, Recommendations)
    assert recs.fallback is None
    assert len(recs.items) == 3
    assert set(recs.items[0].components) <= set(hybrid.components)
    assert not set(recs.movie_ids) & set(hybrid.seen_movie_ids(1).tolist())


def test_action_fan_is_recommended_action(hybrid: HybridRecommender) -> None:
    recs = hybrid.recommend_items(1, k=2)
    assert set(recs.movie_ids) <= set(ACTION)


def test_unknown_user_gets_cold_start_list(hybrid: HybridRecommender) -> None:
    recs = hybrid.recommend_items(424242, k=4)
    assert recs.fallback == COLD_START
    assert len(recs.movie_ids) == 4 == len(set(recs.movie_ids))
    # diversified across genres: both genres appear
    assert set(recs.movie_ids) & set(ACTION) and set(recs.movie_ids) & set(COMEDY)


def test_recommend_from_ratings_excludes_rated_and_prefers_the_fans_genre(
    hybrid: HybridRecommender,
) -> None:
    rated = {11: 5.0, 12: 5.0, 13: 4.5}
    recs = hybrid.recommend_from_ratings(rated, k=3)
    assert recs.fallback is Fallback.FOLD_IN
    assert recs.used and set(recs.used) <= set(hybrid.components)
    assert not set(recs.movie_ids) & set(rated)
    assert set(recs.movie_ids) <= set(COMEDY)


def test_recommend_from_unknown_movies_only_falls_back_to_cold_start(
    hybrid: HybridRecommender,
) -> None:
    recs = hybrid.recommend_from_ratings({99999: 5.0}, k=3)
    assert recs.fallback == COLD_START


def test_genre_filter_keeps_only_that_genre(hybrid: HybridRecommender) -> None:
    for recs in (
        hybrid.recommend_items(1, k=3, genre="comedy"),
        hybrid.recommend_items(424242, k=3, genre="Comedy"),
        hybrid.recommend_from_ratings({1: 5.0}, k=3, genre="Comedy"),
    ):
        assert recs.movie_ids and set(recs.movie_ids) <= set(COMEDY)


def test_unknown_genre_is_a_clear_error(hybrid: HybridRecommender) -> None:
    with pytest.raises(UnknownGenreError, match="known genres"):
        hybrid.recommend_items(1, genre="Western")
    with pytest.raises(UnknownGenreError, match="'Western' matches no movie"):
        hybrid.recommend_from_ratings({11: 5.0}, genre="Western")


def test_predict_rating_falls_back_for_unknown_user_and_movie(hybrid: HybridRecommender) -> None:
    preds = hybrid.predict_rating(424242, [1, 11])
    assert preds.shape == (2,) and np.isfinite(preds).all()
    assert np.isfinite(hybrid.predict_rating(1, [1, 99999])).all()
    unknown_user = hybrid.predict(424242, 11)
    assert unknown_user == RatingPrediction(424242, 11, preds[1], Fallback.UNKNOWN_USER)
    assert unknown_user.value == pytest.approx(
        hybrid.global_mean + hybrid.bi[hybrid.movie_index([11])[0]]
    )
    assert hybrid.predict(1, 99999).fallback is Fallback.UNKNOWN_MOVIE
    known = hybrid.predict(1, 11)
    assert known.fallback is None and known.value == hybrid.predict_rating(1, [11])[0]


def test_a_prediction_leaves_no_state_on_the_model(hybrid: HybridRecommender) -> None:
    """The fallback is returned, not kept: `last_fallback` on a shared model was the answer of
    whichever thread predicted last."""
    hybrid.predict(424242, 11)
    assert not hasattr(hybrid, "last_fallback")
    assert hybrid.predict(1, 11).fallback is None


def test_hybrid_predicts_fans_ratings_in_the_right_direction(hybrid: HybridRecommender) -> None:
    preds = hybrid.predict_rating(1, ACTION[:3] + COMEDY[:3])
    assert preds[:3].mean() > preds[3:].mean() + 1.0


def test_hybrid_rejects_weights_for_missing_components() -> None:
    with pytest.raises(ValueError, match="no component"):
        HybridRecommender(make_components(tiny_model_config(), 0), weights={"nope": 1.0})


def test_rating_stack_uses_implicit_z_scores_and_activity_interactions(
    hybrid: HybridRecommender,
) -> None:
    keys = set(hybrid.rating_coefs)
    assert {"z:ease", "z:ease_liked", "z:ease_centered"} <= keys
    assert {"user_activity", "movie_activity", "svd*user_activity", "z:ease*movie_activity"} <= keys
    assert "z:popularity" not in keys


def test_fold_in_z_scores_are_scaled_to_the_validation_users_top(
    hybrid: HybridRecommender,
) -> None:
    assert set(hybrid.top_z) == set(hybrid.components)
    recs = hybrid.recommend_from_ratings({ACTION[0]: 5.0}, k=5)
    for item in recs.items:
        for name, z in item.components.items():
            assert z <= hybrid.top_z[name] + 1e-9, (name, z)


def test_state_round_trip_keeps_fold_in_scaling_and_rating_stack(
    hybrid: HybridRecommender,
) -> None:
    clone = HybridRecommender.from_state(*hybrid.get_state())
    assert clone.top_z == hybrid.top_z
    np.testing.assert_allclose(
        clone.predict_rating(1, ACTION + COMEDY), hybrid.predict_rating(1, ACTION + COMEDY)
    )
    a = hybrid.recommend_from_ratings({COMEDY[0]: 5.0, ACTION[1]: 2.0}, k=5)
    b = clone.recommend_from_ratings({COMEDY[0]: 5.0, ACTION[1]: 2.0}, k=5)
    assert a.movie_ids == b.movie_ids


def test_z_features_from_kept_statistics_equal_a_full_z_scoring(
    hybrid: HybridRecommender,
) -> None:
    from movie_roulette.models.hybrid.blend import zscore as _zscore

    user = 1
    uidx = hybrid.user_index(user)
    candidates = np.ones(hybrid.n_movies, bool)
    candidates[hybrid.seen(uidx)[0]] = False
    pos = np.append(np.arange(hybrid.n_movies), -1)  # every movie, and one the hybrid lacks
    for name in ("ease", "ease_liked", "ease_centered", "svd", "popularity"):
        comp = hybrid.components[name]
        full = _zscore(
            hybrid._aligned(name, comp.score_users([comp.user_index(user)])[0]), candidates
        )
        expected = np.append(full, 0.0)
        np.testing.assert_allclose(hybrid._z_feature(name, user, pos), expected, atol=1e-5)
        # one movie at a time, as the served `predict` asks (EASE sums only its columns)
        for p in (0, int(np.flatnonzero(candidates)[0]), hybrid.n_movies - 1):
            single = hybrid._z_feature(name, user, np.array([p]))[0]
            assert single == pytest.approx(full[p], abs=1e-5), (name, p)
        assert (name, user) in hybrid._z_memo


def test_predictions_are_the_same_with_the_statistics_kept_or_recomputed(
    hybrid: HybridRecommender,
) -> None:
    clone = HybridRecommender.from_state(*hybrid.get_state())
    assert clone._z_memo == {}
    movies = ACTION + COMEDY
    cold = [float(clone.predict_rating(1, [m])[0]) for m in movies]
    assert clone._z_memo  # kept by the first prediction
    warm = [float(clone.predict_rating(1, [m])[0]) for m in movies]
    assert cold == warm  # bit-identical: the memo holds what a recomputation would give
    batch = clone.predict_rating(1, movies)
    np.testing.assert_allclose(batch, cold, atol=1e-6)
    fresh = HybridRecommender.from_state(*hybrid.get_state())
    fresh.prepare_user(1)
    assert set(fresh._z_memo) == {("ease", 1), ("ease_liked", 1), ("ease_centered", 1)}
    assert [float(fresh.predict_rating(1, [m])[0]) for m in movies] == cold
    fresh.prepare_user(424242)  # unknown: nothing to keep, no error
    assert len(fresh._z_memo) == 3


def test_the_kept_statistics_are_bounded(
    hybrid: HybridRecommender, monkeypatch: pytest.MonkeyPatch
) -> None:
    import movie_roulette.models.hybrid.model as hybrid_module

    clone = HybridRecommender.from_state(*hybrid.get_state())
    monkeypatch.setattr(hybrid_module, "Z_MEMO_SIZE", 4)
    users = [int(u) for u in clone.user_ids[:3]]
    for user in users:
        clone.prepare_user(user)  # 3 z components each
    assert len(clone._z_memo) == 4
    assert all(key[1] in users[1:] for key in clone._z_memo)  # the oldest went first


def test_a_fit_logs_one_line_naming_every_component(
    ratings: pd.DataFrame, catalogue: pd.DataFrame, caplog: pytest.LogCaptureFixture
) -> None:
    """One INFO line per fit, whatever the timings: the console hides a line it has shown, so a
    line per component made the CLI's output longer on a loaded machine (timings that differ)."""
    train, _ = split_tiny(ratings)
    model = HybridRecommender(components=make_components(tiny_model_config(), seed=1))
    with caplog.at_level("INFO", logger="movie_roulette.models.hybrid.model"):
        model.fit(train, catalogue)
    lines = [r.getMessage() for r in caplog.records if r.levelname == "INFO"]
    fitted = [line for line in lines if line.startswith("fitted ")]
    assert len(fitted) == 1, lines
    assert fitted[0].startswith(f"fitted {len(model.components)} components in ")
    assert all(f"{name} " in fitted[0] for name in model.components)
