"""The generated demo data: contract, determinism and recoverable signal."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from movie_roulette import columns as C
from movie_roulette.data.catalogue import join_coverage, merge_catalogue
from movie_roulette.data.demo import DemoData, generate_demo

from .test_catalogue import assert_catalogue_contract


@pytest.fixture(scope="module")
def demo() -> DemoData:
    return generate_demo(seed=42)


@pytest.fixture(scope="module")
def rated_genres(demo: DemoData) -> pd.DataFrame:
    genres = demo.catalogue[[C.MOVIE_ID, C.GENRES]].assign(
        genre=lambda f: f[C.GENRES].str.split("|")
    )
    exploded = genres.explode("genre")[[C.MOVIE_ID, "genre"]]
    return demo.ratings.merge(exploded, on=C.MOVIE_ID)


def test_catalogue_follows_the_contract(demo: DemoData) -> None:
    catalogue = demo.catalogue
    assert_catalogue_contract(catalogue)
    assert len(catalogue) == 400
    assert catalogue[C.TITLE].is_unique
    assert catalogue[C.IMDB_ID].str.fullmatch(r"tt9\d{6}").all()
    assert catalogue[C.IMDB_ID].iloc[0] == "tt9000001"
    n_genres = catalogue[C.GENRES].str.count(r"\|") + 1
    assert n_genres.between(1, 3).all()
    for column in (C.DIRECTOR, C.CAST, C.KEYWORDS, C.OVERVIEW):
        assert (catalogue[column] != "").all()
    assert set("|".join(catalogue[C.GENRES]).split("|")) == set(demo.genres)
    assert len(demo.genres) == 15


def test_ratings_follow_the_contract(demo: DemoData) -> None:
    ratings = demo.ratings
    assert list(ratings.columns) == C.RATINGS_COLUMNS
    assert ratings.dtypes.astype(str).tolist() == ["int64", "int64", "float64", "int64"]
    assert not ratings.duplicated([C.USER_ID, C.MOVIE_ID]).any()
    assert ratings[C.RATING].between(0.5, 5.0).all()
    assert ((ratings[C.RATING] * 2) % 1 == 0).all()
    per_user = ratings.groupby(C.USER_ID).size()
    assert len(per_user) == 300 and per_user.min() >= 20
    assert 70 <= per_user.mean() <= 110 and per_user.std() > 20
    assert set(ratings[C.MOVIE_ID]) <= set(demo.catalogue[C.MOVIE_ID])
    years = pd.to_datetime(ratings[C.TIMESTAMP], unit="s").dt.year
    assert years.nunique() >= 3


def test_user_tastes_sum_to_one(demo: DemoData) -> None:
    tastes = demo.user_tastes
    assert list(tastes.columns) == [C.USER_ID, "genre", "weight"]
    assert tastes.groupby(C.USER_ID)["weight"].sum().to_numpy() == pytest.approx(1.0)


def test_same_seed_same_data_other_seed_other_data() -> None:
    a, b, c = generate_demo(seed=7), generate_demo(seed=7), generate_demo(seed=8)
    for name in ("ratings", "catalogue", "reviews", "user_tastes"):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name))
    assert not a.ratings.equals(c.ratings)
    assert a.catalogue[C.TITLE].tolist() != c.catalogue[C.TITLE].tolist()


def test_users_rate_their_favourite_genre_higher(demo: DemoData, rated_genres) -> None:
    tastes = demo.user_tastes
    top = tastes.loc[tastes.groupby(C.USER_ID)["weight"].idxmax(), [C.USER_ID, "genre"]]
    disliked = tastes.loc[tastes["weight"] < 0.01, [C.USER_ID, "genre"]]
    means = rated_genres.groupby([C.USER_ID, "genre"])[C.RATING].mean().rename("m").reset_index()
    top_mean = top.merge(means)["m"].mean()
    disliked_mean = disliked.merge(means)["m"].mean()
    assert top_mean - disliked_mean > 0.5


def test_rating_counts_follow_taste(demo: DemoData, rated_genres) -> None:
    counts = rated_genres.groupby([C.USER_ID, "genre"]).size().rename("n").reset_index()
    joined = demo.user_tastes.merge(counts, how="left").fillna({"n": 0})
    joined["share"] = joined["n"] / joined.groupby(C.USER_ID)["n"].transform("sum")
    assert np.corrcoef(joined["weight"], joined["share"])[0, 1] > 0.6


def test_reviews_follow_the_rating(demo: DemoData) -> None:
    reviews = demo.reviews
    assert len(reviews) == 3000 and reviews[C.REVIEW_ID].is_unique
    assert str(reviews[C.USER_ID].dtype) == "Int64"
    assert reviews[C.REVIEW_TEXT].str.len().gt(20).all()
    keyed = reviews.merge(demo.ratings, on=[C.USER_ID, C.MOVIE_ID], suffixes=("", "_r"))
    assert len(keyed) == len(reviews) and (keyed[C.RATING] == keyed[f"{C.RATING}_r"]).all()
    praise = reviews[C.REVIEW_TEXT].str.contains("loved|superb|brilliant|masterpiece|wonderful")
    assert praise[reviews[C.RATING] >= 4.5].mean() > 0.6
    assert praise[reviews[C.RATING] <= 1.5].mean() < 0.1


def test_small_configs_work() -> None:
    tiny = generate_demo(seed=1, n_movies=15, n_users=5, mean_ratings_per_user=10, n_reviews=10)
    assert tiny.ratings.groupby(C.USER_ID).size().min() >= 10
    assert len(tiny.reviews) == 10 and tiny.catalogue[C.TITLE].is_unique


def test_bad_sizes_raise() -> None:
    with pytest.raises(ValueError, match="n_movies"):
        generate_demo(n_movies=0)


def test_merging_the_demo_catalogue_only_recomputes_popularity(demo: DemoData) -> None:
    merged = merge_catalogue({"movies": demo.catalogue}, demo.ratings)
    pd.testing.assert_frame_equal(
        merged.drop(columns=C.POPULARITY), demo.catalogue.drop(columns=C.POPULARITY)
    )
    assert merged[C.POPULARITY].sum() == len(demo.ratings)
    assert join_coverage(demo.ratings, merged) == 1.0
