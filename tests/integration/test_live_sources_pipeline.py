"""The training pipeline with the live sources and sentiment on, against the fixture server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.fixture_server import FIGHT_CLUB, VALID_KEY, WORLDS_END, FixtureServer
from tests.integration.conftest import run_cli, write_config

pytestmark = pytest.mark.integration

FIGHT_CLUB_MOVIE, WORLDS_END_MOVIE = 2959, 103341  # MovieLens ids


def live_config(tmp_path: Path, server: FixtureServer, shared: Path, name: str) -> Path:
    return write_config(
        tmp_path,
        "movielens",
        model_name=name,
        experiment_name=name,
        data={"data_dir": str(shared)},
        sources={
            "tmdb_api": {
                "enabled": True,
                "base_url": server.tmdb_url,
                "tmdb_ids": [FIGHT_CLUB],
                "cache_dir": str(tmp_path / "tmdb-cache"),
                "http": {"backoff_s": 0.01},
            },
            "imdb_reviews": {
                "enabled": True,
                "base_url": server.url,
                "imdb_ids": [WORLDS_END],
                "delay_s": 0.0,
                "cache_dir": str(tmp_path / "imdb-cache"),
            },
        },
        sentiment={"enabled": True},
    )


def test_invalid_tmdb_key_stops_the_cli_before_any_work(
    tmp_path: Path,
    fixture_server: FixtureServer,
    shared_data_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TMDB_API_KEY", "wrong-key")
    config = live_config(tmp_path, fixture_server, shared_data_dir, "mr_bad_key_it")
    result = run_cli("--config", str(config))
    assert result.exit_code != 0
    assert "TMDB rejected the API key" in result.output and "status_code 7" in result.output
    assert "wrong-key" not in result.output
    assert [r.path for r in fixture_server.requests] == ["/3/genre/movie/list"]


@pytest.mark.slow
def test_pipeline_with_live_sources_and_sentiment(
    tmp_path: Path,
    fixture_server: FixtureServer,
    shared_data_dir: Path,
    stack: str,
    mlflow_client: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TMDB_API_KEY", VALID_KEY)
    name = "mr_live_sources_it"
    config = live_config(tmp_path, fixture_server, shared_data_dir, name)
    result = run_cli("--config", str(config))
    assert result.exit_code == 0, result.output
    assert VALID_KEY not in result.output

    # both sources were asked, once per page/endpoint, with an honest User-Agent
    paths = [r.path for r in fixture_server.requests]
    assert paths.count(f"/3/movie/{FIGHT_CLUB}") == 1
    assert paths.count(f"/title/{WORLDS_END}/reviews/") == 1
    imdb = next(r for r in fixture_server.requests if r.path.startswith("/title"))
    assert "movie-roulette" in imdb.headers["User-Agent"]

    (version,) = mlflow_client.search_model_versions(f"name='{name}'")
    metrics = mlflow_client.get_run(version.run_id).data.metrics
    assert metrics["sentiment.model.rt-polarity-heldout.accuracy"] >= 0.78
    assert "sentiment.lexicon.imdb_labelled.roc_auc" in metrics
    assert "hybrid.ndcg_at_10" in metrics

    import mlflow

    from movie_roulette import bundle
    from serving.registry import download_bundle
    from stack_setup import mlflow_tracking_uri

    mlflow.set_tracking_uri(mlflow_tracking_uri())
    loaded = bundle.load(download_bundle(name, version.version, tmp_path / "dl"))
    reviews = loaded.reviews
    assert reviews is not None and loaded.sentiment is not None
    by_source = reviews.groupby("source")["movie_id"].agg(["count", "first"])
    assert by_source.loc["tmdb"].tolist() == [9, FIGHT_CLUB_MOVIE]
    assert by_source.loc["imdb"].tolist() == [35, WORLDS_END_MOVIE]
    assert reviews["sentiment"].between(0, 1).all()
    assert set(reviews["sentiment_label"]) <= {"positive", "negative"}
    catalogue = loaded.catalogue.set_index("movie_id")
    fight_club = catalogue.loc[FIGHT_CLUB_MOVIE]
    assert fight_club["poster_path"] == "/pB8BM7pdSp6B6Ih7QZ4DrQ3PmJK.jpg"
    assert fight_club["runtime"] == 139 and fight_club["vote_count"] == 27917
    assert fight_club["sentiment_count"] == 9
    assert catalogue.loc[WORLDS_END_MOVIE, "sentiment_count"] == 35
    assert catalogue["sentiment_count"].sum() == 44
    assert "sentiment" in loaded.model.components
