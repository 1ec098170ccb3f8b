"""The TMDB client against a local server serving the recorded TMDB answers (no mocks)."""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path

import pandas as pd
import pytest
from tmdbv3api import Genre as TMDbGenre
from tmdbv3api import Movie as TMDbMovie
from tmdbv3api import TMDb

from movie_roulette import columns as C
from movie_roulette.config import HttpConfig, TMDBApiConfig
from movie_roulette.data.http import Fetcher, FetchError, ResponseCache, parse_retry_after
from movie_roulette.data.tmdb_api import TMDBClient, fetch_tmdb_for_catalogue, resolve_api_key
from movie_roulette.exceptions import SourceAuthError, TooManyFailures
from tests.fixture_server import FIGHT_CLUB, VALID_KEY, Answer, FixtureServer

FAST = HttpConfig(timeout_s=2.0, max_retries=2, backoff_s=0.01, rate_limit_per_s=0.0)


def client(
    server: FixtureServer, cache: Path | None = None, key: str = VALID_KEY, **http: float
) -> TMDBClient:
    policy = HttpConfig(**{**FAST.__dict__, **http})
    cfg = TMDBApiConfig(enabled=True, base_url=server.tmdb_url, http=policy)
    return TMDBClient(key, base_url=server.tmdb_url, cfg=cfg, cache_dir=cache)


def test_fetches_details_credits_keywords_and_reviews(fixture_server: FixtureServer) -> None:
    result = client(fixture_server).fetch_movies([FIGHT_CLUB])

    assert result.report.succeeded == 1 and result.report.failures == []
    movie = result.movies.iloc[0]
    assert movie[C.TMDB_ID] == FIGHT_CLUB and movie[C.IMDB_ID] == "tt0137523"
    assert movie[C.TITLE] == "Fight Club" and movie[C.YEAR] == 1999
    assert movie[C.RUNTIME] == 139 and movie[C.VOTE_COUNT] == 27917
    assert movie[C.VOTE_AVERAGE] == pytest.approx(8.44)
    assert movie[C.POSTER_PATH] == "/pB8BM7pdSp6B6Ih7QZ4DrQ3PmJK.jpg"
    assert movie[C.RELEASE_DATE] == "1999-10-15"
    assert movie[C.DIRECTOR] == "David Fincher"
    assert movie[C.CAST].split("|")[:2] == ["Edward Norton", "Brad Pitt"]
    assert len(movie[C.CAST].split("|")) == 5
    assert len(movie[C.KEYWORDS].split("|")) == 14 and "nihilism" in movie[C.KEYWORDS]
    assert movie[C.GENRES] == "Drama"
    reviews = result.reviews
    assert len(reviews) == 9 and reviews[C.REVIEW_ID].is_unique
    assert (reviews[C.REVIEW_TEXT].str.len() > 0).all()
    brett = reviews[reviews[C.AUTHOR] == "Brett Pascoe"].iloc[0]
    assert brett[C.RATING] == 4.5  # TMDB 9/10 on the 0.5-5 star scale
    assert brett[C.REVIEW_DATE] == "2018-07-05"
    assert reviews[C.RATING].dropna().between(0.5, 5.0).all()


def test_invalid_key_is_a_clear_error_before_any_movie_request(
    fixture_server: FixtureServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TMDB_API_KEY", "not-a-valid-key")
    cfg = TMDBApiConfig(enabled=True, base_url=fixture_server.tmdb_url, cache_dir=str(tmp_path))
    catalogue = pd.DataFrame(
        {C.MOVIE_ID: [2959], C.TMDB_ID: pd.array([FIGHT_CLUB], "Int64"), C.POPULARITY: [1.0]}
    )
    with pytest.raises(SourceAuthError, match=r"rejected the API key.*status_code 7.*TMDB_API_KEY"):
        fetch_tmdb_for_catalogue(catalogue, cfg)
    assert fixture_server.hits("/3/genre") == 1
    assert fixture_server.hits("/3/movie") == 0
    assert len(ResponseCache(tmp_path)) == 0  # nothing cached from a rejected key


def test_missing_key_names_the_variable_and_the_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TMDB_API_KEY", raising=False)
    with pytest.raises(SourceAuthError, match="export TMDB_API_KEY=.*enabled: false"):
        resolve_api_key(TMDBApiConfig(enabled=True))


def test_key_file_is_read(tmp_path: Path) -> None:
    (tmp_path / "key").write_text(f"{VALID_KEY}\n")
    assert resolve_api_key(TMDBApiConfig(api_key_file=str(tmp_path / "key"))) == VALID_KEY


def test_not_found_is_a_recorded_per_movie_failure(fixture_server: FixtureServer) -> None:
    result = client(fixture_server).fetch_movies([FIGHT_CLUB, 999999], max_failure_share=0.5)
    assert result.report.succeeded == 1
    (failure,) = result.report.failures
    assert failure["item"] == "999999" and failure["reason"].startswith("not_found")
    assert "status_code 34" in failure["reason"]
    assert result.movies[C.TMDB_ID].tolist() == [FIGHT_CLUB]


def test_failure_share_above_the_ceiling_fails_with_a_summary(
    fixture_server: FixtureServer,
) -> None:
    with pytest.raises(TooManyFailures) as info:
        client(fixture_server).fetch_movies([FIGHT_CLUB, 999998, 999999], max_failure_share=0.5)
    message = str(info.value)
    assert "67% of tmdb_api items failed" in message and "ceiling of 50%" in message
    assert "999998: not_found" in message and "999999: not_found" in message
    assert info.value.report["failed"] == 2


def test_429_is_retried_after_the_retry_after_delay(fixture_server: FixtureServer) -> None:
    path = f"/3/movie/{FIGHT_CLUB}"
    fixture_server.script(path, Answer(429, '{"status_code": 25}', {"Retry-After": "1"}))
    tmdb = client(fixture_server)
    start = time.monotonic()
    result = tmdb.fetch_movies([FIGHT_CLUB])
    assert time.monotonic() - start >= 1.0  # honoured Retry-After, not the 0.01 s backoff
    assert result.report.succeeded == 1 and result.report.retries == 1
    assert sum(1 for r in fixture_server.requests if r.path == path) == 2


def test_5xx_is_retried_with_backoff_then_gives_up(fixture_server: FixtureServer) -> None:
    path = f"/3/movie/{FIGHT_CLUB}/credits"
    fixture_server.script(path, Answer(503), Answer(502))
    assert client(fixture_server).fetch_movies([FIGHT_CLUB]).report.succeeded == 1

    fixture_server.script(path, Answer(500), Answer(500), Answer(500))
    result = client(fixture_server, max_retries=2).fetch_movies([FIGHT_CLUB], 1.0)
    (failure,) = result.report.failures
    assert "HTTP 500" in failure["reason"] and "gave up after 3 attempt(s)" in failure["reason"]


def test_too_long_retry_after_fails_instead_of_waiting(fixture_server: FixtureServer) -> None:
    fixture_server.script(f"/3/movie/{FIGHT_CLUB}", Answer(429, "", {"Retry-After": "3600"}))
    start = time.monotonic()
    result = client(fixture_server).fetch_movies([FIGHT_CLUB], 1.0)
    assert time.monotonic() - start < 5
    assert "exceeds max_retry_after_s" in result.report.failures[0]["reason"]


def test_timeout_is_retried_then_recorded(fixture_server: FixtureServer) -> None:
    path = f"/3/movie/{FIGHT_CLUB}"
    fixture_server.script(path, Answer(delay_s=1.5), Answer(delay_s=1.5))
    result = client(fixture_server, timeout_s=0.3, max_retries=1).fetch_movies([FIGHT_CLUB], 1.0)
    (failure,) = result.report.failures
    assert "timed out after 0.3 s" in failure["reason"]
    assert result.report.retries == 1


def test_malformed_body_is_a_failure_and_is_not_cached(
    fixture_server: FixtureServer, tmp_path: Path
) -> None:
    path = f"/3/movie/{FIGHT_CLUB}"
    truncated = fixture_server.tmdb_file("movie-details.json")[:400]
    fixture_server.script(path, Answer(200, truncated))
    first = client(fixture_server, tmp_path).fetch_movies([FIGHT_CLUB], 1.0)
    assert first.report.failures[0]["reason"].startswith("malformed_json")
    second = client(fixture_server, tmp_path).fetch_movies([FIGHT_CLUB], 1.0)
    assert second.report.succeeded == 1  # the broken answer was not cached


def test_rerun_is_served_from_the_disk_cache(fixture_server: FixtureServer, tmp_path: Path) -> None:
    first = client(fixture_server, tmp_path).fetch_movies([FIGHT_CLUB, 999999], 1.0)
    requests_after_first = fixture_server.hits("/3/movie")
    assert first.report.requests == 5 and first.report.cache_hits == 0

    second = client(fixture_server, tmp_path).fetch_movies([FIGHT_CLUB, 999999], 1.0)
    assert fixture_server.hits("/3/movie") == requests_after_first  # no new request
    assert second.report.requests == 0 and second.report.cache_hits == 5
    pd.testing.assert_frame_equal(first.movies, second.movies)
    assert second.report.failures == first.report.failures  # the 404 is remembered too
    assert not list(tmp_path.rglob("*.tmp"))  # atomic writes leave no temp files


def test_request_budget_stops_fetching_and_reports_skipped_movies(
    fixture_server: FixtureServer,
) -> None:
    tmdb = client(fixture_server, request_budget=5)
    result = tmdb.fetch_movies([FIGHT_CLUB, 999999, 999998], max_failure_share=1.0)
    assert fixture_server.hits("/3/movie") == 5  # 4 for Fight Club, 1 (404) for 999999
    assert result.report.succeeded == 1 and len(result.report.failures) == 1
    assert [s["item"] for s in result.report.skipped] == ["999998"]
    assert "request budget of 5 used up" in result.report.skipped[0]["reason"]


def test_rate_limit_spaces_requests(fixture_server: FixtureServer) -> None:
    start = time.monotonic()
    client(fixture_server, rate_limit_per_s=10.0).fetch_movies([FIGHT_CLUB])
    assert time.monotonic() - start >= 0.3  # 4 requests, >= 0.1 s apart


def test_the_api_key_is_never_printed_logged_cached_or_in_errors(
    fixture_server: FixtureServer,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    caplog.set_level(logging.DEBUG)
    # Other tests' imports (zenml, mlflow) quieten urllib3 or stop it propagating: switch its
    # request log back on here, so the redaction below is really exercised.
    for name in ("urllib3", "urllib3.connectionpool"):
        monkeypatch.setattr(logging.getLogger(name), "propagate", True)
        monkeypatch.setattr(logging.getLogger(name), "disabled", False)
        caplog.set_level(logging.DEBUG, logger=name)
    fixture_server.script(f"/3/movie/{FIGHT_CLUB}", Answer(503), Answer(delay_s=1.0))
    tmdb = client(fixture_server, tmp_path, timeout_s=0.3, max_retries=3)
    texts = [repr(tmdb), str(vars(tmdb))]
    tmdb.check_key()
    result = tmdb.fetch_movies([FIGHT_CLUB, 999999], 1.0)
    texts.append(json.dumps(result.report.to_dict()))
    texts.append(result.report.summary())
    wrong = client(fixture_server, tmp_path, key=VALID_KEY[::-1])
    with pytest.raises(SourceAuthError) as info:
        wrong.check_key()
    texts += [str(info.value), repr(info.value)]
    dead = Fetcher(FAST)  # connection refused: requests' own message holds the full URL
    with pytest.raises(FetchError) as refused:
        dead.get("http://127.0.0.1:9/3/movie/1", {"api_key": VALID_KEY})
    texts.append(str(refused.value))
    assert refused.value.__cause__ is None and refused.value.__suppress_context__ in (True, False)
    out, err = capsys.readouterr()
    texts += [out, err, caplog.text]
    texts += [p.read_text() for p in tmp_path.rglob("*.json")]
    assert "api_key=***" in caplog.text  # urllib3 did log the request line, redacted
    for text in texts:
        assert VALID_KEY not in text and VALID_KEY[::-1] not in text


def test_retry_after_accepts_seconds_and_http_dates() -> None:
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == 10.0
    assert parse_retry_after(None) is None and parse_retry_after("soon") is None


def test_requests_are_built_by_tmdbv3api_on_the_clients_own_session(
    fixture_server: FixtureServer,
) -> None:
    """Issue 16 #5: tmdbv3api's Movie/Genre build the requests; each client's configured
    session sends them (tmdbv3api keeps the session in a class attribute: never shared)."""
    first, second = client(fixture_server), client(fixture_server)
    assert isinstance(first._movie, TMDbMovie) and isinstance(first._genre, TMDbGenre)
    assert first._movie._session is first.session and second._movie._session is second.session
    assert TMDb._session is not first.session  # tmdbv3api's global session is left alone
    first.fetch_movies([FIGHT_CLUB])
    reviews = [r for r in fixture_server.requests if r.path == f"/3/movie/{FIGHT_CLUB}/reviews"]
    assert reviews[0].query["page"] == ["1"]  # tmdbv3api's own query, sent to base_url
    assert reviews[0].query["api_key"] == [VALID_KEY]  # the real key, swapped in by the session
    with pytest.raises(FetchError, match="GET requests only"):
        first.session.request("POST", "https://api.themoviedb.org/3/movie/550/rating")


def test_the_key_never_reaches_the_process_environment(
    fixture_server: FixtureServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """tmdbv3api keeps its key in os.environ (inherited by every child process); a key read
    from a key file must stay in the client."""
    monkeypatch.delenv("TMDB_API_KEY", raising=False)
    (tmp_path / "key").write_text(VALID_KEY)
    cfg = TMDBApiConfig(
        enabled=True,
        base_url=fixture_server.tmdb_url,
        api_key_file=str(tmp_path / "key"),
        cache_dir=str(tmp_path / "cache"),
        http=FAST,
    )
    catalogue = pd.DataFrame(
        {C.MOVIE_ID: [2959], C.TMDB_ID: pd.array([FIGHT_CLUB], "Int64"), C.POPULARITY: [1.0]}
    )
    result = fetch_tmdb_for_catalogue(catalogue, cfg)
    assert result.report.succeeded == 1
    assert not any(VALID_KEY in value for value in os.environ.values())
    assert "TMDB_API_KEY" not in os.environ
