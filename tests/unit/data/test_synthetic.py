from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest

from movie_roulette.data import movielens, synthetic
from movie_roulette.data.synthetic import (
    GENRES,
    RATING_SHARES,
    SyntheticSpec,
    TruthOracle,
    generate,
    main,
)
from movie_roulette.exceptions import ConfigError

SMALL = SyntheticSpec(users=300, movies=1000, ratings=25_000, seed=3)


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    out = tmp_path_factory.mktemp("synthetic")
    generate(SMALL, out)
    return out


def test_writes_the_movielens_layout_the_loader_reads(small) -> None:
    assert movielens.has_movielens(small)
    with open(small / "ratings.csv") as f:
        assert f.readline().strip() == "userId,movieId,rating,timestamp"
    ratings = movielens.load_ratings(small)
    movies = movielens.load_movies_with_links(small)
    tags = movielens.load_tags(small)
    assert len(ratings) == SMALL.ratings
    assert len(movies) == SMALL.movies and movies["year"].notna().all()
    assert movies["imdb_id"].str.fullmatch(r"tt\d{7}").all()
    assert set(ratings["movie_id"]) <= set(movies["movie_id"])
    assert set(tags["movie_id"]) <= set(movies["movie_id"]) and len(tags) > 0
    assert not ratings.duplicated(["user_id", "movie_id"]).any()
    per_user = ratings.groupby("user_id").size()
    assert len(per_user) == SMALL.users and per_user.min() >= 20
    assert ratings["timestamp"].between(synthetic.T_START - 1, synthetic.T_END).all()
    # sorted by user, then movie, like the MovieLens files
    assert (ratings.sort_values(["user_id", "movie_id"]).index == ratings.index).all()
    raw = pd.read_csv(small / "movies.csv")
    assert raw["title"].str.match(r".+ \(\d{4}\)$").all()
    labels = {g for s in raw["genres"] for g in s.split("|")}
    assert labels <= set(GENRES) | {"(no genres listed)"}


def test_structure_long_tail_and_heavy_users(small) -> None:
    ratings = movielens.load_ratings(small)
    per_movie = ratings.groupby("movie_id").size().sort_values(ascending=False).to_numpy()
    # Zipf-like: the top 10 % of the movies hold far more than 10 % of the ratings
    assert per_movie[: len(per_movie) // 10].sum() > 0.3 * len(ratings)
    per_user = ratings.groupby("user_id").size()
    assert per_user.mean() > 1.5 * per_user.median()  # heavy tail


def test_rating_distribution_follows_movielens(small) -> None:
    ratings = movielens.load_ratings(small)
    shares = ratings["rating"].value_counts(normalize=True).reindex(synthetic.RATING_VALUES)
    np.testing.assert_allclose(shares.to_numpy(), RATING_SHARES, atol=0.01)


def test_deterministic_by_seed_and_across_chunks(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(synthetic, "TARGET_CHUNK_RATINGS", 4000)  # several chunks
    spec = SyntheticSpec(users=120, movies=200, ratings=12_000, seed=1)
    generate(spec, tmp_path / "a")
    generate(spec, tmp_path / "b")
    generate(SyntheticSpec(120, 200, 12_000, seed=2), tmp_path / "c")
    for name in ("ratings.csv", "movies.csv", "links.csv", "tags.csv", "truth.npz"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    assert (tmp_path / "a" / "ratings.csv").read_bytes() != (
        tmp_path / "c" / "ratings.csv"
    ).read_bytes()
    summary = json.loads((tmp_path / "a" / "truth.json").read_text())
    assert sum(summary["rating_counts"].values()) == 12_000
    ratings = movielens.load_ratings(tmp_path / "a")
    shares = ratings["rating"].value_counts(normalize=True).reindex(synthetic.RATING_VALUES)
    np.testing.assert_allclose(shares.to_numpy(), RATING_SHARES, atol=0.03)


def test_heavy_and_complete_users_get_distinct_movies(tmp_path) -> None:
    # every user rates every movie: the exact (Gumbel) path must still give distinct pairs
    generate(SyntheticSpec(users=30, movies=40, ratings=1200, seed=0), tmp_path / "full")
    full = movielens.load_ratings(tmp_path / "full")
    assert len(full) == 1200 and not full.duplicated(["user_id", "movie_id"]).any()
    generate(SyntheticSpec(users=60, movies=100, ratings=3000, seed=0), tmp_path / "heavy")
    heavy = movielens.load_ratings(tmp_path / "heavy")
    assert len(heavy) == 3000 and not heavy.duplicated(["user_id", "movie_id"]).any()
    assert heavy.groupby("user_id").size().max() > 100 / 8  # some users took the exact path


def test_ground_truth_tastes_are_recoverable(small) -> None:
    truth = np.load(small / "truth.npz", allow_pickle=False)
    assert truth["user_taste"].shape == (SMALL.users, len(GENRES))
    assert truth["genres"].tolist() == list(GENRES)
    ratings = movielens.load_ratings(small)
    genres = truth["movie_genres"].astype(np.float64)
    norm = genres / np.maximum(genres.sum(axis=1, keepdims=True), 1)
    u = ratings["user_id"].to_numpy() - 1
    m = ratings["movie_id"].to_numpy() - 1
    affinity = np.einsum("ij,ij->i", truth["user_taste"][u], norm[m])
    # the ratings follow the tastes ...
    residual = ratings["rating"].to_numpy() - truth["user_bias"][u] - truth["movie_quality"][m]
    assert np.corrcoef(affinity, residual)[0, 1] > 0.4
    # ... and so does what users choose to rate: the rated movies' affinity beats random movies'
    random_m = np.random.default_rng(0).integers(0, SMALL.movies, len(u))
    random_aff = np.einsum("ij,ij->i", truth["user_taste"][u], norm[random_m])
    assert affinity.mean() > random_aff.mean() + 0.2


def test_a_model_recovers_the_tastes_better_than_popularity(small) -> None:
    from movie_roulette.models.implicit import EASERecommender
    from movie_roulette.models.popularity import PopularityRecommender

    truth = np.load(small / "truth.npz", allow_pickle=False)
    genres = truth["movie_genres"].astype(np.float64)
    norm = genres / np.maximum(genres.sum(axis=1, keepdims=True), 1)
    ratings = movielens.load_ratings(small)
    ease = EASERecommender(l2=50.0, min_item_ratings=1).fit(ratings)
    pop = PopularityRecommender().fit(ratings)

    def mean_affinity(model) -> float:
        values = []
        for user in range(1, 101):
            top = np.array([mid for mid, _ in model.recommend(user, k=10)]) - 1
            values.append((norm[top] @ truth["user_taste"][user - 1]).mean())
        return float(np.mean(values))

    assert mean_affinity(ease) > mean_affinity(pop) + 0.1


def test_the_truth_oracle_is_the_ceiling_a_fitted_model_approaches(small) -> None:
    """Held-out ratings: the oracle (true tastes, qualities, popularities) ranks them best,
    a fitted EASE comes second, popularity last; seen movies are never recommended."""
    from movie_roulette.config import SplitConfig
    from movie_roulette.data.split import train_valid_test
    from movie_roulette.evaluation.offline import ranking_metrics
    from movie_roulette.models.implicit import EASERecommender
    from movie_roulette.models.popularity import PopularityRecommender

    ratings = movielens.load_ratings(small)
    train, _, test = train_valid_test(ratings, SplitConfig(valid_fraction=0.0), seed=0)
    oracle = TruthOracle(small, train)
    ndcg = {
        name: ranking_metrics(model, train, test, k=10)["ndcg@10"]
        for name, model in {
            "oracle": oracle,
            "ease": EASERecommender(l2=50.0, min_item_ratings=1).fit(train),
            "popularity": PopularityRecommender().fit(train),
        }.items()
    }
    assert ndcg["oracle"] > ndcg["ease"] > ndcg["popularity"], ndcg
    user = int(train["user_id"].iloc[0])
    rated = set(train.loc[train["user_id"] == user, "movie_id"])
    assert not rated & {m for m, _ in oracle.recommend(user, k=50)}
    with pytest.raises(ValueError, match="relevant"):
        TruthOracle(small, train, relevant=0.5)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--users", "10", "--movies", "30", "--ratings", "301"], "more than users x movies"),
        (["--users", "10", "--movies", "30", "--ratings", "199"], "fewer than 20 per user"),
        (["--users", "10", "--movies", "19", "--ratings", "190"], "--movies"),
        (["--users", "0", "--movies", "30", "--ratings", "100"], "--users"),
    ],
)
def test_out_of_range_arguments_exit_2_with_a_clear_message(
    tmp_path, capsys, args, message
) -> None:
    with pytest.raises(SystemExit) as exc:
        main([*args, "--out", str(tmp_path / "x")])
    assert exc.value.code == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "x").exists()
    with pytest.raises(ConfigError, match=re.escape(message)):
        SyntheticSpec(*[int(a) for a in args[1::2]]).check()


def test_cli_writes_the_files(tmp_path, capsys) -> None:
    code = main(
        ["--users", "25", "--movies", "50", "--ratings", "600", "--seed", "4", "--quiet",
         "--out", str(tmp_path)]
    )  # fmt: skip
    assert code == 0 and "wrote 600 ratings" in capsys.readouterr().out
    assert movielens.has_movielens(tmp_path) and (tmp_path / "truth.json").is_file()


def test_users_short_after_the_drawing_rounds_are_completed_exactly(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(synthetic, "_ROUNDS", 1)  # most users finish on the exact path
    generate(SyntheticSpec(users=80, movies=300, ratings=8000, seed=5), tmp_path)
    ratings = movielens.load_ratings(tmp_path)
    assert len(ratings) == 8000 and not ratings.duplicated(["user_id", "movie_id"]).any()
    truth = np.load(tmp_path / "truth.npz", allow_pickle=False)
    assert (ratings.groupby("user_id").size().to_numpy() == truth["user_n_ratings"]).all()
