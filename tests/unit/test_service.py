"""The served request shape, answered from a bundle trained on small demo data."""

from __future__ import annotations

import pandas as pd
import pytest

from movie_roulette.bundle import ModelBundle
from movie_roulette.config import ModelConfig, SplitConfig
from movie_roulette.data.demo import generate_demo
from movie_roulette.data.split import train_valid_test
from movie_roulette.models.hybrid import train_hybrid
from movie_roulette.service import RecommenderService, RequestError


@pytest.fixture(scope="module")
def service() -> RecommenderService:
    demo = generate_demo(seed=5, n_movies=150, n_users=80, mean_ratings_per_user=40, n_reviews=10)
    train, valid, _ = train_valid_test(demo.ratings, SplitConfig(), seed=5)
    model = train_hybrid(train, valid, demo.catalogue, ModelConfig(), seed=5)
    return RecommenderService(ModelBundle(model=model, catalogue=demo.catalogue, manifest={}))


def test_recommend_returns_k_unique_unseen_movies_with_titles(service: RecommenderService) -> None:
    user = int(service.model.user_ids[0])
    answer = service.handle({"kind": "recommend", "user_id": user, "k": 7})
    ids = [item["movie_id"] for item in answer["items"]]
    assert len(ids) == len(set(ids)) == 7
    assert not set(ids) & set(service.model.seen_movie_ids(user))
    assert answer["fallback"] is None
    assert all(item["title"] and isinstance(item["genres"], list) for item in answer["items"])


def test_unknown_user_gets_a_flagged_cold_start_list(service: RecommenderService) -> None:
    answer = service.handle({"kind": "recommend", "user_id": 10**9})
    assert len(answer["items"]) == 10
    assert answer["fallback"].startswith("cold_start")


def test_similar_by_title_is_case_insensitive_and_tolerates_a_missing_year(
    service: RecommenderService,
) -> None:
    row = service.catalogue.iloc[3]
    answer = service.handle({"kind": "similar", "title": str(row["title"]).upper(), "k": 5})
    assert answer["movie"]["movie_id"] == int(row["movie_id"])
    assert len(answer["items"]) == 5
    assert int(row["movie_id"]) not in [i["movie_id"] for i in answer["items"]]


def test_unknown_title_is_an_error_entry_with_close_matches(service: RecommenderService) -> None:
    title = str(service.catalogue.iloc[0]["title"])
    answer = service.handle({"kind": "similar", "title": title[:-1] + "x"})
    assert "unknown title" in answer["error"]
    assert title in answer["did_you_mean"]


def test_predict_is_on_the_rating_scale(service: RecommenderService) -> None:
    user = int(service.model.user_ids[0])
    movie = int(service.catalogue.iloc[0]["movie_id"])
    answer = service.handle({"kind": "predict", "user_id": user, "movie_id": movie})
    assert 0.5 <= answer["prediction"] <= 5.0


def test_spin_is_reproducible_with_a_seed(service: RecommenderService) -> None:
    user = int(service.model.user_ids[1])
    first = service.handle({"kind": "spin", "user_id": user, "seed": 7})
    again = service.handle({"kind": "spin", "user_id": user, "seed": 7})
    assert first["item"] == again["item"]


@pytest.mark.parametrize(
    ("request_", "field"),
    [
        ({"kind": "dance"}, "kind"),
        ({"kind": "recommend"}, "user_id"),
        ({"kind": "recommend", "user_id": "abc"}, "user_id"),
        ({"kind": "recommend", "user_id": 1, "k": 0}, "k"),
        ({"kind": "recommend", "user_id": 1, "k": 101}, "k"),
        ({"kind": "similar"}, "movie_id"),
        ({"kind": "spin", "user_id": 1, "temperature": -1.0}, "temperature"),
    ],
)
def test_malformed_requests_name_the_field(
    service: RecommenderService, request_: dict, field: str
) -> None:
    with pytest.raises(RequestError) as err:
        service.handle(request_)
    assert err.value.field == field


def test_frame_requests_are_answered_row_by_row(service: RecommenderService) -> None:
    user = int(service.model.user_ids[0])
    frame = pd.DataFrame(
        [
            {"kind": "recommend", "user_id": user, "k": 3},
            {"kind": "spin", "user_id": user, "seed": 1},
        ]
    )
    answers = service.handle_frame(frame)
    assert [a["kind"] for a in answers] == ["recommend", "spin"]
