"""The server's title lookup uses the web autocomplete's typo-tolerant matcher (issue 14, item 4):
"Matrix", "Amelie" and "Spirited Away" name their movie; an ambiguous title answers with the
candidates; `search` lists ids for `predict` and a newcomer's `ratings`."""

from __future__ import annotations

import pytest

from movie_roulette.bundle import ModelBundle
from movie_roulette.config import ModelConfig, SplitConfig
from movie_roulette.data.demo import generate_demo
from movie_roulette.data.split import train_valid_test
from movie_roulette.models.hybrid import train_hybrid
from movie_roulette.search import TitleIndex, core_title
from movie_roulette.service import RecommenderService, RequestError

# ml-latest-small's own spelling of these titles (the year is a separate column)
REAL_TITLES = [
    "Matrix, The",
    "Matrix Reloaded, The",
    "Matrix Revolutions, The",
    "Amelie (Fabuleux destin d'Amélie Poulain, Le)",
    "Spirited Away (Sen to Chihiro no kamikakushi)",
    "Heat",
    "Heat, The",
    "Godfather, The",
    "Godfather: Part II, The",
    "Hamlet",
    "Hamlet",
]


@pytest.fixture(scope="module")
def service() -> RecommenderService:
    demo = generate_demo(seed=5, n_movies=150, n_users=80, mean_ratings_per_user=40, n_reviews=10)
    train, valid, _ = train_valid_test(demo.ratings, SplitConfig(), seed=5)
    model = train_hybrid(train, valid, demo.catalogue, ModelConfig(), seed=5)
    catalogue = demo.catalogue.copy()
    catalogue.loc[: len(REAL_TITLES) - 1, "title"] = REAL_TITLES
    return RecommenderService(ModelBundle(model=model, catalogue=catalogue, manifest={}))


def movie_of(service: RecommenderService, title: str) -> int:
    ids = service.catalogue.index[service.catalogue["title"] == title]
    return int(ids[0])


def test_core_title_drops_articles_alternative_titles_and_years() -> None:
    assert core_title("Matrix, The (1999)") == "matrix"
    assert core_title("The Matrix") == "matrix"
    assert core_title("Spirited Away (Sen to Chihiro no kamikakushi)") == "spirited away"
    assert core_title("Amelie (Fabuleux destin d'Amélie Poulain, Le)") == "amelie"


@pytest.mark.parametrize(
    ("typed", "title"),
    [
        ("Matrix", "Matrix, The"),
        ("the matrix", "Matrix, The"),
        ("Amelie", "Amelie (Fabuleux destin d'Amélie Poulain, Le)"),
        ("amélie", "Amelie (Fabuleux destin d'Amélie Poulain, Le)"),
        ("Spirited Away", "Spirited Away (Sen to Chihiro no kamikakushi)"),
        ("spirted away", "Spirited Away (Sen to Chihiro no kamikakushi)"),  # a typo
        ("godfahter", "Godfather, The"),  # a typo of one whole title, not of "Part II"
        ("matrix reloaded", "Matrix Reloaded, The"),
    ],
)
def test_similar_by_title_finds_what_the_autocomplete_finds(
    service: RecommenderService, typed: str, title: str
) -> None:
    answer = service.handle({"kind": "similar", "title": typed, "k": 3})
    assert "error" not in answer, answer
    assert answer["movie"]["movie_id"] == movie_of(service, title)
    assert len(answer["items"]) == 3
    # the web autocomplete offers the same movie for what was typed
    assert movie_of(service, title) in [m.movie_id for m in service.titles.suggest(typed)]


def hamlets(service: RecommenderService) -> list[int]:
    return [int(m) for m in service.catalogue.index[service.catalogue["title"] == "Hamlet"]]


def test_an_ambiguous_title_answers_with_the_candidates(service: RecommenderService) -> None:
    answer = service.handle({"kind": "similar", "title": "hamlet"})
    assert answer["error"].startswith("ambiguous title 'hamlet'")
    assert {c["movie_id"] for c in answer["candidates"]} == set(hamlets(service))
    assert all(c["title"] == "Hamlet" and "year" in c for c in answer["candidates"])
    assert len(answer["did_you_mean"]) == 2
    # an exact catalogue title wins over a title that only differs by its article
    assert service.handle({"kind": "similar", "title": "heat"})["movie"]["movie_id"] == movie_of(
        service, "Heat"
    )
    partial = service.handle({"kind": "similar", "title": "matr"})
    assert partial["error"].startswith("ambiguous title")
    assert movie_of(service, "Matrix, The") in {c["movie_id"] for c in partial["candidates"]}


def test_a_year_picks_one_of_two_movies_with_the_same_title(service: RecommenderService) -> None:
    first, second = hamlets(service)
    year = service.movie_info(first)["year"]
    assert year != service.movie_info(second)["year"]
    answer = service.handle({"kind": "similar", "title": f"Hamlet ({year})", "k": 2})
    assert answer["movie"]["movie_id"] == first


def test_search_lists_matching_movies_with_ids(service: RecommenderService) -> None:
    answer = service.handle({"kind": "search", "title": "matrix", "k": 5})
    assert answer["kind"] == "search" and answer["query"] == "matrix"
    ids = [item["movie_id"] for item in answer["items"]]
    assert movie_of(service, "Matrix, The") in ids
    assert all(service.knows_movie(m) for m in ids)
    assert all({"movie_id", "title", "year", "genres"} <= set(item) for item in answer["items"])
    assert len(service.handle({"kind": "search", "title": "matrix", "k": 1})["items"]) == 1
    with pytest.raises(RequestError, match="title"):
        service.handle({"kind": "search"})


def test_title_index_resolution_without_a_service() -> None:
    index = TitleIndex([(1, "Heat", 1995, 10.0), (2, "Heat", 1986, 1.0), (3, "Toy Story", 1995, 5)])
    assert index.resolve("toy story").movie_id == 3
    assert index.resolve("heat 1986").movie_id == 2
    both = index.resolve("heat")
    assert both.ambiguous and [m.movie_id for m in both.candidates] == [1, 2]
    assert index.resolve("zzzzqqq").candidates == []
