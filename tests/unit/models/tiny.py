"""A tiny hand-made world: action fans and comedy fans (shared by model and bundle tests)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from movie_roulette.config import ContentConfig, ImplicitConfig, ModelConfig, SVDConfig

ACTION = list(range(1, 11))  # movie ids 1..10
COMEDY = list(range(11, 21))  # movie ids 11..20
ACTION_FANS = list(range(1, 9))
COMEDY_FANS = list(range(9, 17))


def tiny_catalogue() -> pd.DataFrame:
    rows = []
    for m in ACTION + COMEDY:
        action = m in ACTION
        rows.append(
            {
                "movie_id": m,
                "title": f"Movie {m}",
                "year": 2000 + m,
                "genres": "Action|Thriller" if action else "Comedy|Romance",
                "director": "Jane Action" if action else "Joe Funny",
                "cast": "Big Star|Tough Guy" if action else "Funny Woman|Clown Man",
                "keywords": "explosion|chase" if action else "wedding|jokes",
                "overview": "A hero fights villains in a chase."
                if action
                else "A couple laughs at a wedding.",
                "popularity": float(m),
                "imdb_id": pd.NA,
                "tmdb_id": pd.NA,
            }
        )
    cat = pd.DataFrame(rows)
    cat["year"] = cat["year"].astype("Int64")
    cat["imdb_id"] = cat["imdb_id"].astype("string")
    cat["tmdb_id"] = cat["tmdb_id"].astype("Int64")
    return cat


def tiny_ratings(seed: int = 0) -> pd.DataFrame:
    """Each fan rates 7 of their genre's movies high and 2 of the other genre low."""
    rng = np.random.default_rng(seed)
    rows = []
    for users, own, other in ((ACTION_FANS, ACTION, COMEDY), (COMEDY_FANS, COMEDY, ACTION)):
        for u in users:
            for m in rng.choice(own, 7, replace=False):
                rows.append((u, int(m), float(rng.choice([4.0, 4.5, 5.0]))))
            for m in rng.choice(other, 2, replace=False):
                rows.append((u, int(m), float(rng.choice([1.0, 1.5, 2.0]))))
    frame = pd.DataFrame(rows, columns=["user_id", "movie_id", "rating"])
    frame["timestamp"] = np.arange(len(frame), dtype=np.int64) + 1_500_000_000
    return frame


def tiny_model_config() -> ModelConfig:
    return ModelConfig(
        svd=SVDConfig(n_factors=4, n_epochs=10),
        content=ContentConfig(n_neighbours=5),
        implicit=ImplicitConfig(l2=5.0, min_item_ratings=1, knn_neighbours=5),
    )


def split_tiny(ratings: pd.DataFrame, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per user: two ratings to validation, the rest to train."""
    rng = np.random.default_rng(seed)
    key = pd.Series(rng.random(len(ratings)), index=ratings.index)
    rank = key.groupby(ratings["user_id"]).rank(method="first")
    valid = rank <= 2
    return ratings[~valid].reset_index(drop=True), ratings[valid].reset_index(drop=True)
