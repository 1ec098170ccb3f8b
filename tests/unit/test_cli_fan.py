"""`movie-roulette` as a fan uses it (issue 14, item 4): `similar --title Matrix` finds the movie
the web autocomplete finds, `search TEXT` prints ids for `predict` and `--rate`, `spin --genre`
spins within a genre, tables fit the terminal without cutting ids, and no "seed None"."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest
from click.testing import CliRunner

from movie_roulette import bundle
from movie_roulette.config import ModelConfig, SplitConfig
from movie_roulette.data.demo import generate_demo
from movie_roulette.data.split import train_valid_test
from movie_roulette.models.hybrid import train_hybrid
from serving.cli import _table, main, render
from tests.webapp_support import contract_server

TITLES = {
    "Matrix, The": 1999,
    "Amelie (Fabuleux destin d'Amélie Poulain, Le)": 2001,
    "Spirited Away (Sen to Chihiro no kamikakushi)": 2001,
    "Heat": 1995,
    "Heat, The": 2013,
    "Hamlet": 1990,
    "Hamlet ": 1996,
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, int]]]:
    demo = generate_demo(seed=4, n_movies=120, n_users=60, mean_ratings_per_user=30, n_reviews=0)
    train, valid, _ = train_valid_test(demo.ratings, SplitConfig(), seed=4)
    model = train_hybrid(train, valid, demo.catalogue, ModelConfig(), seed=4)
    catalogue = demo.catalogue.copy()
    ids = {}
    for row, (title, year) in enumerate(TITLES.items()):
        catalogue.loc[row, ["title", "year"]] = [title.strip(), year]
        ids[title] = int(catalogue.loc[row, "movie_id"])
    path = bundle.save(tmp_path_factory.mktemp("cli") / "bundle", model, catalogue)
    with contract_server(path) as url:
        yield url, ids


def run(url: str, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["--server", url, *args], terminal_width=80)
    return result.exit_code, result.output


@pytest.mark.parametrize(
    ("typed", "title"),
    [
        ("Matrix", "Matrix, The"),
        ("Amelie", "Amelie (Fabuleux destin d'Amélie Poulain, Le)"),
        ("Spirited Away", "Spirited Away (Sen to Chihiro no kamikakushi)"),
    ],
)
def test_similar_by_title_finds_the_movie(server: tuple, typed: str, title: str) -> None:
    url, ids = server
    code, out = run(url, "--json", "similar", "--title", typed, "-k", "3")
    assert code == 0, out
    assert json.loads(out)["movie"]["movie_id"] == ids[title]
    code, out = run(url, "similar", "--title", typed, "-k", "3")
    assert code == 0 and out.startswith(f"Similar to {title.split(' (')[0]}")


def test_an_ambiguous_title_lists_the_candidates_with_ids(server: tuple) -> None:
    url, ids = server
    code, out = run(url, "similar", "--title", "hamlet")
    assert code == 1
    assert "ambiguous title 'hamlet'" in out
    assert str(ids["Hamlet"]) in out and str(ids["Hamlet "]) in out


def test_search_prints_ids_for_predict_and_rate(server: tuple) -> None:
    url, ids = server
    code, out = run(url, "search", "spirted away")  # a typo
    assert code == 0, out
    assert "predict --movie ID" in out and "--rate ID=RATING" in out
    assert re.search(
        rf"^\s+1\s+{ids['Spirited Away (Sen to Chihiro no kamikakushi)']}\s", out, re.M
    )
    code, out = run(url, "search", "qqqzzzxxyy")
    assert code == 0 and "No movie title matches" in out


def test_spin_within_a_genre_and_never_seed_none(server: tuple) -> None:
    url, _ = server
    code, out = run(url, "--json", "spin", "--user", "1", "--genre", "Comedy")
    assert code == 0, out
    answer = json.loads(out)
    assert "Comedy" in answer["item"]["genres"]
    assert isinstance(answer["seed"], int)  # drawn by the server, so the spin can be repeated
    again = json.loads(run(url, "--json", "spin", "--user", "1", "--seed", str(answer["seed"]),
                           "--genre", "Comedy")[1])  # fmt: skip
    assert again["item"] == answer["item"]
    code, out = run(url, "spin", "--user", "1")
    assert code == 0 and "None" not in out and re.search(r"seed \d+", out)
    item = {"movie_id": 6, "title": "Heat", "year": 1995, "genres": ["Crime"], "score": 1.0}
    assert "seed" not in render({"kind": "spin", "pool_size": 20, "seed": None, "item": item})


@pytest.mark.parametrize("width", [40, 60, 80, 120])
def test_tables_fit_the_terminal_and_never_cut_an_id(width: int) -> None:
    items = [
        {
            "movie_id": 100000 + 77777 * i,
            "title": "Star Wars: Episode V - The Empire Strikes Back " * (1 + i % 2),
            "year": 1980,
            "genres": ["Action", "Adventure", "Sci-Fi", "IMAX"],
            "score": 12.345,
            "reasons": ["because you rated Star Wars: Episode IV - A New Hope highly"],
        }
        for i in range(4)
    ]
    text = _table(items, width=width)
    assert max(len(line) for line in text.splitlines()) <= width
    for item in items:
        assert re.search(rf"\b{item['movie_id']}\b", text)
