"""The served model has seen every rating: it never recommends or spins a movie the user rated.

Issue 14 item 1: the registered model used to be the evaluation model (train + valid), so each
user's test ratings were unknown to it and came back as recommendations. This follows the path
the training pipeline takes (sources -> catalogue -> content features -> split -> train_hybrid ->
refit_for_serving -> bundle -> service) on the real MovieLens ml-latest-small ratings.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from movie_roulette import columns as C
from movie_roulette.bundle import ModelBundle
from movie_roulette.config import ModelConfig, SVDConfig, config_from_dict
from movie_roulette.data import sources
from movie_roulette.data.catalogue import merge_catalogue
from movie_roulette.data.split import train_valid_test
from movie_roulette.features.text import add_content_text
from movie_roulette.final_fit import HOLDOUT, SERVED, refit_for_serving
from movie_roulette.models.hybrid import train_hybrid
from movie_roulette.service import RecommenderService

pytestmark = pytest.mark.slow
K = 10


@pytest.fixture(scope="module")
def served(shared_data_dir: Path) -> tuple[RecommenderService, pd.DataFrame, dict]:
    cfg = config_from_dict(
        {
            "data": {"source": "movielens", "data_dir": str(shared_data_dir), "download": False},
        }
    )
    ratings = sources.load_ratings(cfg.data, cfg.seed)
    catalogue = merge_catalogue(sources.load_catalogue_sources(cfg.data, cfg.seed), ratings)
    features = add_content_text(catalogue)
    train, valid, test = train_valid_test(ratings, cfg.split, cfg.seed)
    # the pipeline's functions; fewer SVD factors/epochs only to keep the suite quick
    model_cfg = ModelConfig(svd=SVDConfig(n_factors=32, n_epochs=10))
    model = train_hybrid(train, valid, features, model_cfg, seed=cfg.seed, k=K)
    model, fits = refit_for_serving(model, train, valid, test, features)
    bundle = ModelBundle(model=model, catalogue=features, manifest={"metadata": {}})
    raw = pd.read_csv(shared_data_dir / "ml-latest-small" / "ratings.csv")
    return RecommenderService(bundle), raw, {n: f.to_dict() for n, f in fits.items()}


def test_no_user_is_recommended_or_spun_a_movie_they_rated(served: tuple) -> None:
    service, raw, _ = served
    rated = raw.groupby("userId")["movieId"].apply(set)
    shown = already_rated = 0
    users_hit = []
    for user, movies in rated.items():
        answer = service.handle({"kind": "recommend", "user_id": int(user), "k": K})
        spin = service.handle({"kind": "spin", "user_id": int(user), "seed": int(user)})
        ids = [it["movie_id"] for it in answer["items"]] + [spin["item"]["movie_id"]]
        hits = [m for m in ids if m in movies]
        shown += len(ids)
        already_rated += len(hits)
        if hits:
            users_hit.append(int(user))
    assert len(rated) == 610 and shown == 610 * (K + 1)
    assert already_rated == 0, (
        f"{already_rated} of {shown} recommended/spun movies were already rated "
        f"({len(users_hit)} users, e.g. {users_hit[:5]})"
    )


def test_the_served_fit_saw_every_rating_and_records_both_fits(served: tuple) -> None:
    service, raw, fits = served
    assert fits[SERVED]["rows"] == len(raw) and fits[SERVED]["data"] == "train+valid+test"
    assert fits[HOLDOUT]["data"] == "train+valid" and fits[HOLDOUT]["rows"] < len(raw)
    assert fits[HOLDOUT]["ratings_sha256"] != fits[SERVED]["ratings_sha256"]
    assert service.model.fit_info["served_fit"] == fits[SERVED]
    assert int(raw[C.USER_ID if C.USER_ID in raw else "userId"].nunique()) == fits[SERVED]["users"]


def test_all_ratings_keeps_the_last_rating_of_a_pair_rated_twice() -> None:
    from movie_roulette.final_fit import _has_duplicate_pairs, all_ratings

    def frame(rows: list[tuple[int, int, float]]) -> pd.DataFrame:
        return pd.DataFrame(rows, columns=[C.USER_ID, C.MOVIE_ID, C.RATING])

    train = frame([(1, 10, 3.0), (2, 10, 4.0)])
    valid = frame([(1, 11, 2.0)])
    disjoint = all_ratings(train, valid, frame([(2, 12, 5.0)]))
    assert disjoint.values.tolist() == [[1, 10, 3.0], [2, 10, 4.0], [1, 11, 2.0], [2, 12, 5.0]]
    again = all_ratings(train, valid, frame([(1, 10, 5.0)]))  # (1, 10) rated again in test
    assert again.values.tolist() == [[2, 10, 4.0], [1, 11, 2.0], [1, 10, 5.0]]
    assert list(again.index) == [0, 1, 2]
    assert not _has_duplicate_pairs([frame([(1, 2, 1.0), (2, 1, 1.0)])])  # not the same pair
    assert _has_duplicate_pairs([frame([(-1, 2, 1.0), (5, 1, 1.0)])])  # ids out of range
    assert _has_duplicate_pairs([frame([(1, 2, 1.0)]), frame([(3, 4, 2.0), (1, 2, 5.0)])])
