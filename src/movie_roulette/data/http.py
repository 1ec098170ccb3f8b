"""Resilient HTTP for the live sources: timeouts, retries, budget, rate limit, disk cache.

`Fetcher.get` is the one way the TMDB client and the IMDb scraper reach the network:

* every request has a (connect, read) timeout;
* 429 and 5xx answers, timeouts and connection errors are retried with exponential backoff
  (`backoff_s * 2**attempt`, capped at `max_backoff_s`); a `Retry-After` header (seconds or an
  HTTP date) is honoured, and one longer than `max_retry_after_s` fails the request instead;
* every network request (retries included) counts against a per-run budget, and requests are
  spaced so that at most `rate_limit_per_s` start per second;
* secrets (an API key passed as a query parameter) never appear in an error message, a log
  record or the cache: messages name the URL without its query string, `requests` exceptions
  (whose text holds the full URL) are not chained, and urllib3's debug log is redacted.

`ResponseCache` stores answers on disk (one JSON file per request, written atomically) so a
re-run does not ask again. `FetchReport` does the per-item failure accounting.
"""

from __future__ import annotations

import email.utils
import hashlib
import json
import logging
import os
import re
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests

from movie_roulette.config import HttpConfig
from movie_roulette.exceptions import RequestBudgetExceeded, TooManyFailures

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
_SECRET_PARAMS = ("api_key", "apikey", "access_token", "token", "key")
_SECRET_RE = re.compile(
    r"((?<=[?&])(?:" + "|".join(_SECRET_PARAMS) + r")=)[^&\s\"']+", re.IGNORECASE
)


def redact(text: str) -> str:
    """Replace the value of secret query parameters (api_key=...) with ***."""
    return _SECRET_RE.sub(r"\1***", text)


class _RedactFilter(logging.Filter):
    """Redacts secret query parameters in urllib3's request log lines (DEBUG level)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


_FILTER = _RedactFilter()


def install_log_redaction() -> None:
    """Idempotently add the redacting filter to the loggers that print request URLs."""
    for name in ("urllib3.connectionpool", "requests"):
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)


def without_query(url: str) -> str:
    """The URL with its query string and fragment removed (safe to show)."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP date); None if absent."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    now = time.time() if now is None else now
    return max(0.0, when.timestamp() - now)


@dataclass(frozen=True)
class FetchResult:
    """One answer: HTTP status, body text, and whether it came from the disk cache."""

    status: int
    text: str
    url: str  # without query string
    from_cache: bool = False
    headers: Mapping[str, str] = field(default_factory=dict)

    def json(self) -> Any:
        return json.loads(self.text)


class FetchError(Exception):
    """A request failed for good (after retries). `reason` is a short, secret-free string."""

    def __init__(self, reason: str, status: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


class ResponseCache:
    """One JSON file per request key under `root`; atomic writes; unreadable files are misses."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    @staticmethod
    def key(*parts: object) -> str:
        return hashlib.sha256("\x1f".join(str(p) for p in parts).encode("utf-8")).hexdigest()

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.json"

    def get(self, key: str) -> dict[str, Any] | None:
        path = self._path(key)
        if not path.is_file():
            return None
        try:
            record = json.loads(path.read_text("utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            log.warning("cache file %s is unreadable; fetching again", path)
            return None
        if not isinstance(record, dict) or "status" not in record or "text" not in record:
            return None
        return record

    def put(self, key: str, record: Mapping[str, Any]) -> Path:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(dict(record), handle)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return path

    def __len__(self) -> int:
        return sum(1 for _ in self.root.glob("*/*.json")) if self.root.is_dir() else 0


class Fetcher:
    """GET with timeout, retries, backoff, Retry-After, request budget, rate limit and cache.

    `cacheable` decides which statuses are stored (by default 200 and 404: a missing movie stays
    missing). The budget counts network requests only; cache hits are free.
    """

    def __init__(
        self,
        policy: HttpConfig,
        *,
        cache: ResponseCache | None = None,
        user_agent: str | None = None,
        min_interval_s: float = 0.0,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        cacheable: frozenset[int] = frozenset({200, 404}),
    ) -> None:
        self.policy = policy
        self.cache = cache
        self.session = session or requests.Session()
        if user_agent:
            self.session.headers["User-Agent"] = user_agent
        rate_interval = 1.0 / policy.rate_limit_per_s if policy.rate_limit_per_s > 0 else 0.0
        self.min_interval_s = max(rate_interval, float(min_interval_s))
        self.sleep = sleep
        self.cacheable = cacheable
        self.requests_made = 0
        self.cache_hits = 0
        self.retries = 0
        self._last_start: float | None = None
        install_log_redaction()

    # ------------------------------------------------------------------ budget and pacing
    @property
    def budget_left(self) -> int:
        return max(0, self.policy.request_budget - self.requests_made)

    def _take_budget(self, shown_url: str) -> None:
        if self.requests_made >= self.policy.request_budget:
            raise RequestBudgetExceeded(
                f"request budget of {self.policy.request_budget} used up before {shown_url}; "
                "raise http.request_budget in the source's config or lower its limit "
                "(answers already fetched are cached, so a re-run continues where this stopped)."
            )
        self.requests_made += 1

    def _pace(self) -> None:
        if self._last_start is not None and self.min_interval_s > 0:
            wait = self._last_start + self.min_interval_s - time.monotonic()
            if wait > 0:
                self.sleep(wait)
        self._last_start = time.monotonic()

    def _backoff(self, attempt: int) -> float:
        return min(self.policy.backoff_s * (2**attempt), self.policy.max_backoff_s)

    # ------------------------------------------------------------------ requests
    def get(
        self,
        url: str,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        *,
        cache_key: str | None = None,
        check: Callable[[str], None] | None = None,
    ) -> FetchResult:
        """The answer for `url`; raises `FetchError` once retries are exhausted, or
        `RequestBudgetExceeded`. `cache_key` must not contain secrets (it names the file).
        `check(body)` vets a 200 body before it is cached (it raises FetchError for a malformed
        one, which is then neither cached nor returned)."""
        shown = without_query(url)
        if self.cache is not None and cache_key is not None:
            record = self.cache.get(cache_key)
            if record is not None:
                self.cache_hits += 1
                return FetchResult(int(record["status"]), str(record["text"]), shown, True)
        attempt = 0
        while True:
            self._take_budget(shown)
            self._pace()
            wait: float | None = None
            try:
                response = self.session.get(
                    url,
                    params=dict(params or {}),
                    headers=dict(headers or {}),
                    timeout=(self.policy.timeout_s, self.policy.timeout_s),
                )
            except requests.Timeout:
                failure = f"timed out after {self.policy.timeout_s:g} s ({shown})"
            except requests.ConnectionError:
                failure = f"could not connect ({shown})"
            except requests.RequestException as err:  # invalid URL and the like: no retry
                raise FetchError(f"request failed: {type(err).__name__} ({shown})") from None
            else:
                status = response.status_code
                if status not in RETRY_STATUSES:
                    result = FetchResult(status, response.text, shown, False, response.headers)
                    if status == 200 and check is not None:
                        check(result.text)
                    if self.cache is not None and cache_key is not None:
                        if status in self.cacheable:
                            self.cache.put(
                                cache_key,
                                {
                                    "status": status,
                                    "text": response.text,
                                    "url": shown,
                                    "fetched_at": datetime.now(UTC).isoformat(timespec="seconds"),
                                },
                            )
                    return result
                failure = f"HTTP {status} ({shown})"
                wait = parse_retry_after(response.headers.get("Retry-After"))
                if wait is not None and wait > self.policy.max_retry_after_s:
                    raise FetchError(
                        f"{failure}: Retry-After {wait:g} s exceeds max_retry_after_s "
                        f"{self.policy.max_retry_after_s:g}",
                        status,
                    )
                response.close()
            if attempt >= self.policy.max_retries:
                raise FetchError(f"{failure}; gave up after {attempt + 1} attempt(s)")
            delay = max(self._backoff(attempt), wait or 0.0)
            log.info("retrying %s in %.2f s (%s)", shown, delay, failure)
            self.retries += 1
            self.sleep(delay)
            attempt += 1

    def close(self) -> None:
        self.session.close()


@dataclass
class FetchReport:
    """Per-item accounting for one source in one run."""

    source: str
    attempted: int = 0
    succeeded: int = 0
    failures: list[dict[str, str]] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)
    unparseable_pages: int = 0
    requests: int = 0
    cache_hits: int = 0
    retries: int = 0

    def fail(self, item: object, reason: str) -> None:
        self.failures.append({"item": str(item), "reason": redact(reason)})

    def skip(self, item: object, reason: str) -> None:
        self.skipped.append({"item": str(item), "reason": redact(reason)})

    @property
    def failure_share(self) -> float:
        return len(self.failures) / self.attempted if self.attempted else 0.0

    def absorb(self, fetcher: Fetcher) -> None:
        self.requests = fetcher.requests_made
        self.cache_hits = fetcher.cache_hits
        self.retries = fetcher.retries

    def to_dict(self) -> dict[str, Any]:
        reasons: dict[str, int] = {}
        for failure in self.failures:
            kind = failure["reason"].split(":")[0]
            reasons[kind] = reasons.get(kind, 0) + 1
        return {
            "source": self.source,
            "attempted": self.attempted,
            "succeeded": self.succeeded,
            "failed": len(self.failures),
            "failure_share": round(self.failure_share, 4),
            "failure_kinds": reasons,
            "failures": self.failures[:50],
            "skipped": len(self.skipped),
            "skipped_items": self.skipped[:50],
            "unparseable_pages": self.unparseable_pages,
            "requests": self.requests,
            "cache_hits": self.cache_hits,
            "retries": self.retries,
        }

    def summary(self) -> str:
        head = (
            f"{self.source}: {self.succeeded}/{self.attempted} items fetched, "
            f"{len(self.failures)} failed ({self.failure_share:.0%}), {len(self.skipped)} skipped, "
            f"{self.unparseable_pages} unparseable page(s), {self.requests} request(s), "
            f"{self.cache_hits} cache hit(s)"
        )
        lines = [head] + [f"  {f['item']}: {f['reason']}" for f in self.failures[:10]]
        if len(self.failures) > 10:
            lines.append(f"  ... and {len(self.failures) - 10} more")
        return "\n".join(lines)

    def check(self, max_failure_share: float) -> None:
        """Raise `TooManyFailures` with the summary when the failure share is above the ceiling."""
        if self.attempted and self.failure_share > max_failure_share:
            raise TooManyFailures(
                f"{self.failure_share:.0%} of {self.source} items failed, above the ceiling of "
                f"{max_failure_share:.0%} (max_failure_share):\n{self.summary()}",
                report=self.to_dict(),
            )

    def hopeless(self, planned: int, max_failure_share: float) -> bool:
        """True once the failures alone exceed the ceiling over every planned item."""
        return planned > 0 and len(self.failures) / planned > max_failure_share


def fetch_each(
    items: list[Any], fetch: Callable[[Any], Any], report: FetchReport, ceiling: float
) -> list[Any]:
    """`fetch(item)` for every item, with the per-item accounting both live sources share: a
    `FetchError` is recorded as that item's failure (and stops the loop once the failure share
    can no longer stay under `ceiling`); a used-up request budget stops the loop and reports
    the remaining items as skipped. Returns the successful results, in order."""
    results = []
    for n, item in enumerate(items):
        report.attempted += 1
        try:
            result = fetch(item)
        except FetchError as err:
            report.fail(item, err.reason)
            if report.hopeless(len(items), ceiling):
                break
            continue
        except RequestBudgetExceeded as err:
            report.attempted -= 1
            for rest in items[n:]:
                report.skip(rest, "budget: " + str(err).split(";")[0])
            log.warning(
                "%s request budget used up; %d item(s) skipped", report.source, len(items) - n
            )
            break
        results.append(result)
        report.succeeded += 1
    return results
