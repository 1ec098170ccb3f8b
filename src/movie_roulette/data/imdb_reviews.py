"""IMDb user-review scraper (requests + BeautifulSoup) for IMDb's current (2024-) page layout.

A movie's reviews live at `<base>/title/<tt id>/reviews/`. Every review is an
`article.user-review-item` holding the star rating (`span.ipc-rating-star--rating`, out of 10,
absent when the reviewer gave none), the headline (`h3.ipc-title__text`), the text
(`div.ipc-html-content-inner-div`), the author (`a[data-testid=author-link]`), the date
(`li.review-date`, "Aug 24, 2013") and a permalink `/review/rwNNNNNNN/`.

Paging: when a page carries a load-more key (`[data-key]` on `.load-more-data`, IMDb's paging
marker), the next page is `<base>/title/<tt>/reviews/_ajax?paginationKey=<key>`; at most
`max_pages` pages per movie are read. The scraper sends an honest User-Agent, waits `delay_s`
between requests to the site, and shares the TMDB client's cache, retry and failure accounting.
A page it cannot parse is counted (`unparseable_pages`) and recorded as that movie's failure.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import numpy as np
import pandas as pd
from bs4 import BeautifulSoup, Tag

from movie_roulette import columns as C
from movie_roulette.config import IMDbReviewsConfig
from movie_roulette.data._frames import fetched_reviews_frame
from movie_roulette.data.download import default_cache_dir
from movie_roulette.data.http import (
    Fetcher,
    FetchError,
    FetchReport,
    ResponseCache,
    fetch_each,
)

log = logging.getLogger(__name__)

_TT = re.compile(r"^tt\d{7,9}$")
_REVIEW_ID = re.compile(r"/review/(rw\d+)")
# (a count starts where a run of digits starts: else the search is quadratic in a long run)
_TOTAL = re.compile(r"(?<![\d,])([\d,]+)\s+reviews?", re.IGNORECASE)
IMDB_REVIEW_COLUMNS = [
    C.REVIEW_ID,
    C.IMDB_ID,
    C.AUTHOR,
    C.REVIEW_TITLE,
    C.REVIEW_TEXT,
    C.RATING,
    C.REVIEW_DATE,
]


class PageParseError(ValueError):
    """The page is not a recognisable IMDb reviews page (layout changed, error page...)."""


@dataclass(frozen=True)
class ParsedPage:
    reviews: list[dict[str, Any]]
    next_key: str | None
    skipped_items: int  # review cards without text
    total_reviews: int | None  # the page header's count ("572 reviews")


def _text(node: Tag | None) -> str:
    if node is None:
        return ""
    return " ".join(node.get_text(" ", strip=True).split())


def _date(value: str) -> str:
    for fmt in ("%b %d, %Y", "%d %B %Y", "%B %d, %Y"):
        try:
            return datetime.strptime(value.strip(), fmt).date().isoformat()
        except ValueError:
            continue
    return ""


def parse_reviews_page(html: str) -> ParsedPage:
    """Reviews on one page. Raises `PageParseError` when the page has neither review cards
    nor a review count (so an empty movie, "0 reviews", parses to no reviews)."""
    soup = BeautifulSoup(html, "html.parser")
    cards = soup.select("article.user-review-item")
    header = soup.select_one("[data-testid=tturv-total-reviews]")
    total_match = _TOTAL.search(_text(header)) if header is not None else None
    total = int(total_match.group(1).replace(",", "")) if total_match else None
    if not cards and total is None:
        title = _text(soup.title) if soup.title else ""
        raise PageParseError(
            "no review cards (article.user-review-item) and no review count found"
            + (f"; page title {title[:60]!r}" if title else "")
        )
    rows, skipped = [], 0
    for card in cards:
        text_node = card.select_one("div.ipc-html-content-inner-div")
        if text_node is None:
            skipped += 1
            continue
        for br in text_node.find_all("br"):
            br.replace_with("\n")
        text = "\n".join(" ".join(line.split()) for line in text_node.get_text().splitlines())
        text = re.sub(r"\n{3,}", "\n\n", text).strip()
        if not text:
            skipped += 1
            continue
        link = card.select_one("a[href*='/review/rw']")
        match = _REVIEW_ID.search(str(link.get("href", ""))) if link is not None else None
        rating_node = card.select_one("span.ipc-rating-star--rating")
        rating_text = _text(rating_node)
        rating = float(rating_text) if rating_text.replace(".", "", 1).isdigit() else np.nan
        rows.append(
            {
                C.REVIEW_ID: f"imdb-{match.group(1)}" if match else "",
                C.AUTHOR: _text(card.select_one("a[data-testid=author-link]")),
                C.REVIEW_TITLE: _text(card.select_one("h3.ipc-title__text")),
                C.REVIEW_TEXT: text,
                # IMDb stars are 1-10; the project's rating scale is 0.5-5 stars
                C.RATING: rating / 2.0 if 1 <= rating <= 10 else np.nan,
                C.REVIEW_DATE: _date(_text(card.select_one("li.review-date"))),
            }
        )
    more = soup.select_one(".load-more-data[data-key]")
    next_key = str(more["data-key"]).strip() if more is not None else None
    return ParsedPage(rows, next_key or None, skipped, total)


def _check_page(text: str) -> None:
    """Only pages that parse are cached (an error page is fetched again next run)."""
    try:
        parse_reviews_page(text)
    except PageParseError as err:
        raise FetchError(f"unparseable: {err}") from None


class IMDbReviewScraper:
    def __init__(
        self,
        cfg: IMDbReviewsConfig | None = None,
        *,
        cache_dir: str | Path | None = None,
        fetcher: Fetcher | None = None,
    ) -> None:
        self.cfg = cfg or IMDbReviewsConfig()
        self.base_url = self.cfg.base_url.rstrip("/")
        cache = ResponseCache(cache_dir) if cache_dir is not None else None
        self.fetcher = fetcher or Fetcher(
            self.cfg.http,
            cache=cache,
            user_agent=self.cfg.user_agent,
            min_interval_s=self.cfg.delay_s,
            cacheable=frozenset({200}),
        )

    def page_url(self, imdb_id: str, key: str | None = None) -> str:
        if key is None:
            return f"{self.base_url}/title/{imdb_id}/reviews/"
        return f"{self.base_url}/title/{imdb_id}/reviews/_ajax?paginationKey={quote(key)}"

    def movie_reviews(self, imdb_id: str, report: FetchReport) -> list[dict[str, Any]]:
        """Reviews of one movie over at most `max_pages` pages. Raises FetchError (network /
        HTTP / unparseable first page) and RequestBudgetExceeded."""
        if not _TT.match(imdb_id):
            raise FetchError(f"bad_id: {imdb_id!r} is not an IMDb title id like tt0114709")
        rows: list[dict[str, Any]] = []
        key: str | None = None
        for page in range(self.cfg.max_pages):
            url = self.page_url(imdb_id, key)
            try:
                result = self.fetcher.get(
                    url, cache_key=ResponseCache.key("imdb", url), check=_check_page
                )
            except FetchError as err:
                if not err.reason.startswith("unparseable"):
                    raise
                report.unparseable_pages += 1
                if page == 0:
                    raise FetchError(f"{err.reason} ({url.split('?')[0]})") from None
                log.warning("stopping at unparseable page %d of %s: %s", page + 1, imdb_id, err)
                break
            if result.status == 404:
                raise FetchError(f"not_found: HTTP 404 on {result.url}", 404)
            if result.status != 200:
                raise FetchError(f"http_{result.status} on {result.url}", result.status)
            try:
                parsed = parse_reviews_page(result.text)
            except PageParseError as err:  # a cached page always parses; kept for safety
                report.unparseable_pages += 1
                raise FetchError(f"unparseable: {err} ({result.url})") from None
            for row in parsed.reviews:
                row[C.IMDB_ID] = imdb_id
                if not row[C.REVIEW_ID]:
                    row[C.REVIEW_ID] = f"imdb-{imdb_id}-{page}-{len(rows)}"
            rows.extend(parsed.reviews)
            key = parsed.next_key
            if key is None:
                break
        return rows

    def scrape(self, imdb_ids: list[str]) -> IMDbResult:
        """Reviews of every movie; failures recorded, `TooManyFailures` above the ceiling; a
        used-up request budget stops scraping and reports the rest as skipped."""
        ceiling = self.cfg.max_failure_share
        ids = list(dict.fromkeys(imdb_ids))
        report = FetchReport(source="imdb_reviews")
        per_movie = fetch_each(ids, lambda i: self.movie_reviews(i, report), report, ceiling)
        rows = [row for movie_rows in per_movie for row in movie_rows]
        report.absorb(self.fetcher)
        report.check(ceiling)
        return IMDbResult(imdb_reviews_frame(rows), report)


@dataclass(frozen=True)
class IMDbResult:
    reviews: pd.DataFrame  # IMDB_REVIEW_COLUMNS (+ movie_id after scrape_for_catalogue)
    report: FetchReport


def imdb_reviews_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    return fetched_reviews_frame(rows, IMDB_REVIEW_COLUMNS, C.IMDB_ID, "string")


def default_imdb_cache_dir(cfg: IMDbReviewsConfig) -> Path:
    if cfg.cache_dir:
        return Path(cfg.cache_dir).expanduser()
    return default_cache_dir() / "imdb-reviews"


def select_imdb_ids(
    catalogue: pd.DataFrame, limit: int | None, only: Iterable[str] = ()
) -> Mapping[str, int]:
    """{imdb_id: movie_id} for catalogue movies with an IMDb id, most popular first (restricted
    to `only` when given)."""
    has_id = catalogue[catalogue[C.IMDB_ID].notna()]
    only = set(only)
    if only:
        has_id = has_id[has_id[C.IMDB_ID].astype(str).isin(only)]
    ordered = has_id.sort_values([C.POPULARITY, C.MOVIE_ID], ascending=[False, True])
    ordered = ordered.drop_duplicates(C.IMDB_ID)
    if limit is not None:
        ordered = ordered.head(limit)
    return dict(zip(ordered[C.IMDB_ID].astype(str), ordered[C.MOVIE_ID].astype(int), strict=True))


def scrape_for_catalogue(catalogue: pd.DataFrame, cfg: IMDbReviewsConfig) -> IMDbResult:
    """Scrape the selected catalogue movies; the frame gains `movie_id`."""
    wanted = select_imdb_ids(catalogue, cfg.limit, cfg.imdb_ids)
    scraper = IMDbReviewScraper(cfg, cache_dir=default_imdb_cache_dir(cfg))
    try:
        result = scraper.scrape(list(wanted))
    finally:
        scraper.fetcher.close()
    reviews = result.reviews.copy()
    reviews.insert(1, C.MOVIE_ID, reviews[C.IMDB_ID].astype(str).map(wanted).astype("int64"))
    return IMDbResult(reviews, result.report)
