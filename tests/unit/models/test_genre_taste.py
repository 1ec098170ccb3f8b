"""GenreTasteRecommender (models/genre_taste.py): log popularity plus genre log-lifts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from movie_roulette.config import ModelConfig
from movie_roulette.data import movielens
from movie_roulette.data.synthetic import SyntheticSpec, generate
from movie_roulette.evaluation.offline import ranking_metrics
from movie_roulette.models.genre_taste import GenreTasteRecommender, genre_matrix
from movie_roulette.models.hybrid import make_components
from movie_roulette.models.popularity import PopularityRecommender

CATALOGUE = pd.DataFrame(
    {
        "movie_id": [1, 2, 3, 4, 5],
        "title": ["A", "B", "C", "D", "E"],
        "genres": ["Drama", "Drama|Comedy", "Comedy", "(no genres listed)", "Comedy|Horror"],
    }
)
RATINGS = pd.DataFrame(
    {  # user 10 picks dramas, user 20 comedies; movie 5 is never rated
        "user_id": [10, 10, 10, 20, 20, 20, 20],
        "movie_id": [1, 2, 4, 2, 3, 1, 4],
        "rating": [5.0, 4.0, 3.0, 4.0, 5.0, 2.0, 3.0],
    }
)


@pytest.fixture(scope="module")
def fitted() -> GenreTasteRecommender:
    return GenreTasteRecommender(smoothing=2.0).fit(RATINGS, CATALOGUE)


def test_scores_are_log_popularity_plus_the_genre_log_lifts_by_hand(
    fitted: GenreTasteRecommender,
) -> None:
    assert fitted.movie_ids.tolist() == [1, 2, 3, 4, 5]  # the unrated catalogue movie too
    assert fitted.genre_names == ["Comedy", "Drama", "Horror"]
    counts = np.array([2.0, 2.0, 1.0, 2.0, 0.0])
    # G rows: 1 Drama; 2 Drama|Comedy (1/2 each); 3 Comedy; 4 none; 5 Comedy|Horror
    G = np.array([[0, 1, 0], [0.5, 0.5, 0], [1, 0, 0], [0, 0, 0], [0.5, 0, 0.5]])
    share = G.T @ counts / counts.sum()  # Comedy 2/7, Drama 3/7, Horror 0
    h = G[[0, 1, 3]].sum(axis=0)  # user 10: movies 1, 2, 4
    theta = np.zeros(3)
    theta[:2] = np.log((h[:2] + 2.0 * share[:2]) / ((3 + 2.0) * share[:2]))  # Horror: 0
    expected = np.log1p(counts) + G @ theta
    np.testing.assert_allclose(fitted.score_all(10), expected, rtol=1e-12)
    # the drama lover scores the drama higher than the comedy lover does, and vice versa
    assert fitted.score_all(10)[0] > fitted.score_all(20)[0]
    assert fitted.score_all(20)[2] > fitted.score_all(10)[2]


def test_every_way_of_scoring_agrees(fitted: GenreTasteRecommender) -> None:
    for user in (10, 20):
        u = fitted.user_index(user)
        whole = fitted.score_all(user)
        linear = np.asarray(fitted.linear_form() @ fitted.linear_query(u)).ravel()
        np.testing.assert_allclose(linear, whole, rtol=1e-12)
        np.testing.assert_allclose(fitted._score_at(u, np.array([4, 0, 2])), whole[[4, 0, 2]])
        idx, r = fitted.seen(u)
        profile = dict(zip(fitted.movie_ids[idx].tolist(), r.tolist(), strict=True))
        np.testing.assert_allclose(fitted.score_ratings(profile), whole, rtol=1e-12)


def test_an_empty_profile_ranks_by_popularity_and_no_genres_by_popularity_alone() -> None:
    model = GenreTasteRecommender().fit(RATINGS, CATALOGUE)
    np.testing.assert_allclose(model.score_ratings({}), np.log1p([2, 2, 1, 2, 0]), rtol=1e-12)
    bare = GenreTasteRecommender().fit(RATINGS)  # no catalogue: no genres
    assert bare.genres.shape == (4, 0)
    np.testing.assert_allclose(bare.score_all(10), np.log1p([2, 2, 1, 2]))


def test_genre_matrix_splits_and_normalises_each_movies_genres() -> None:
    G, names = genre_matrix(CATALOGUE, np.array([5, 4, 2, 99]))
    assert names == ["Comedy", "Drama", "Horror"]
    np.testing.assert_allclose(
        G.toarray(),
        [[0.5, 0, 0.5], [0, 0, 0], [0.5, 0.5, 0], [0, 0, 0]],  # 99: not listed
    )


@pytest.mark.parametrize("smoothing", [0.0, -1.0, float("nan")])
def test_smoothing_must_be_positive(smoothing: float) -> None:
    with pytest.raises(ValueError, match="smoothing: must be > 0"):
        GenreTasteRecommender(smoothing=smoothing)


def test_the_component_set_includes_it_only_when_enabled() -> None:
    off = ModelConfig()
    assert "genre_taste" not in make_components(off, seed=0)
    on = off.model_copy(
        update={"genre_taste": off.genre_taste.model_copy(update={"enabled": True})}
    )
    for component_set in ("dense", "scalable"):
        cfg = on.model_copy(update={"component_set": component_set})
        comps = make_components(cfg, seed=0)
        assert isinstance(comps["genre_taste"], GenreTasteRecommender)
        assert comps["genre_taste"].smoothing == on.genre_taste.smoothing


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = Path(tmp_path_factory.mktemp("genre-taste-data"))
    generate(SyntheticSpec(users=400, movies=800, ratings=40_000, seed=11), out)
    return out


def test_it_recovers_the_generators_tastes_and_beats_popularity(synthetic: Path) -> None:
    ratings = movielens.load_ratings(synthetic)
    movies = movielens.load_movies_with_links(synthetic)
    model = GenreTasteRecommender().fit(ratings, movies)
    truth = np.load(synthetic / "truth.npz")
    genres = [str(g) for g in truth["genres"]]
    cols = [genres.index(g) for g in model.genre_names]
    true_taste = truth["user_taste"][:, cols]  # users in id order 1..n
    corr = [
        np.corrcoef(model.linear_query(model.user_index(int(u)))[1:], true_taste[int(u) - 1])[0, 1]
        for u in model.user_ids
    ]
    assert np.median(corr) > 0.6  # each person's estimated lifts follow their true tastes
    # held-out picks: the last fifth of each user's rows
    last = ratings.groupby("user_id").cumcount(ascending=False) < ratings.groupby("user_id")[
        "movie_id"
    ].transform(lambda s: len(s) // 5)
    train, test = ratings[~last], ratings[last]
    taste = GenreTasteRecommender().fit(train, movies)
    pop = PopularityRecommender().fit(train, movies)
    ndcg_taste = ranking_metrics(taste, train, test, k=10)["ndcg@10"]
    ndcg_pop = ranking_metrics(pop, train, test, k=10)["ndcg@10"]
    assert ndcg_taste > 1.3 * ndcg_pop


@pytest.mark.spark
def test_the_spark_engines_component_set_adds_it_when_enabled() -> None:
    pytest.importorskip("pyspark")
    from movie_roulette.config import PipelineConfig
    from movie_roulette.spark.training import make_spark_components

    cfg = PipelineConfig()
    assert "genre_taste" not in make_spark_components(cfg)
    taste = cfg.model.genre_taste.model_copy(update={"enabled": True, "smoothing": 3.0})
    cfg = cfg.model_copy(update={"model": cfg.model.model_copy(update={"genre_taste": taste})})
    comps = make_spark_components(cfg)
    assert comps["genre_taste"].smoothing == 3.0
    assert list(comps)[-3:] == ["content", "genre_taste", "popularity"]
