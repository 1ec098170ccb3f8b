"""`serve_pool` (models/hybrid/pool.py): a known user's recommendations scored over the most-rated
movies only, with the blend's statistics still the whole catalogue's. The answer must be the
whole catalogue's blend, restricted to the pool: the same picks, scores and reasons."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from movie_roulette.data import movielens
from movie_roulette.data.synthetic import SyntheticSpec, generate
from movie_roulette.models.base import top_k_indices
from movie_roulette.models.content import ContentRecommender
from movie_roulette.models.genre_taste import GenreTasteRecommender
from movie_roulette.models.hybrid import HybridRecommender
from movie_roulette.models.hybrid import pool as pool_module
from movie_roulette.models.implicit import EASERecommender
from movie_roulette.models.popularity import PopularityRecommender
from movie_roulette.models.scalable import ALSRecommender, SparseItemKNNRecommender

WEIGHTS = {
    "ease": 0.6,
    "als": 0.5,
    "itemknn": 0.4,
    "content": 0.3,
    "genre_taste": 0.4,
    "popularity": 0.5,
}
POOL = 150  # of 1,000 movies: about half the users' unpooled picks leave it


@pytest.fixture(autouse=True)
def small_catalogues_use_the_pool(monkeypatch: pytest.MonkeyPatch) -> None:
    """A pool is used when it leaves out 20,000 movies (where it pays); these catalogues have
    1,000, so the tests lower that bar (the last test keeps it)."""
    monkeypatch.setattr(pool_module, "MIN_LEFT_OUT", 1)


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> tuple[pd.DataFrame, pd.DataFrame]:
    out = Path(tmp_path_factory.mktemp("pool-data"))
    generate(SyntheticSpec(users=300, movies=1000, ratings=25_000, seed=5), out)
    return movielens.load_ratings(out), movielens.load_movies_with_links(out)


def hybrid(data: tuple[pd.DataFrame, pd.DataFrame], serve_pool: int | None) -> HybridRecommender:
    ratings, movies = data
    components = {
        "ease": EASERecommender(l2=20.0, min_item_ratings=2, max_items=300),
        "als": ALSRecommender(factors=8, iterations=5, seed=1),
        "itemknn": SparseItemKNNRecommender(n_neighbours=10, min_item_ratings=2),
        "content": ContentRecommender(n_neighbours=5),
        "genre_taste": GenreTasteRecommender(smoothing=5.0),
        "popularity": PopularityRecommender(),
    }
    model = HybridRecommender(components, WEIGHTS, serve_pool=serve_pool)
    return model.fit(ratings, movies)


@pytest.fixture(scope="module")
def pooled(data: tuple[pd.DataFrame, pd.DataFrame]) -> HybridRecommender:
    return hybrid(data, POOL)


def pool_positions(model: HybridRecommender, size: int) -> np.ndarray:
    counts = np.bincount(model._ui_indices, minlength=model.n_movies)
    return np.argsort(-counts, kind="stable")[:size]


def expected(
    model: HybridRecommender, user: int, k: int, exclude_seen: bool, genre: str | None
) -> tuple[list[int], np.ndarray]:
    """The whole catalogue's blend (as served without a pool), restricted to the pool; the
    whole catalogue when the pool has fewer than k movies to offer."""
    uidx = model.user_index(user)
    scores = model._score_all(uidx)
    keep = np.ones(model.n_movies, bool)
    if exclude_seen:
        keep[model.seen(uidx)[0]] = False
    if genre is not None:
        keep &= model.genre_mask(genre)
    head = np.zeros(model.n_movies, bool)
    head[pool_positions(model, POOL)] = True
    if (keep & head).sum() >= k:
        keep &= head
    scores = np.where(keep, scores, -np.inf)
    top = top_k_indices(scores, k, finite=True)
    return model.movie_ids[top].tolist(), scores[top]


def test_the_pool_serves_the_whole_catalogues_blend_restricted_to_the_pool(
    pooled: HybridRecommender,
) -> None:
    assert pooled.serve_pool == POOL < pooled.n_movies
    whole = HybridRecommender.from_state(*pooled.get_state())
    whole.serve_pool = None
    users = pooled.user_ids[:: max(1, len(pooled.user_ids) // 60)]
    changed = 0
    for i, user in enumerate(users.tolist()):
        genre = "Comedy" if i % 4 == 3 else None
        exclude_seen = i % 5 != 4
        recs = pooled.recommend_items(user, k=10, exclude_seen=exclude_seen, genre=genre)
        ids, scores = expected(pooled, user, 10, exclude_seen, genre)
        assert recs.movie_ids == ids, user
        changed += recs.movie_ids != whole.recommend_items(user, 10, exclude_seen, genre).movie_ids
        got = np.array([it.score for it in recs.items])
        np.testing.assert_allclose(got, scores, rtol=1e-6, atol=1e-6)
    assert changed >= 10  # the pool did change answers (the check is not vacuous)
    # the linear components were taken from their sums, not scored over every movie
    assert pooled._pool is not None
    assert set(pooled._pool.linear) == {"als", "content", "genre_taste"}


def test_picks_inside_the_pool_are_the_unpooled_answer_with_the_same_reasons(
    data: tuple[pd.DataFrame, pd.DataFrame], pooled: HybridRecommender
) -> None:
    whole = HybridRecommender.from_state(*pooled.get_state())
    whole.serve_pool = None
    head = set(pool_positions(pooled, POOL).tolist())
    same = 0
    for user in pooled.user_ids[:80].tolist():
        full = whole.recommend_items(user, k=10)
        inside = all(pooled.movie_positions([m])[0] in head for m in full.movie_ids)
        if not inside:
            continue
        same += 1
        recs = pooled.recommend_items(user, k=10)
        assert recs.movie_ids == full.movie_ids
        for a, b in zip(recs.items, full.items, strict=True):
            assert a.score == pytest.approx(b.score, rel=1e-6, abs=1e-6)
            assert a.components.keys() == b.components.keys()
            for name in a.components:
                assert a.components[name] == pytest.approx(b.components[name], abs=1e-5)
    assert same >= 20  # the check ran on many users (their picks lie in the pool)


def test_too_few_pool_movies_for_k_score_the_whole_catalogue(
    data: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    tiny = hybrid(data, 5)
    whole = HybridRecommender.from_state(*tiny.get_state())
    whole.serve_pool = None
    for user in tiny.user_ids[:10].tolist():
        assert (
            tiny.recommend_items(user, k=10).movie_ids
            == whole.recommend_items(user, k=10).movie_ids
        )


def test_serve_pool_is_saved_with_the_model_and_checked() -> None:
    model = HybridRecommender({"popularity": PopularityRecommender()}, serve_pool=300)
    assert model.get_params()["serve_pool"] == 300
    with pytest.raises(ValueError, match="serve_pool: at least 1 movie"):
        HybridRecommender({"popularity": PopularityRecommender()}, serve_pool=0)


def test_the_pool_survives_a_round_trip(pooled: HybridRecommender) -> None:
    clone = HybridRecommender.from_state(*pooled.get_state())
    assert clone.serve_pool == POOL
    user = int(pooled.user_ids[3])
    assert clone.recommend_items(user, k=7).movie_ids == pooled.recommend_items(user, k=7).movie_ids


@pytest.mark.parametrize("name", ["als", "content", "genre_taste"])
def test_linear_components_score_as_their_matrix_times_the_users_vector(
    pooled: HybridRecommender, name: str
) -> None:
    pooled.recommend_items(int(pooled.user_ids[0]), k=10)  # builds the pool
    assert name in pooled._pool.linear  # read from its matrix, not scored over every movie
    comp = pooled.components[name]
    for user in comp.user_ids[:20].tolist():
        u = comp.user_index(user)
        np.testing.assert_allclose(
            np.asarray(comp.linear_form() @ comp.linear_query(u)).ravel(),
            comp._score_all(u),
            rtol=1e-5,
            atol=1e-6,
        )


def test_the_behavioural_check_fails_a_pool_that_changes_answers_naming_the_setting(
    data: tuple[pd.DataFrame, pd.DataFrame], pooled: HybridRecommender
) -> None:
    from movie_roulette.evaluation.behaviour import run_behavioural_checks

    ratings, movies = data
    report = run_behavioural_checks(pooled, ratings, movies, k=10, sample_users=40)
    [check] = [c for c in report.checks if c["name"] == "serve_pool"]
    assert not check["passed"] and not report.passed
    assert "raise model.serve_pool or set it to null" in check["detail"]
    assert pooled.serve_pool == POOL  # restored after the check
    wide = HybridRecommender.from_state(*pooled.get_state())
    wide.serve_pool = 900  # of 1,000 movies: the picks stay inside
    report = run_behavioural_checks(wide, ratings, movies, k=10, sample_users=40)
    [check] = [c for c in report.checks if c["name"] == "serve_pool"]
    assert check["passed"], check["detail"]
    assert check["detail"].startswith("scoring only the 900 most-rated movies")


def test_a_pool_that_leaves_out_too_few_movies_is_not_used(
    pooled: HybridRecommender, monkeypatch: pytest.MonkeyPatch
) -> None:
    from movie_roulette.evaluation.behaviour import _check_serve_pool, _Context

    monkeypatch.setattr(pool_module, "MIN_LEFT_OUT", 20_000)  # the library's bar
    assert pooled.serve_pool == POOL and not pooled.pool_in_use()
    whole = HybridRecommender.from_state(*pooled.get_state())
    whole.serve_pool = None
    user = int(pooled.user_ids[7])
    assert (
        pooled.recommend_items(user, k=10).movie_ids == whole.recommend_items(user, k=10).movie_ids
    )
    ctx = _Context(pooled, pd.DataFrame(), pd.DataFrame(), 10, [user], {}, {})
    passed, detail = _check_serve_pool(ctx, 0.05)
    assert (
        passed
        and detail == f"serve_pool {POOL} is not used on this catalogue: every movie is scored"
    )
