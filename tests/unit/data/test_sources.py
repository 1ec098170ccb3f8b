"""sources.* dispatch on cfg.source and resolve the data folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from movie_roulette import columns as C
from movie_roulette.config import DataConfig, DemoConfig
from movie_roulette.data import sources
from movie_roulette.exceptions import DataSourceError

SMALL_DEMO = DemoConfig(n_movies=60, n_users=30, mean_ratings_per_user=25, n_reviews=50)


def test_demo_source_returns_demo_frames() -> None:
    cfg = DataConfig(source="demo", demo=SMALL_DEMO)
    ratings = sources.load_ratings(cfg, 3)
    catalogue_sources = sources.load_catalogue_sources(cfg, 3)
    reviews = sources.load_reviews(cfg, 3)
    assert list(catalogue_sources) == ["movies"]
    assert len(catalogue_sources["movies"]) == 60
    assert ratings[C.USER_ID].nunique() == 30 and len(reviews) == 50
    ratings.loc[:, C.RATING] = 0.0  # callers get copies
    assert sources.load_ratings(cfg, 3)[C.RATING].gt(0).all()


def test_movielens_source_reads_the_data_dir(shared_data_dir: Path) -> None:
    cfg = DataConfig(source="movielens", data_dir=str(shared_data_dir), download=False)
    assert len(sources.load_ratings(cfg, 0)) == 100_836
    loaded = sources.load_catalogue_sources(cfg, 0)
    assert set(loaded) == {"movies", "tags", "imdb", "tmdb"}
    assert {C.IMDB_ID, C.TMDB_ID} <= set(loaded["movies"].columns)
    reviews = sources.load_reviews(cfg, 0)
    assert len(reviews) == 0 and list(reviews.columns) == sources.REVIEW_COLUMNS


def test_data_dir_from_environment(shared_data_dir: Path, monkeypatch) -> None:
    monkeypatch.setenv("MOVIE_ROULETTE_DATA_DIR", str(shared_data_dir))
    cfg = DataConfig(source="movielens", download=False, use_imdb=False, use_tmdb=False)
    assert set(sources.load_catalogue_sources(cfg, 0)) == {"movies", "tags"}


def test_missing_movielens_without_download_says_where(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("MOVIE_ROULETTE_CACHE_DIR", str(tmp_path / "cache"))
    cfg = DataConfig(source="movielens", data_dir=str(tmp_path), download=False)
    with pytest.raises(DataSourceError, match=r"ml-latest-small/ \(ratings.csv.*data.download"):
        sources.load_ratings(cfg, 0)


def test_missing_optional_metadata_is_left_out_and_said_once_with_the_path(
    tmp_path: Path, shared_data_dir: Path, monkeypatch
) -> None:
    monkeypatch.setenv("MOVIE_ROULETTE_CACHE_DIR", str(tmp_path / "cache"))
    (tmp_path / "ml-latest-small").symlink_to(shared_data_dir / "ml-latest-small")
    cfg = DataConfig(source="movielens", data_dir=str(tmp_path), download=False)
    assert set(sources.load_catalogue_sources(cfg, 0)) == {"movies", "tags"}
    note = sources.missing_metadata_note(cfg)
    assert note is not None and note.startswith("Optional metadata missing, continuing without")
    assert str(tmp_path / "imdb-5000" / "movie_metadata.csv") in note
    assert "tmdb-top10k/top10K-TMDB-movies.csv not found" in note
    assert "MovieLens genres and tags" in note and "data.use_imdb/use_tmdb: false" in note
    assert sources.content_columns(cfg) == sources.CONTENT_MOVIELENS_ONLY
    both = DataConfig(source="movielens", data_dir=str(shared_data_dir), download=False)
    assert sources.missing_metadata_note(both) is None
    assert sources.content_columns(both) == sources.CONTENT_WITH_METADATA
    off = DataConfig(source="movielens", data_dir=str(tmp_path), use_imdb=False, use_tmdb=False)
    assert sources.missing_metadata_note(off) is None


def test_movielens_alone_passes_the_join_coverage_gate_on_what_it_has(
    tmp_path: Path, shared_data_dir: Path, monkeypatch
) -> None:
    """Issue 14 item 5: with only ml-latest-small the GX join gate failed the run (no director,
    overview or IMDb/TMDB keywords); it now measures the content MovieLens has."""
    from movie_roulette.data.catalogue import merge_catalogue
    from movie_roulette.validation import validate_join_coverage

    monkeypatch.setenv("MOVIE_ROULETTE_CACHE_DIR", str(tmp_path / "cache"))
    (tmp_path / "ml-latest-small").symlink_to(shared_data_dir / "ml-latest-small")
    cfg = DataConfig(source="movielens", data_dir=str(tmp_path), download=False)
    ratings = sources.load_ratings(cfg, 0)
    catalogue = merge_catalogue(sources.load_catalogue_sources(cfg, 0), ratings)
    gate = validate_join_coverage(ratings, catalogue, 0.6, sources.content_columns(cfg))
    assert gate.success, gate.to_dict()
    assert gate.statistics["join_coverage"] > 0.99
    assert not validate_join_coverage(ratings, catalogue, 0.6).success  # the old columns


def test_cached_download_is_used_without_a_data_dir(
    tmp_path: Path, shared_data_dir: Path, monkeypatch
) -> None:
    monkeypatch.setenv("MOVIE_ROULETTE_CACHE_DIR", str(tmp_path))
    (tmp_path / "ml-latest-small").symlink_to(shared_data_dir / "ml-latest-small")
    cfg = DataConfig(source="movielens", download=False)
    assert sources.movielens_dir(cfg) == tmp_path / "ml-latest-small"


def test_a_release_folder_or_generated_csvs_in_the_data_dir_are_used(
    tmp_path: Path, monkeypatch
) -> None:
    from movie_roulette.data.synthetic import SyntheticSpec, generate

    monkeypatch.setenv("MOVIE_ROULETTE_CACHE_DIR", str(tmp_path / "cache"))
    generate(SyntheticSpec(users=25, movies=40, ratings=600), tmp_path / "gen")
    cfg = DataConfig(
        source="movielens",
        movielens_release="ml-25m",
        data_dir=str(tmp_path / "gen"),
        download=False,
        use_imdb=False,
        use_tmdb=False,
    )
    assert sources.movielens_dir(cfg) == tmp_path / "gen"
    assert len(sources.load_ratings(cfg, 0)) == 600
    (tmp_path / "root").mkdir()
    (tmp_path / "root" / "ml-25m").symlink_to(tmp_path / "gen")
    cfg = DataConfig(
        source="movielens", movielens_release="ml-25m", data_dir=str(tmp_path / "root")
    )
    assert sources.movielens_dir(cfg) == tmp_path / "root" / "ml-25m"
    cfg = DataConfig(source="movielens", movielens_release="ml-32m", download=False)
    with pytest.raises(DataSourceError, match="MovieLens ml-32m not found"):
        sources.movielens_dir(cfg)
