from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pytest

from movie_roulette.evaluation import BehaviourReport, raise_for_failure, run_behavioural_checks
from movie_roulette.exceptions import BehaviouralCheckFailed

GENRES = ["Action", "Comedy", "Drama", "Horror"]


@dataclass
class Item:
    movie_id: int
    score: float


@dataclass
class Recs:
    items: list[Item]
    fallback: str | None = None


def make_catalogue(n_movies: int = 120) -> pd.DataFrame:
    ids = np.arange(1, n_movies + 1)
    return pd.DataFrame(
        {
            "movie_id": ids,
            "title": [f"Movie {i}" for i in ids],
            "genres": [GENRES[i % 4] for i in ids],
            "popularity": (n_movies - ids).astype(float),  # movie 1 is the most popular
        }
    )


def make_train(n_users: int = 30, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = [
        (u, int(m), 4.0)
        for u in range(1, n_users + 1)
        for m in rng.choice(60, 8, replace=False) + 1
    ]
    return pd.DataFrame(rows, columns=["user_id", "movie_id", "rating"])


@dataclass
class GoodModel:
    """Popularity ranking for known users; genre-aware fold-in; popularity cold start."""

    train: pd.DataFrame
    catalogue: pd.DataFrame
    seen: dict[int, set[int]] = field(init=False)

    def __post_init__(self) -> None:
        self.seen = {u: set(g) for u, g in self.train.groupby("user_id")["movie_id"]}
        ranked = self.catalogue.sort_values("popularity", ascending=False)
        self.ranked = list(
            zip(ranked["movie_id"], ranked["genres"], ranked["popularity"], strict=True)
        )

    def _top(self, exclude: set[int], k: int, genres: set[str] | None = None) -> list[Item]:
        out = [
            Item(int(m), float(p))
            for m, g, p in self.ranked
            if m not in exclude and (genres is None or g in genres)
        ]
        return out[:k]

    def recommend_items(self, user_id, k=10, exclude_seen=True, genre=None) -> Recs:
        if user_id not in self.seen:
            return Recs(self._top(set(), k), fallback="cold_start:popularity")
        return Recs(self._top(self.seen[user_id] if exclude_seen else set(), k))

    def recommend_from_ratings(self, ratings: Mapping[int, float], k=10, genre=None) -> Recs:
        liked = set(self.catalogue.set_index("movie_id").loc[list(ratings), "genres"])
        return Recs(self._top(set(ratings), k, liked), fallback="content")


class SeenModel(GoodModel):
    def recommend_items(self, user_id, k=10, exclude_seen=True, genre=None) -> Recs:
        return super().recommend_items(user_id, k, exclude_seen=False, genre=genre)


class DuplicateModel(GoodModel):
    def recommend_items(self, user_id, k=10, exclude_seen=True, genre=None) -> Recs:
        recs = super().recommend_items(user_id, k, exclude_seen, genre)
        return Recs(recs.items[: k - 1] + recs.items[:1], recs.fallback)


class GenreBlindModel(GoodModel):
    def recommend_from_ratings(self, ratings: Mapping[int, float], k=10, genre=None) -> Recs:
        return Recs(self._top(set(ratings), k))


class NoFallbackModel(GoodModel):
    def recommend_items(self, user_id, k=10, exclude_seen=True, genre=None) -> Recs:
        return Recs(super().recommend_items(user_id, k, exclude_seen, genre).items)


class RandomModel(GoodModel):
    def recommend_items(self, user_id, k=10, exclude_seen=True, genre=None) -> Recs:
        recs = super().recommend_items(user_id, 40, exclude_seen, genre)
        picked = np.random.default_rng().permutation(len(recs.items))[:k]
        return Recs([recs.items[i] for i in picked], recs.fallback)


@pytest.fixture(scope="module")
def data() -> tuple[pd.DataFrame, pd.DataFrame]:
    return make_train(), make_catalogue()


def run(model_cls, data, **kwargs) -> BehaviourReport:
    train, catalogue = data
    return run_behavioural_checks(model_cls(train, catalogue), train, catalogue, k=10, **kwargs)


def failed(report: BehaviourReport) -> set[str]:
    return {c["name"] for c in report.checks if not c["passed"]}


def test_good_model_passes_every_check(data) -> None:
    report = run(GoodModel, data, sample_users=20)
    assert report.passed, report.to_text()
    assert [c["name"] for c in report.checks] == [
        "no_seen_movies",
        "k_unique_known",
        "deterministic",
        "genre_fan",
        "cold_start",
        "serve_pool",
    ]
    assert report.checks[5]["detail"] == "no serve_pool: every movie is scored"
    genre_fan = report.checks[3]["detail"]
    assert "gain >= +0.25" in genre_fan
    raise_for_failure(report)
    assert report.to_dict()["passed"] is True


@pytest.mark.parametrize(
    ("model_cls", "expected"),
    [
        (SeenModel, {"no_seen_movies"}),
        (DuplicateModel, {"k_unique_known", "cold_start"}),  # duplicates everywhere
        (GenreBlindModel, {"genre_fan"}),
        (NoFallbackModel, {"cold_start"}),
        (RandomModel, {"deterministic"}),
    ],
)
def test_broken_model_fails_the_right_check(model_cls, expected, data) -> None:
    report = run(model_cls, data)
    assert failed(report) == expected, report.to_text()
    with pytest.raises(BehaviouralCheckFailed, match=f"FAILED {sorted(expected)[-1]}"):
        raise_for_failure(report)


def test_a_crashing_check_is_reported_not_raised(data) -> None:
    class Crashing(GoodModel):
        def recommend_from_ratings(self, ratings, k=10, genre=None):
            raise RuntimeError("boom")

    report = run(Crashing, data)
    assert failed(report) == {"genre_fan"}
    assert "RuntimeError: boom" in report.to_text()


def test_sampling_is_seeded(data) -> None:
    assert run(GoodModel, data, seed=1).to_dict() == run(GoodModel, data, seed=1).to_dict()
