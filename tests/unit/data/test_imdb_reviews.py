"""The IMDb review scraper against the saved reviews page served by a local HTTP server."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from movie_roulette import columns as C
from movie_roulette.config import HttpConfig, IMDbReviewsConfig
from movie_roulette.data.imdb_reviews import (
    IMDbReviewScraper,
    PageParseError,
    parse_reviews_page,
    scrape_for_catalogue,
)
from movie_roulette.exceptions import TooManyFailures
from tests.fixture_server import WORLDS_END, Answer, FixtureServer

HTTP = HttpConfig(timeout_s=2.0, max_retries=1, backoff_s=0.01, rate_limit_per_s=0.0)


def scraper(
    server: FixtureServer, cache: Path | None = None, **overrides: object
) -> IMDbReviewScraper:
    values = {"enabled": True, "base_url": server.url, "delay_s": 0.0, "http": HTTP}
    cfg = IMDbReviewsConfig(**{**values, **overrides})
    return IMDbReviewScraper(cfg, cache_dir=cache)


def test_parses_every_review_on_the_saved_page(api_fixtures_dir: Path) -> None:
    html = (api_fixtures_dir / "imdb" / "imdb_reviews.html").read_text("utf-8")
    page = parse_reviews_page(html)
    assert len(page.reviews) == 35 and page.skipped_items == 0
    assert page.total_reviews == 572 and page.next_key is None
    first = page.reviews[0]
    assert first[C.REVIEW_ID] == "imdb-rw2858099"
    assert first[C.AUTHOR] == "ikiru71-220-566499"
    assert first[C.REVIEW_TITLE].startswith("Another funny, clever, and wild one")
    assert first[C.REVIEW_TEXT].startswith("If you seen the other two movies")
    assert first[C.RATING] == 4.0  # 8/10 stars on the 0.5-5 scale
    assert first[C.REVIEW_DATE] == "2013-08-24"
    frame = pd.DataFrame(page.reviews)
    assert frame[C.REVIEW_ID].is_unique and frame[C.REVIEW_ID].str.match(r"^imdb-rw\d+$").all()
    assert (frame[C.REVIEW_TEXT].str.len() > 100).all()
    assert frame[C.RATING].notna().sum() == 31  # four reviewers gave no star rating
    assert frame[C.REVIEW_DATE].str.match(r"^\d{4}-\d{2}-\d{2}$").all()
    assert not frame[C.REVIEW_TEXT].str.contains("\u0085").any()


def test_a_page_that_is_not_a_reviews_page_raises_a_parse_error() -> None:
    with pytest.raises(PageParseError, match="no review cards.*'Access denied'"):
        parse_reviews_page("<html><head><title>Access denied</title></head><body/></html>")


def test_a_movie_without_reviews_parses_to_nothing() -> None:
    page = parse_reviews_page('<section><div data-testid="tturv-total-reviews">0 reviews</div>')
    assert page.reviews == [] and page.total_reviews == 0


def test_scrapes_the_served_page_with_an_honest_user_agent(fixture_server: FixtureServer) -> None:
    result = scraper(fixture_server).scrape([WORLDS_END])
    assert result.report.succeeded == 1 and result.report.unparseable_pages == 0
    assert len(result.reviews) == 35
    assert list(result.reviews.columns[:2]) == [C.REVIEW_ID, C.IMDB_ID]
    (seen,) = fixture_server.requests
    assert seen.path == f"/title/{WORLDS_END}/reviews/"
    assert seen.headers["User-Agent"] == IMDbReviewsConfig().user_agent
    assert "movie-roulette" in seen.headers["User-Agent"]


def test_unparseable_pages_are_counted_and_reported_not_raised(
    fixture_server: FixtureServer, tmp_path: Path
) -> None:
    fixture_server.script(
        "/title/tt0000001/reviews/", Answer(200, "<html><title>Robot check</title></html>")
    )
    result = scraper(fixture_server, tmp_path, max_failure_share=0.7).scrape(
        [WORLDS_END, "tt0000001", "tt0000002"]
    )
    assert result.report.unparseable_pages == 1
    reasons = {f["item"]: f["reason"] for f in result.report.failures}
    assert reasons["tt0000001"].startswith("unparseable: no review cards")
    assert reasons["tt0000002"].startswith("not_found")
    assert len(result.reviews) == 35
    # the robot-check page was not cached: the next run asks again and gets it
    again = scraper(fixture_server, tmp_path, max_failure_share=1.0).scrape(["tt0000001"])
    assert again.report.requests == 1 and again.report.cache_hits == 0


def test_too_many_failures_stop_the_scrape_with_a_summary(fixture_server: FixtureServer) -> None:
    with pytest.raises(TooManyFailures, match=r"(?s)imdb_reviews.*tt0000002: not_found"):
        scraper(fixture_server, max_failure_share=0.2).scrape([WORLDS_END, "tt0000002"])


def test_polite_delay_spaces_requests_to_the_site(fixture_server: FixtureServer) -> None:
    start = time.monotonic()
    scraper(fixture_server, delay_s=0.4, max_failure_share=1.0).scrape(
        [WORLDS_END, "tt0000002", "tt0000003"]
    )
    assert time.monotonic() - start >= 0.8
    assert fixture_server.hits("/title") == 3


def test_rerun_is_served_from_the_cache(fixture_server: FixtureServer, tmp_path: Path) -> None:
    first = scraper(fixture_server, tmp_path).scrape([WORLDS_END])
    second = scraper(fixture_server, tmp_path).scrape([WORLDS_END])
    assert fixture_server.hits("/title") == 1
    assert second.report.cache_hits == 1 and second.report.requests == 0
    pd.testing.assert_frame_equal(first.reviews, second.reviews)


def test_pages_follow_the_load_more_key_up_to_max_pages(
    fixture_server: FixtureServer, api_fixtures_dir: Path
) -> None:
    html = (api_fixtures_dir / "imdb" / "imdb_reviews.html").read_text("utf-8")
    more = html + '<div class="load-more-data" data-key="page-2-key"></div>'
    path = f"/title/{WORLDS_END}/reviews/"
    fixture_server.script(path, Answer(200, more), Answer(200, more))
    fixture_server.script(f"{path}_ajax", Answer(200, more))
    one = scraper(fixture_server, max_pages=1).scrape([WORLDS_END])
    assert fixture_server.hits("/title") == 1 and len(one.reviews) == 35
    scraper(fixture_server, max_pages=2).scrape([WORLDS_END])
    second = fixture_server.requests[-1]
    assert second.path == f"{path}_ajax" and second.query["paginationKey"] == ["page-2-key"]
    assert fixture_server.hits("/title") == 3


def test_bad_ids_are_failures_not_requests(fixture_server: FixtureServer) -> None:
    result = scraper(fixture_server, max_failure_share=1.0).scrape(["0114709"])
    assert result.report.failures[0]["reason"].startswith("bad_id")
    assert fixture_server.hits("/title") == 0


def test_scrape_for_catalogue_maps_reviews_to_movie_ids(
    fixture_server: FixtureServer, tmp_path: Path
) -> None:
    catalogue = pd.DataFrame(
        {
            C.MOVIE_ID: [104, 7],
            C.IMDB_ID: pd.array([WORLDS_END, pd.NA], dtype="string"),
            C.POPULARITY: [5.0, 9.0],
        }
    )
    cfg = IMDbReviewsConfig(
        enabled=True, base_url=fixture_server.url, delay_s=0.0, http=HTTP, cache_dir=str(tmp_path)
    )
    result = scrape_for_catalogue(catalogue, cfg)
    assert (result.reviews[C.MOVIE_ID] == 104).all() and len(result.reviews) == 35
    assert np.issubdtype(result.reviews[C.MOVIE_ID].dtype, np.integer)
    from movie_roulette.validation import validate_reviews

    assert validate_reviews(result.reviews, suite="imdb_reviews").success


def test_a_hostile_review_count_parses_in_linear_time() -> None:
    """`([\\d,]+)\\s+reviews?` took 21 s on a header of 20,000 digits (issue 15: every regex
    that sees fetched text must be linear)."""
    import time

    from movie_roulette.data.imdb_reviews import parse_reviews_page

    header = '<div data-testid="tturv-total-reviews">{}</div>'
    started = time.perf_counter()
    assert parse_reviews_page(header.format("1,234 reviews")).total_reviews == 1234
    assert parse_reviews_page(header.format("9" * 50_000 + " 3 reviews")).total_reviews == 3
    assert time.perf_counter() - started < 0.5
