"""The catalogue store: optional columns shown when present, graceful when absent."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from movie_roulette.exceptions import BundleError
from webapp.catalogue import CatalogueStore


def base_catalogue() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "movie_id": [1, 2, 3],
            "title": ["Alpha", "Beta", "Gamma"],
            "year": pd.array([2001, None, 1999], dtype="Int64"),
            "genres": ["Action|Drama", "", "Comedy"],
            "director": ["Ann", "", "Cy"],
            "cast": ["A|B", "", ""],
            "keywords": ["", "", ""],
            "overview": ["Plot.", "", ""],
            "popularity": [10.0, 5.0, 1.0],
            "imdb_id": pd.array(["tt0000001", None, None], dtype="string"),
            "tmdb_id": pd.array([11, None, None], dtype="Int64"),
        }
    )


def test_base_columns_only_give_none_for_the_optional_fields() -> None:
    store = CatalogueStore(base_catalogue(), [3, 1, 2])
    movie = store.movie(2)
    assert movie is not None
    assert movie["year"] is None and movie["genres"] == [] and movie["overview"] is None
    assert movie["runtime"] is None and movie["vote_average"] is None
    assert store.reviews(1) == [] and store.sentiment(1) is None
    assert store.user_ids == [1, 2, 3] and store.knows_user(2) and not store.knows_user(4)
    assert store.genres == ["Action", "Comedy", "Drama"]
    assert store.movie(99) is None


def test_sentiment_comes_from_the_catalogue_columns_when_present() -> None:
    cat = base_catalogue().assign(
        sentiment_positive_share=[0.82, np.nan, 0.1],
        sentiment_count=[50, 0, 10],
        sentiment_confidence=[0.9, np.nan, 0.7],
        runtime=pd.array([125, None, 90], dtype="Int64"),
        vote_average=[7.9, np.nan, 5.5],
    )
    store = CatalogueStore(cat, [1])
    summary = store.sentiment(1)
    assert summary is not None and summary.percent_positive == 82 and summary.count == 50
    assert store.sentiment(2) is None
    assert store.movie(1)["runtime"] == 125 and store.movie(2)["runtime"] is None


def test_sentiment_is_computed_from_scored_reviews_otherwise() -> None:
    reviews = pd.DataFrame(
        {
            "review_id": ["a", "b", "c", "d"],
            "movie_id": [1, 1, 1, 2],
            "review": ["good", "bad", "fine", "   "],
            "sentiment": [0.9, 0.2, np.nan, 0.9],
            "sentiment_label": [None, None, "positive", None],
        }
    )
    store = CatalogueStore(base_catalogue(), [1], reviews)
    labels = [r.label for r in store.reviews(1)]
    assert labels == ["positive", "negative", "positive"]
    summary = store.sentiment(1)
    assert summary is not None and summary.count == 3 and summary.percent_positive == 67
    assert store.reviews(2) == []  # blank text is not a review


def test_starter_movies_are_popular_and_pageable() -> None:
    store = CatalogueStore(base_catalogue(), [1])
    assert [m["movie_id"] for m in store.starter_movies(n=2)] == [1, 2]
    assert [m["movie_id"] for m in store.starter_movies(n=2, page=1)] == [3]
    with pytest.raises(ValueError, match="n"):
        store.starter_movies(n=0)


def test_a_catalogue_without_titles_is_refused() -> None:
    with pytest.raises(BundleError, match="title"):
        CatalogueStore(base_catalogue().drop(columns="title"), [1])


def test_from_bundle_reads_the_optional_reviews(enriched_bundle: Path) -> None:
    store = CatalogueStore.from_bundle(enriched_bundle)
    assert len(store) == 120 and len(store.user_ids) > 0
    reviewed = [m for m in store.frame["movie_id"] if store.reviews(int(m))]
    assert reviewed and all(r.label for r in store.reviews(int(reviewed[0])))


def test_from_bundle_names_a_missing_bundle(tmp_path: Path) -> None:
    with pytest.raises(BundleError, match="no model bundle"):
        CatalogueStore.from_bundle(tmp_path / "nothing")
