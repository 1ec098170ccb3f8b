"""Source loaders on the real shared files and on broken copies."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from movie_roulette import columns as C
from movie_roulette.data import imdb_csv, movielens, tmdb_csv
from movie_roulette.exceptions import DataSourceError


@pytest.fixture(scope="module")
def ml_dir(shared_data_dir: Path) -> Path:
    return shared_data_dir / "ml-latest-small"


@pytest.fixture(scope="module")
def imdb(shared_data_dir: Path) -> pd.DataFrame:
    return imdb_csv.load_imdb(shared_data_dir / "imdb-5000" / "movie_metadata.csv")


@pytest.fixture(scope="module")
def tmdb(shared_data_dir: Path) -> pd.DataFrame:
    return tmdb_csv.load_tmdb(shared_data_dir / "tmdb-top10k" / "top10K-TMDB-movies.csv")


def test_ratings_have_readme_row_count_and_dtypes(ml_dir: Path) -> None:
    ratings = movielens.load_ratings(ml_dir)
    assert len(ratings) == 100_836
    assert list(ratings.columns) == C.RATINGS_COLUMNS
    assert ratings.dtypes.astype(str).tolist() == ["int64", "int64", "float64", "int64"]
    assert ratings[C.USER_ID].nunique() == 610
    assert ratings[C.MOVIE_ID].nunique() == 9_724


def test_movies_parse_year_genres_and_move_articles(ml_dir: Path) -> None:
    movies = movielens.load_movies(ml_dir).set_index(C.MOVIE_ID)
    assert len(movies) == 9_742
    assert movies.loc[1, C.TITLE] == "Toy Story" and movies.loc[1, C.YEAR] == 1995
    assert movies.loc[11, C.TITLE] == "The American President"
    assert str(movies[C.YEAR].dtype) == "Int64"
    assert movies[C.YEAR].isna().sum() == 13  # titles without "(yyyy)"
    assert not movies[C.GENRES].str.contains("no genres").any()
    assert (movies[C.GENRES] == "").sum() > 0
    assert movies[C.GENRES].notna().all()


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Toy Story (1995)", ("Toy Story", 1995)),
        ("American President, The (1995)", ("The American President", 1995)),
        ("Auberge espagnole, L' (2002)", ("L'Auberge espagnole", 2002)),
        ("Babylon 5", ("Babylon 5", None)),
        ("Death Note: Desu nôto (2006–2007)", ("Death Note: Desu nôto (2006–2007)", None)),
        ("Nocturnal Animals (2016) ", ("Nocturnal Animals", 2016)),
    ],
)
def test_split_title_year(raw: str, expected: tuple[str, int | None]) -> None:
    assert movielens.split_title_year(raw) == expected


def test_links_give_tt_ids_and_nullable_tmdb_ids(ml_dir: Path) -> None:
    links = movielens.load_links(ml_dir).set_index(C.MOVIE_ID)
    assert len(links) == 9_742
    assert links.loc[1, C.IMDB_ID] == "tt0114709"
    assert links[C.IMDB_ID].str.fullmatch(r"tt\d{7,}").all()
    assert str(links[C.TMDB_ID].dtype) == "Int64"
    assert links[C.TMDB_ID].isna().sum() == 8
    assert links.loc[2959, C.TMDB_ID] == 550


def test_tags_load(ml_dir: Path) -> None:
    tags = movielens.load_tags(ml_dir)
    assert len(tags) == 3_683
    assert tags[C.MOVIE_ID].nunique() == 1_572


def test_imdb_is_deduplicated_and_cleaned(imdb: pd.DataFrame) -> None:
    assert len(imdb) == 4_919
    assert imdb[C.IMDB_ID].is_unique
    assert not imdb[C.TITLE].str.contains("\u00a0").any()
    assert (imdb[C.TITLE] == imdb[C.TITLE].str.strip()).all()
    fight_club = imdb.set_index(C.IMDB_ID).loc["tt0137523"]
    assert fight_club[C.DIRECTOR] == "David Fincher"
    assert fight_club[C.CAST].split("|")[0] == "Brad Pitt"
    assert "surprise ending" in fight_club[C.KEYWORDS].split("|")
    for column in (C.DIRECTOR, C.CAST, C.KEYWORDS, C.GENRES):
        assert imdb[column].notna().all()


def test_imdb_dedupe_keeps_most_voted_row(tmp_path: Path, shared_data_dir: Path) -> None:
    source = shared_data_dir / "imdb-5000" / "movie_metadata.csv"
    raw = pd.read_csv(source, dtype=str, keep_default_na=False)
    row = raw.iloc[[0]].copy()
    row["num_voted_users"] = "999999999"
    row["director_name"] = "Most Voted Copy"
    pd.concat([raw, row]).to_csv(tmp_path / "m.csv", index=False)
    loaded = imdb_csv.load_imdb(tmp_path / "m.csv").set_index(C.IMDB_ID)
    assert len(loaded) == 4_919
    assert loaded.loc["tt0499549", C.DIRECTOR] == "Most Voted Copy"


def test_tmdb_genres_are_pipe_separated(tmdb: pd.DataFrame) -> None:
    assert len(tmdb) == 10_000
    row = tmdb.set_index(C.TMDB_ID).loc[278]
    assert row[C.GENRES] == "Drama|Crime"
    assert row[C.YEAR] == 1994
    assert str(tmdb[C.TMDB_ID].dtype) == "Int64"
    assert tmdb[C.OVERVIEW].notna().all() and (tmdb[C.OVERVIEW] == "").sum() == 13
    assert tmdb.set_index(C.TMDB_ID).loc[550, C.OVERVIEW] != ""


@pytest.mark.parametrize(
    "loader", [movielens.load_ratings, movielens.load_movies, movielens.load_links]
)
def test_missing_movielens_file_names_the_file(tmp_path: Path, loader) -> None:
    with pytest.raises(DataSourceError, match=r"\.csv is missing.*ml-latest-small"):
        loader(tmp_path)


def test_missing_columns_are_listed(tmp_path: Path) -> None:
    (tmp_path / "ratings.csv").write_text("userId,movieId,score\r\n1,2,3.0\r\n")
    with pytest.raises(DataSourceError) as err:
        movielens.load_ratings(tmp_path)
    assert "ratings.csv" in str(err.value)
    assert "['rating', 'timestamp']" in str(err.value)


def test_malformed_values_raise_data_source_error(tmp_path: Path) -> None:
    (tmp_path / "ratings.csv").write_text(
        "userId,movieId,rating,timestamp\r\n1,2,four,964982703\r\n"
    )
    with pytest.raises(DataSourceError, match="ratings.csv is malformed"):
        movielens.load_ratings(tmp_path)


def test_unreadable_binary_file_raises(tmp_path: Path) -> None:
    (tmp_path / "movies.csv").write_bytes(b"\xff\xfe\x00\x81garbage\x00\x00")
    with pytest.raises(DataSourceError, match="movies.csv"):
        movielens.load_movies(tmp_path)


def test_crlf_and_lf_files_load_the_same(tmp_path: Path) -> None:
    body = "movieId,imdbId,tmdbId\n1,0114709,862\n2,0113497,\n"
    (tmp_path / "links.csv").write_text(body)
    lf = movielens.load_links(tmp_path)
    (tmp_path / "links.csv").write_bytes(body.replace("\n", "\r\n").encode())
    crlf = movielens.load_links(tmp_path)
    pd.testing.assert_frame_equal(lf, crlf)
    assert crlf[C.TMDB_ID].isna().tolist() == [False, True]


def test_imdb_missing_file_and_columns(tmp_path: Path) -> None:
    with pytest.raises(DataSourceError, match=r"movie_metadata\.csv is missing.*use_imdb"):
        imdb_csv.load_imdb(tmp_path / "movie_metadata.csv")
    (tmp_path / "movie_metadata.csv").write_text("movie_title,director_name\r\nA,B\r\n")
    with pytest.raises(DataSourceError, match="movie_imdb_link"):
        imdb_csv.load_imdb(tmp_path / "movie_metadata.csv")


def test_tmdb_missing_columns(tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_text("id,title\r\n1,A\r\n")
    with pytest.raises(DataSourceError, match=r"t\.csv lacks.*'overview'"):
        tmdb_csv.load_tmdb(tmp_path / "t.csv")


def test_split_title_year_is_linear_in_hostile_titles() -> None:
    """`^(.*?)\\s*\\((\\d{4})\\)\\s*$` took 0.4 s at 10k spaces, quadratic (issue 15, item 5)."""
    import time

    started = time.perf_counter()
    for raw in ("a" + " " * 200_000 + "b", "x" + ", A" * 100_000, "x, The (" * 50_000 + ")"):
        movielens.split_title_year(raw)
    assert time.perf_counter() - started < 0.5
