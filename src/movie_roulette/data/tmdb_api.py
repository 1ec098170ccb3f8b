"""TMDB API v3 client on tmdbv3api: movie details, credits, keywords and user reviews.

tmdbv3api builds the requests (`Movie.details/credits/keywords/reviews`, `Genre.movie_list`)
and sends them through the `requests.Session` it is given (`TMDb(session=...)`). That session,
`TMDBSession`, is where this project's guarantees live:

* tmdbv3api builds its URLs on the hard-coded https://api.themoviedb.org/3; the session points
  them at `sources.tmdb_api.base_url` (the fixture server in tests);
* tmdbv3api would read the key from `os.environ` and put it in every URL; here it only ever sees
  a placeholder, and the session swaps in the real key (a `Secret`) as the `api_key` query
  parameter or a `Authorization: Bearer` header right before sending;
* requests go through `movie_roulette.data.http.Fetcher`: timeouts, retries with backoff and
  `Retry-After`, the per-run request budget, the rate limit and the disk cache (keyed without
  the key); urllib3's request log is redacted;
* TMDB's error answers become `SourceAuthError` (401 / status 7) or `FetchError` (404 / status
  34, other HTTP errors, malformed JSON) inside the session, before tmdbv3api would turn them
  into objects (it returns a 404 body as if it were a movie).

What tmdbv3api still does on its own, and why it is harmless here: docs/sources.md.

Authentication: a v3 API key goes in the `api_key` query parameter; a v4 "API read access
token" (a JWT, starting with "eyJ") goes in an `Authorization: Bearer` header. Either way, the
key is read from the environment variable named in the config (default `TMDB_API_KEY`) or from
a key file, never from the config itself, and it never appears in logs, errors or the cache.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import numpy as np
import pandas as pd
import requests
from tmdbv3api import Genre, Movie

from movie_roulette import columns as C
from movie_roulette.config import TMDBApiConfig
from movie_roulette.data._frames import fetched_reviews_frame
from movie_roulette.data.download import default_cache_dir
from movie_roulette.data.http import (
    Fetcher,
    FetchError,
    FetchReport,
    FetchResult,
    ResponseCache,
    fetch_each,
)
from movie_roulette.exceptions import ConfigError, SourceAuthError

log = logging.getLogger(__name__)

PARTS = ("details", "credits", "keywords", "reviews")
TMDBV3API_BASE = "https://api.themoviedb.org/3"  # where tmdbv3api builds every URL
KEY_PLACEHOLDER = "set-by-TMDBSession"  # all tmdbv3api ever sees of the key
UNCACHED_PATHS = frozenset({"/genre/movie/list"})  # the key check always asks TMDB
STATUS_INVALID_KEY = 7
STATUS_NOT_FOUND = 34
TOP_CAST = 5

TMDB_MOVIE_COLUMNS = [
    C.TMDB_ID,
    C.IMDB_ID,
    C.TITLE,
    C.YEAR,
    C.GENRES,
    C.DIRECTOR,
    C.CAST,
    C.KEYWORDS,
    C.OVERVIEW,
    "tmdb_popularity",
    C.RUNTIME,
    C.VOTE_AVERAGE,
    C.VOTE_COUNT,
    C.POSTER_PATH,
    C.RELEASE_DATE,
]
TMDB_REVIEW_COLUMNS = [
    C.REVIEW_ID,
    C.TMDB_ID,
    C.AUTHOR,
    C.REVIEW_TITLE,
    C.REVIEW_TEXT,
    C.RATING,
    C.REVIEW_DATE,
]


def resolve_api_key(cfg: TMDBApiConfig) -> str:
    """The API key from `cfg.api_key_file` or the environment variable `cfg.api_key_env`."""
    if cfg.api_key_file:
        path = Path(cfg.api_key_file).expanduser()
        try:
            key = path.read_text("utf-8").strip()
        except OSError as err:
            raise SourceAuthError(
                f"sources.tmdb_api.api_key_file: cannot read {path} ({err.strerror}); point it "
                f"at a file holding only the TMDB API key, or unset it and export "
                f"{cfg.api_key_env}."
            ) from None
        if key:
            return key
        raise SourceAuthError(f"sources.tmdb_api.api_key_file: {path} is empty.")
    key = os.environ.get(cfg.api_key_env, "").strip()
    if not key:
        raise SourceAuthError(
            f"sources.tmdb_api is enabled but no TMDB API key was found: export "
            f"{cfg.api_key_env}=<your key> (get one at themoviedb.org > Settings > API), set "
            "sources.tmdb_api.api_key_file, or set sources.tmdb_api.enabled: false."
        )
    return key


class Secret:
    """A string that never shows itself: repr/str are "***"; `reveal()` gives the value."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "***"

    __str__ = __repr__

    def __reduce__(self) -> Any:
        raise TypeError("a Secret cannot be pickled")


def _is_bearer_token(key: str) -> bool:
    return key.startswith("eyJ") and key.count(".") == 2


def _tmdb_status(text: str) -> tuple[int | None, str]:
    try:
        body = json.loads(text)
    except json.JSONDecodeError:
        return None, ""
    if not isinstance(body, dict):
        return None, ""
    code = body.get("status_code")
    return (code if isinstance(code, int) else None), str(body.get("status_message", ""))


def _check_json(text: str, where: str = "") -> dict[str, Any]:
    """The decoded JSON object, or FetchError("malformed_json: ...")."""
    suffix = f" on {where}" if where else ""
    try:
        body = json.loads(text)
    except json.JSONDecodeError as err:
        raise FetchError(f"malformed_json: {err.msg} at char {err.pos}{suffix}") from None
    if not isinstance(body, dict):
        raise FetchError(f"malformed_json: expected a JSON object{suffix}")
    return body


class TMDBSession(requests.Session):
    """The session tmdbv3api sends through: base URL, key, Fetcher and TMDB's error answers.

    `request` accepts tmdbv3api's GETs on `TMDBV3API_BASE` only; it returns a 200 response
    or raises `SourceAuthError` / `FetchError` / `RequestBudgetExceeded`."""

    def __init__(self, key: Secret, base_url: str, fetcher: Fetcher, key_env: str) -> None:
        super().__init__()
        self._key = key
        self.base_url = base_url.rstrip("/")
        self.fetcher = fetcher
        self.key_env = key_env

    def __repr__(self) -> str:
        return f"TMDBSession(base_url={self.base_url!r}, api_key=***)"

    def _auth(self) -> tuple[dict[str, str], dict[str, str]]:
        key = self._key.reveal()
        if _is_bearer_token(key):
            return {}, {"Authorization": f"Bearer {key}"}
        return {"api_key": key}, {}

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> Any:
        method, url = str(method), str(url)
        if method.upper() != "GET" or not url.startswith(TMDBV3API_BASE + "/"):
            raise FetchError(f"TMDBSession sends tmdbv3api's GET requests only, not {method}")
        parts = urlsplit(url)
        path = parts.path[len(urlsplit(TMDBV3API_BASE).path) :]
        # tmdbv3api's placeholder key and its empty parameters ("append_to_response=") go
        query = {k: v for k, v in parse_qsl(parts.query) if k != "api_key"}
        return self._response(self._get(path, query, cache=path not in UNCACHED_PATHS))

    def _get(self, path: str, query: Mapping[str, str], cache: bool) -> FetchResult:
        auth_params, headers = self._auth()
        key = None
        if cache:
            key = ResponseCache.key("tmdb", self.base_url, path, sorted(query.items()))
        url = f"{self.base_url}{path}"
        result = self.fetcher.get(
            url, {**query, **auth_params}, headers, cache_key=key, check=_check_json
        )
        code, message = _tmdb_status(result.text)
        if result.status == 401 or code == STATUS_INVALID_KEY:
            raise SourceAuthError(
                f"TMDB rejected the API key (HTTP {result.status}, status_code {code}: "
                f"{message or 'invalid API key'}). Check {self.key_env} "
                "(or sources.tmdb_api.api_key_file) holds a valid v3 key or v4 read token."
            )
        if result.status == 404 or code == STATUS_NOT_FOUND:
            raise FetchError(f"not_found: TMDB status_code {code} on {result.url}", 404)
        if result.status != 200:
            raise FetchError(f"http_{result.status}: {message or 'error'} on {result.url}")
        _check_json(result.text, result.url)  # cached answers are checked too
        return result

    @staticmethod
    def _response(result: FetchResult) -> requests.Response:
        """A checked 200 answer as the `requests.Response` tmdbv3api reads (`json()`, and
        `headers`, which carry none of the X-RateLimit headers its own limiter acts on)."""
        response = requests.Response()
        response.status_code = result.status
        response._content = result.text.encode("utf-8")
        response.encoding = "utf-8"
        response.url = result.url
        response.headers["Content-Type"] = "application/json;charset=utf-8"
        return response


class _Guarded:
    """What tmdbv3api's `TMDb` reads from `os.environ`, fixed per client instead: the key (a
    placeholder; `TMDBSession` adds the real one), its in-memory cache (off: it calls
    `requests.request` directly, around the session, with the key in the URL), debug logging of
    whole answers (off), proxies (it `eval`s $TMDB_PROXIES; none) and its rate-limit sleep (off;
    the session paces requests)."""

    api_key = KEY_PLACEHOLDER
    cache = False
    debug = False
    proxies = None
    wait_on_rate_limit = False
    language = "en-US"


def _bind(api: type, session: TMDBSession, language: str) -> Any:
    """An instance of the tmdbv3api class `api` on `session`. `TMDb` keeps the session in a
    class attribute, so each client gets its own subclass (two clients never share one)."""
    bound = type(f"Bound{api.__name__}", (_Guarded, api), {"language": language})
    return bound(obj_cached=False, session=session)


def _json_of(obj: Any) -> dict[str, Any]:
    """The decoded answer behind a tmdbv3api `AsObj` (its `_json`), for `parse_movie`."""
    body = getattr(obj, "_json", None)
    if not isinstance(body, dict):
        raise FetchError("malformed_json: expected a JSON object")
    return body


class TMDBClient:
    """Fetch movies from TMDB with tmdbv3api through a `TMDBSession` (resilient, caching)."""

    def __init__(
        self,
        api_key: str,
        *,
        base_url: str = "https://api.themoviedb.org/3",
        cfg: TMDBApiConfig | None = None,
        cache_dir: str | Path | None = None,
        fetcher: Fetcher | None = None,
    ) -> None:
        if not api_key:
            raise SourceAuthError("TMDBClient: the API key is empty.")
        self.cfg = cfg or TMDBApiConfig()
        self.base_url = base_url.rstrip("/")
        self.language = self.cfg.language
        cache = ResponseCache(cache_dir) if cache_dir is not None else None
        self.fetcher = fetcher or Fetcher(self.cfg.http, cache=cache)
        self.session = TMDBSession(
            Secret(api_key), self.base_url, self.fetcher, self.cfg.api_key_env
        )
        self._movie = _bind(Movie, self.session, self.language)
        self._genre = _bind(Genre, self.session, self.language)
        self._parts = {
            "details": lambda i: self._movie.details(i, append_to_response=""),
            "credits": self._movie.credits,
            "keywords": self._movie.keywords,
            "reviews": self._movie.reviews,
        }

    def __repr__(self) -> str:
        return f"TMDBClient(base_url={self.base_url!r}, api_key=***)"

    def close(self) -> None:
        self.fetcher.close()
        self.session.close()

    def check_key(self) -> dict[str, str]:
        """One cheap authenticated request (the movie genre list, never cached): raises
        `SourceAuthError` for a rejected key. Returns {genre id: name}."""
        genres = _json_of(self._genre.movie_list()).get("genres")
        if not isinstance(genres, list):
            raise FetchError("malformed_json: genre list without 'genres' array")
        return {str(g.get("id")): str(g.get("name")) for g in genres if isinstance(g, dict)}

    # ------------------------------------------------------------------ one movie
    def movie_parts(self, tmdb_id: int, parts: Iterable[str] = PARTS) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for part in parts:
            if part not in self._parts:
                raise ConfigError(
                    f"sources.tmdb_api.parts: unknown part {part!r}; choose from {list(PARTS)}."
                )
            out[part] = _json_of(self._parts[part](int(tmdb_id)))
        if "details" in out and out["details"].get("id") not in (None, int(tmdb_id)):
            raise FetchError(
                f"malformed_json: asked for movie {tmdb_id}, got id {out['details'].get('id')}"
            )
        return out

    # ------------------------------------------------------------------ many movies
    def fetch_movies(
        self, tmdb_ids: Iterable[int], max_failure_share: float | None = None
    ) -> TMDBResult:
        """Fetch every movie; per-movie failures are recorded and the run goes on while their
        share stays under `max_failure_share` (raises `TooManyFailures` above it). A used-up
        request budget stops fetching; the remaining movies are reported as skipped."""
        ceiling = self.cfg.max_failure_share if max_failure_share is None else max_failure_share
        ids = [int(i) for i in dict.fromkeys(int(i) for i in tmdb_ids)]
        report = FetchReport(source="tmdb_api")
        fetched = fetch_each(
            ids, lambda i: parse_movie(i, self.movie_parts(i, self.cfg.parts)), report, ceiling
        )
        movies = [movie for movie, _ in fetched]
        reviews = [review for _, movie_reviews in fetched for review in movie_reviews]
        report.absorb(self.fetcher)
        report.check(ceiling)
        return TMDBResult(movies_frame(movies), reviews_frame(reviews), report)


@dataclass(frozen=True)
class TMDBResult:
    movies: pd.DataFrame  # TMDB_MOVIE_COLUMNS
    reviews: pd.DataFrame  # TMDB_REVIEW_COLUMNS
    report: FetchReport


def _names(items: Any, key: str = "name") -> list[str]:
    if not isinstance(items, list):
        return []
    return [str(i[key]).strip() for i in items if isinstance(i, dict) and i.get(key)]


def parse_movie(tmdb_id: int, parts: Mapping[str, Any]) -> tuple[dict[str, Any], list[dict]]:
    """One movie row and its review rows from the endpoint bodies (missing parts -> empty)."""
    d = parts.get("details", {})
    credits = parts.get("credits", {})
    crew = credits.get("crew") if isinstance(credits.get("crew"), list) else []
    directors = [str(p["name"]) for p in crew if isinstance(p, dict) and p.get("job") == "Director"]
    cast = credits.get("cast") if isinstance(credits.get("cast"), list) else []
    cast = sorted(
        (p for p in cast if isinstance(p, dict) and p.get("name")),
        key=lambda p: p.get("order", 1_000),
    )
    keywords = _names(parts.get("keywords", {}).get("keywords"))
    release = str(d.get("release_date") or "")
    year = int(release[:4]) if release[:4].isdigit() else None
    runtime = d.get("runtime")
    movie = {
        C.TMDB_ID: int(tmdb_id),
        C.IMDB_ID: d.get("imdb_id") or None,
        C.TITLE: str(d.get("title") or ""),
        C.YEAR: year,
        C.GENRES: "|".join(_names(d.get("genres"))),
        C.DIRECTOR: "|".join(dict.fromkeys(directors)),
        C.CAST: "|".join(str(p["name"]).strip() for p in cast[:TOP_CAST]),
        C.KEYWORDS: "|".join(k.lower() for k in keywords),
        C.OVERVIEW: " ".join(str(d.get("overview") or "").split()),
        "tmdb_popularity": d.get("popularity"),
        C.RUNTIME: runtime if isinstance(runtime, int) and runtime > 0 else None,
        C.VOTE_AVERAGE: d.get("vote_average"),
        C.VOTE_COUNT: d.get("vote_count"),
        C.POSTER_PATH: str(d.get("poster_path") or ""),
        C.RELEASE_DATE: release,
    }
    review_rows = []
    for r in parts.get("reviews", {}).get("results") or []:
        if not isinstance(r, dict) or not str(r.get("content") or "").strip():
            continue
        author_rating = (r.get("author_details") or {}).get("rating")
        review_rows.append(
            {
                C.REVIEW_ID: f"tmdb-{r.get('id')}",
                C.TMDB_ID: int(tmdb_id),
                C.AUTHOR: str(r.get("author") or ""),
                C.REVIEW_TITLE: "",
                C.REVIEW_TEXT: str(r["content"]).strip(),
                # TMDB author ratings are 0-10; the project's rating scale is 0.5-5 stars
                C.RATING: float(author_rating) / 2.0
                if isinstance(author_rating, int | float) and author_rating > 0
                else np.nan,
                C.REVIEW_DATE: str(r.get("created_at") or "")[:10],
            }
        )
    return movie, review_rows


def movies_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=TMDB_MOVIE_COLUMNS)
    frame[C.TMDB_ID] = frame[C.TMDB_ID].astype("Int64")
    frame[C.IMDB_ID] = frame[C.IMDB_ID].astype("string")
    frame[C.YEAR] = pd.to_numeric(frame[C.YEAR]).astype("Int64")
    frame[C.RUNTIME] = pd.to_numeric(frame[C.RUNTIME]).astype("Int64")
    frame[C.VOTE_COUNT] = pd.to_numeric(frame[C.VOTE_COUNT]).astype("Int64")
    for col in (C.VOTE_AVERAGE, "tmdb_popularity"):
        frame[col] = pd.to_numeric(frame[col]).astype("float64")
    for col in (C.TITLE, C.GENRES, C.DIRECTOR, C.CAST, C.KEYWORDS, C.OVERVIEW, C.POSTER_PATH):
        frame[col] = frame[col].astype(object).fillna("").astype(str)
    frame[C.RELEASE_DATE] = frame[C.RELEASE_DATE].astype(object).fillna("").astype(str)
    return frame


def reviews_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    return fetched_reviews_frame(rows, TMDB_REVIEW_COLUMNS, C.TMDB_ID, "Int64")


def default_tmdb_cache_dir(cfg: TMDBApiConfig) -> Path:
    return Path(cfg.cache_dir).expanduser() if cfg.cache_dir else default_cache_dir() / "tmdb-api"


def select_tmdb_ids(
    catalogue: pd.DataFrame, limit: int | None, only: Iterable[int] = ()
) -> list[int]:
    """Catalogue movies with a TMDB id, most popular first, at most `limit`; restricted to
    `only` when given."""
    has_id = catalogue[catalogue[C.TMDB_ID].notna()]
    only = {int(i) for i in only}
    if only:
        has_id = has_id[has_id[C.TMDB_ID].astype("int64").isin(only)]
    ordered = has_id.sort_values([C.POPULARITY, C.MOVIE_ID], ascending=[False, True])
    ids = ordered[C.TMDB_ID].astype("int64").tolist()
    return ids if limit is None else ids[:limit]


def fetch_tmdb_for_catalogue(catalogue: pd.DataFrame, cfg: TMDBApiConfig) -> TMDBResult:
    """Check the key (before any other request), then fetch the selected catalogue movies.
    The returned frames carry `movie_id` (mapped back through the catalogue's tmdb_id)."""
    client = TMDBClient(
        resolve_api_key(cfg),
        base_url=cfg.base_url,
        cfg=cfg,
        cache_dir=default_tmdb_cache_dir(cfg),
    )
    try:
        client.check_key()
        result = client.fetch_movies(select_tmdb_ids(catalogue, cfg.limit, cfg.tmdb_ids))
    finally:
        client.close()
    ids = catalogue[catalogue[C.TMDB_ID].notna()].drop_duplicates(C.TMDB_ID)
    to_movie = pd.Series(ids[C.MOVIE_ID].to_numpy(), index=ids[C.TMDB_ID].astype("int64"))
    movies = result.movies.copy()
    movies.insert(0, C.MOVIE_ID, movies[C.TMDB_ID].astype("int64").map(to_movie).astype("int64"))
    reviews = result.reviews.copy()
    reviews.insert(1, C.MOVIE_ID, reviews[C.TMDB_ID].astype("int64").map(to_movie).astype("int64"))
    return TMDBResult(movies, reviews, result.report)


def preflight(cfg: TMDBApiConfig) -> None:
    """Before a run starts: a missing or rejected key is a `SourceAuthError` (no-op when the
    source is off). One uncached request to the genre list."""
    if not cfg.enabled:
        return
    client = TMDBClient(resolve_api_key(cfg), base_url=cfg.base_url, cfg=cfg)
    try:
        client.check_key()
    except FetchError as err:
        raise SourceAuthError(
            f"TMDB API check failed before the run: {err.reason}. Check sources.tmdb_api.base_url "
            "and the network, or set sources.tmdb_api.enabled: false."
        ) from None
    finally:
        client.close()
