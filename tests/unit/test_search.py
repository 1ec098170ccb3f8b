"""Title search: tiers, typo/case/accent tolerance, popularity ties, bad input."""

from __future__ import annotations

import pytest

from movie_roulette.search import TitleIndex, normalise

ROWS = [
    (1, "The Godfather", 1972, 500.0),
    (2, "The Godfather Part II", 1974, 300.0),
    (3, "Godzilla", 1998, 50.0),
    (4, "The Shawshank Redemption", 1994, 900.0),
    (5, "Amélie", 2001, 120.0),
    (6, "Heat", 1995, 200.0),
    (7, "Heat", 1986, 5.0),
    (8, "The Matrix Reloaded", 2003, 150.0),
    (9, "Toy Story", 1995, 400.0),
    (10, "Beauty & the Beast", 1991, 80.0),
]


@pytest.fixture(scope="module")
def index() -> TitleIndex:
    return TitleIndex(ROWS)


def ids(matches: list) -> list[int]:
    return [m.movie_id for m in matches]


def test_normalise_folds_case_accents_and_punctuation() -> None:
    assert normalise("  Amélie: the MOVIE!! ") == "amelie the movie"
    assert normalise("Beauty & the Beast") == "beauty and the beast"


def test_prefix_matches_come_first_by_popularity(index: TitleIndex) -> None:
    assert ids(index.suggest("god", limit=3)) == [1, 2, 3]


def test_leading_article_is_optional(index: TitleIndex) -> None:
    assert ids(index.suggest("shawsh", limit=1)) == [4]
    assert index.suggest("shawsh", limit=1)[0].tier == "prefix"


def test_words_match_in_any_order(index: TitleIndex) -> None:
    assert ids(index.suggest("reloaded matr", limit=1)) == [8]


def test_case_and_accents_do_not_matter(index: TitleIndex) -> None:
    assert ids(index.suggest("AMELIE", limit=1)) == [5]
    assert ids(index.suggest("toy STORY", limit=1)) == [9]


@pytest.mark.parametrize(
    ("typed", "expected"),
    [("godfahter", 1), ("shawshank redemtion", 4), ("toy stroy", 9), ("the matirx", 8)],
)
def test_typos_still_find_the_movie(index: TitleIndex, typed: str, expected: int) -> None:
    assert expected in ids(index.suggest(typed, limit=3))


def test_a_trailing_year_picks_that_movie(index: TitleIndex) -> None:
    assert ids(index.suggest("heat 1986", limit=2)) == [7, 6]
    assert ids(index.suggest("heat", limit=2)) == [6, 7]


def test_nothing_typed_or_nothing_close_gives_no_suggestions(index: TitleIndex) -> None:
    assert index.suggest("   ") == []
    assert index.suggest("zzzzqqqq") == []


def test_limit_is_checked(index: TitleIndex) -> None:
    with pytest.raises(ValueError, match="limit"):
        index.suggest("god", limit=0)
    assert len(index.suggest("the", limit=2)) == 2
