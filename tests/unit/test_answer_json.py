"""The JSON the model server answers keeps its documented shape (docs/serving.md): the keys of
each kind, and `fallback` as null or one of `Fallback`'s values, the one truth shared by the
model, the service, the CLI and the web app."""

from __future__ import annotations

import json
from typing import Any

import pytest

from movie_roulette.bundle import ModelBundle
from movie_roulette.config import ModelConfig, SplitConfig
from movie_roulette.data.demo import generate_demo
from movie_roulette.data.split import train_valid_test
from movie_roulette.models.hybrid import train_hybrid
from movie_roulette.results import Fallback
from movie_roulette.service import RecommenderService

MOVIE_KEYS = {"movie_id", "title", "year", "genres"}
RANKED_KEYS = MOVIE_KEYS | {"score", "reasons"}


@pytest.fixture(scope="module")
def service() -> RecommenderService:
    demo = generate_demo(seed=7, n_movies=120, n_users=60, mean_ratings_per_user=30, n_reviews=5)
    train, valid, _ = train_valid_test(demo.ratings, SplitConfig(), seed=7)
    model = train_hybrid(train, valid, demo.catalogue, ModelConfig(), seed=7)
    return RecommenderService(ModelBundle(model=model, catalogue=demo.catalogue, manifest={}))


def _wire(service: RecommenderService, request: dict[str, Any]) -> dict[str, Any]:
    """The answer as a client receives it: a JSON round trip (fails on a leaked enum member)."""
    return json.loads(json.dumps(service.handle(request), allow_nan=False))


def test_recommend_answers_keep_their_keys_and_fallback_values(service: RecommenderService) -> None:
    user = int(service.model.user_ids[0])
    movie = int(service.catalogue.iloc[0]["movie_id"])
    known = _wire(service, {"kind": "recommend", "user_id": user, "k": 3})
    unknown = _wire(service, {"kind": "recommend", "user_id": 10**9, "k": 3})
    newcomer = _wire(service, {"kind": "recommend", "ratings": json.dumps({movie: 5}), "k": 3})
    assert set(known) == {"kind", "user_id", "fallback", "items"}
    assert set(unknown) == {"kind", "user_id", "fallback", "items"}
    assert set(newcomer) == {"kind", "user_id", "fallback", "profile_size", "items"}
    assert (known["fallback"], unknown["fallback"], newcomer["fallback"]) == (
        None,
        "cold_start:popularity+content",
        "fold_in",
    )
    for answer in (known, unknown, newcomer):
        assert answer["kind"] == "recommend" and len(answer["items"]) == 3
        assert all(set(item) == RANKED_KEYS for item in answer["items"])


def test_predict_says_the_fallback_the_model_used(service: RecommenderService) -> None:
    """The service said "unknown_user:baseline" while the model said
    "unknown_user:item_baseline" (the global mean plus the movie's bias): the model's is the
    truth, and the service only passes it on."""
    user = int(service.model.user_ids[0])
    movie = int(service.catalogue.iloc[0]["movie_id"])
    known = _wire(service, {"kind": "predict", "user_id": user, "movie_id": movie})
    unknown = _wire(service, {"kind": "predict", "user_id": 10**9, "movie_id": movie})
    keys = {"kind", "user_id", "prediction", "reasons", "fallback"} | MOVIE_KEYS
    assert set(known) == set(unknown) == keys
    assert known["fallback"] is None
    assert unknown["fallback"] == "unknown_user:item_baseline" == Fallback.UNKNOWN_USER.value
    expected = service.model.predict(10**9, movie)
    assert unknown["prediction"] == round(expected.value, 4)


def test_spin_similar_search_and_error_entries_keep_their_keys(service: RecommenderService) -> None:
    user = int(service.model.user_ids[1])
    spin = _wire(service, {"kind": "spin", "user_id": user, "seed": 3})
    assert set(spin) == {"kind", "user_id", "fallback", "pool_size", "seed", "temperature", "item"}
    assert spin["fallback"] is None and set(spin["item"]) == RANKED_KEYS
    cold = _wire(service, {"kind": "spin", "user_id": 10**9, "seed": 3})
    assert cold["fallback"] == Fallback.COLD_START.value
    movie = int(service.catalogue.iloc[2]["movie_id"])
    similar = _wire(service, {"kind": "similar", "movie_id": movie, "k": 2})
    assert set(similar) == {"kind", "movie", "items"} and set(similar["movie"]) == MOVIE_KEYS
    title = str(service.catalogue.iloc[2]["title"])
    search = _wire(service, {"kind": "search", "title": title, "k": 2})
    assert set(search) == {"kind", "query", "items"}
    genre = _wire(service, {"kind": "recommend", "user_id": user, "genre": "Opera"})
    assert set(genre) == {"kind", "error"} and "'Opera' matches no movie" in genre["error"]


@pytest.mark.parametrize(
    ("wire", "expected"),
    [
        (None, None),
        ("cold_start:popularity+content", Fallback.COLD_START),
        ("fold_in", Fallback.FOLD_IN),
        ("unknown_user:item_baseline", Fallback.UNKNOWN_USER),
        ("unknown_movie:user_baseline", Fallback.UNKNOWN_MOVIE),
        # what versions registered before the enum answer (a rollback serves them again)
        ("fold_in:ease+itemknn+svd", Fallback.FOLD_IN),
        ("unknown_user:baseline", Fallback.UNKNOWN_USER),
        ("something_new", None),
        (3, None),
    ],
)
def test_clients_read_every_fallback_value(wire: object, expected: Fallback | None) -> None:
    assert Fallback.from_json(wire) is expected


def test_every_fallback_value_is_distinct_and_a_string() -> None:
    values = [f.value for f in Fallback]
    assert len(set(values)) == len(values) and all(isinstance(v, str) for v in values)
