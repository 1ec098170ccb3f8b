"""Low ratings are not likes (issue 14, item 2): in the newcomer fold-in a disliked movie pushes
movies like it down; "because you rated X highly" only cites liked movies; the web newcomer flow
shows no such reason for a newcomer who rated everything low."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from movie_roulette.config import ModelConfig, SplitConfig
from movie_roulette.data.demo import generate_demo
from movie_roulette.data.split import train_valid_test
from movie_roulette.explain import Explainer
from movie_roulette.models.hybrid import HybridRecommender, train_hybrid
from movie_roulette.taste import disliked_mask, liked_mask
from tests.webapp_support import build_demo_bundle, contract_server, make_app


@pytest.fixture(scope="module")
def demo_model() -> tuple[HybridRecommender, object]:
    demo = generate_demo(seed=7, n_movies=150, n_users=80, mean_ratings_per_user=40, n_reviews=0)
    train, valid, _ = train_valid_test(demo.ratings, SplitConfig(), seed=7)
    return train_hybrid(train, valid, demo.catalogue, ModelConfig(), seed=7), demo.catalogue


def test_liked_and_disliked_ratings() -> None:
    ratings = np.array([5.0, 4.0, 3.5, 3.0, 2.5, 1.0, 0.5])
    assert liked_mask(ratings).tolist() == [True, True, False, False, False, False, False]
    assert liked_mask(np.array([3.5, 1.0, 1.0])).tolist() == [True, False, False]
    assert disliked_mask(ratings).tolist() == [False, False, False, False, True, True, True]
    assert not liked_mask(np.array([1.0, 1.0, 0.5])).any()  # all low: nothing liked
    assert liked_mask(np.array([3.0, 1.0, 1.0])).tolist() == [True, False, False]  # mean + 1
    assert not liked_mask(np.array([2.5, 0.5, 0.5])).any()  # above the mean, still low


def ranks(model: HybridRecommender, profile: dict[int, float], movies: list[int]) -> float:
    order = model.recommend_from_ratings(profile, k=model.n_movies).movie_ids
    return float(np.mean([order.index(m) for m in movies if m in order]))


def test_a_disliked_movie_pushes_movies_like_it_down(demo_model: tuple) -> None:
    model, _ = demo_model
    popular = model.movie_ids[np.argsort(-np.bincount(model._ui_indices))]
    worse = better = 0
    for disliked, anchor in zip(popular[:10], popular[10:20], strict=True):
        disliked, anchor = int(disliked), int(anchor)
        like_it = [m for m, _ in model.similar_movies(disliked, k=8) if m != anchor][:5]
        alone = ranks(model, {anchor: 5.0}, like_it)
        with_dislike = ranks(model, {anchor: 5.0, disliked: 0.5}, like_it)
        with_like = ranks(model, {anchor: 5.0, disliked: 5.0}, like_it)
        worse += with_dislike > alone
        better += with_like < alone
    assert worse == 10 and better == 10


def test_reasons_never_call_a_low_rating_a_like(demo_model: tuple) -> None:
    model, catalogue = demo_model
    explainer = Explainer(model, catalogue)
    movies = [int(m) for m in model.movie_ids[:3]]
    low = {movies[0]: 1.0, movies[1]: 1.0, movies[2]: 0.5}
    assert explainer.profile_from_ratings(low).liked == []
    assert explainer.profile_from_ratings(low).favourite_genres == []
    recs = model.recommend_from_ratings(low, k=10)
    reasons = explainer.for_people(
        recs.movie_ids, explainer.profile_from_ratings(low), [i.components for i in recs.items]
    )
    flat = [r for rs in reasons for r in rs]
    assert not [r for r in flat if r.startswith("because you rated")]
    assert "liked by people with similar taste" not in flat
    mixed = {**low, movies[0]: 4.5}
    assert explainer.profile_from_ratings(mixed).liked == [movies[0]]
    for user in model.user_ids[:20]:
        profile = explainer.user_profile(int(user))
        idx, values = model.seen(model.user_index(int(user)))
        rated = dict(zip(model.movie_ids[idx].tolist(), values.tolist(), strict=True))
        liked = liked_mask(np.array(list(rated.values())))
        assert set(profile.liked) == {m for m, ok in zip(rated, liked, strict=True) if ok}


def test_the_web_newcomer_who_rated_everything_low_is_not_told_they_liked_it(
    tmp_path: Path,
) -> None:
    path = build_demo_bundle(tmp_path / "bundle", enriched=False)
    with contract_server(path) as url:
        client = make_app(path, url).test_client()
        form = client.get("/newcomer").get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)  # type: ignore[union-attr]
        rated = list(dict.fromkeys(int(m) for m in re.findall(r'name="rating-(\d+)"', form)))[:3]
        data = {f"rating-{m}": "1" for m in rated}
        client.post("/newcomer", data={**data, "action": "done", "csrf_token": token})
        html = client.get("/newcomer/recommendations").get_data(as_text=True)
        assert re.findall(r'class="card" data-movie-id="(\d+)"', html)
        assert "because you rated" not in html
        assert "liked by people with similar taste" not in html


def test_review_reasons_quote_the_catalogues_share_and_count(tmp_path: Path) -> None:
    from movie_roulette import bundle
    from tests.webapp_support import service_for

    path = build_demo_bundle(tmp_path / "rich", enriched=True)
    service = service_for(path)
    catalogue = bundle.load_catalogue(path).set_index("movie_id")
    quoted = 0
    for user in service.model.user_ids[:15]:
        answer = service.handle({"kind": "recommend", "user_id": int(user), "k": 20})
        for item in answer["items"]:
            for reason in item["reasons"]:
                found = re.fullmatch(r"reviews (\d+)% positive \((\d+) reviews\)", reason)
                if found:
                    row = catalogue.loc[item["movie_id"]]
                    assert int(found.group(2)) == int(row["sentiment_count"]) >= 3
                    share = round(100 * float(row["sentiment_positive_share"]))
                    assert int(found.group(1)) == share
                    quoted += 1
    assert quoted > 0
