"""The one HTTP client of the model server (MLflow's scoring server serving the pyfunc), used by
the `movie-roulette` CLI (serving/cli.py, which maps its errors to exit codes) and the web app.

POST {server}/invocations with {"inputs": [row, ...]} -> {"predictions": [answer, ...]}.
Every call has a timeout. The errors are typed:
* `ModelServerRejected`: the request is the caller's fault: the server refused it (HTTP 4xx,
  `status`, the server's message without MLflow's wrapping, naming the field), or it cannot be
  sent at all (NaN or infinity is not JSON; `status` None);
* `ModelServerUnavailable`: the server cannot be reached (`reason` "connection"), is too slow
  ("timeout"), fails ("http_5xx") or answers something unusable ("bad_response").
An observer (the web app's metrics) is told every call's kind, duration and failure reason.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Mapping
from typing import Any

import requests

DEFAULT_TIMEOUT_SECONDS = 30.0
PING_TIMEOUT_SECONDS = 2.0
_MLFLOW_WRAPPER = re.compile(r"^Failed to predict data .*?\. \s*Error: ", re.S)
_TYPE_HINT_FAILURE = "Failed to validate data against type hint"
# one pydantic error inside MLflow's message: "\nuser_id\n  Input should be a valid integer
# [type=int_type, input_value=1.5, input_type=float]" (the newlines escaped, as MLflow reprs it)
# (the problem starts with a non-space: ` +` and the lazy group never compete for a run of
# spaces, which made the pattern quadratic in one; the message echoes the request's text)
_PYDANTIC_ERROR = re.compile(
    r"(?:\\n|\n)(\w+)(?:\\n|\n) +([^\[\n\\ ][^\[\n\\]*?) \[type=(\w+), "
    r"input_value=(.*?), input_type="
)

Observer = Callable[[str, float, str | None], None]  # (kind, seconds, failure reason or None)
Answer = dict[str, Any]


class ModelServerError(Exception):
    """Base class of the model-server errors; `reason` is the observed failure reason."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


class ModelServerUnavailable(ModelServerError):
    """The model server is down, too slow, or answered something unusable."""


class ModelServerRejected(ModelServerError):
    """The request is malformed: refused by the server (`status` 4xx) or not sendable (None)."""

    def __init__(self, message: str, status: int | None) -> None:
        super().__init__(message, f"http_{status}" if status is not None else "bad_request")
        self.status = status


def clean_message(message: str) -> str:
    """The server's 400 message without MLflow's wrapping: our own errors ("k: 0 is outside
    1..100") come inside a dump of the request, and a row that does not match the `Request`
    type inside a dump of the type; both become "field: problem" lines."""
    message = _MLFLOW_WRAPPER.sub("", message).strip()
    if _TYPE_HINT_FAILURE in message:
        found = [
            f"{field}: {problem.strip()} (got {given})"
            if kind != "missing"
            else f"{field}: {problem.strip()}"
            for field, problem, kind, given in _PYDANTIC_ERROR.findall(message)
        ]
        if found:
            return "; ".join(dict.fromkeys(found))
    return message


def _error_message(response: requests.Response) -> str:
    try:
        body = response.json()
        if isinstance(body, dict) and body.get("message"):
            return clean_message(str(body["message"]))
    except ValueError:
        pass
    return response.text[:300] or f"HTTP {response.status_code}"


def _ratings_json(ratings: Mapping[int, float]) -> str:
    return json.dumps({str(m): float(r) for m, r in ratings.items()})


class ModelServerClient:
    """REST client of one model server; safe to share between threads (one pooled session)."""

    def __init__(
        self,
        base_url: str,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        observer: Observer | None = None,
        session: requests.Session | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._observer = observer
        self._session = session or requests.Session()

    def _observe(self, kind: str, started: float, error: str | None) -> None:
        if self._observer is not None:
            self._observer(kind, time.perf_counter() - started, error)

    def _fail(self, kind: str, started: float, err: ModelServerError) -> ModelServerError:
        self._observe(kind, started, err.reason)
        return err

    def query(self, *rows: Mapping[str, Any]) -> list[Answer]:
        """The answers to request rows (None fields left out), one per row, in order."""
        kind = str(rows[0].get("kind", "?")) if len(rows) == 1 else "batch"
        started = time.perf_counter()
        records = [{k: v for k, v in row.items() if v is not None} for row in rows]
        try:
            body = json.dumps({"inputs": records}, allow_nan=False)
        except ValueError as err:  # NaN or infinity: not JSON
            raise self._fail(kind, started, ModelServerRejected(str(err), None)) from None
        url = self.base_url
        try:
            response = self._session.post(
                f"{url}/invocations",
                data=body,
                headers={"Content-Type": "application/json"},
                timeout=self.timeout,
            )
        except requests.Timeout as err:
            message = f"the model server at {url} did not answer within {self.timeout:g} s"
            raise self._fail(kind, started, ModelServerUnavailable(message, "timeout")) from err
        except requests.RequestException as err:
            message = f"the model server at {url} cannot be reached ({err})"
            raise self._fail(kind, started, ModelServerUnavailable(message, "connection")) from err
        status = response.status_code
        if 400 <= status < 500:
            raise self._fail(kind, started, ModelServerRejected(_error_message(response), status))
        if status != 200:
            message = f"the model server at {url} failed with HTTP {status}: "
            error = ModelServerUnavailable(
                message + _error_message(response)[:500], f"http_{status}"
            )
            raise self._fail(kind, started, error)
        try:
            predictions = response.json()["predictions"]
            if not isinstance(predictions, list) or len(predictions) != len(rows):
                raise TypeError(f"expected a list of {len(rows)} answers")
            for answer in predictions:
                if not isinstance(answer, dict):
                    raise TypeError(f"expected an object, got {type(answer).__name__}")
        except (ValueError, KeyError, TypeError) as err:
            message = f"the model server at {url} answered something unexpected ({err})"
            error = ModelServerUnavailable(message, "bad_response")
            raise self._fail(kind, started, error) from err
        self._observe(kind, started, None)
        return predictions

    def invoke(self, row: Mapping[str, Any]) -> Answer:
        """One request row -> its answer."""
        return self.query(row)[0]

    def ping(self) -> bool:
        started = time.perf_counter()
        try:
            timeout = min(self.timeout, PING_TIMEOUT_SECONDS)
            ok = self._session.get(f"{self.base_url}/ping", timeout=timeout).ok
        except requests.RequestException:
            ok = False
        self._observe("ping", started, None if ok else "down")
        return ok

    # ---- the request kinds (docs/serving.md) ------------------------------------------------
    def recommend(
        self, user_id: int, k: int = 10, genre: str | None = None, exclude_seen: bool = True
    ) -> Answer:
        return self.invoke(
            {
                "kind": "recommend",
                "user_id": user_id,
                "k": k,
                "genre": genre,
                "exclude_seen": exclude_seen,
            }
        )

    def recommend_from_ratings(
        self, ratings: Mapping[int, float], k: int = 10, genre: str | None = None
    ) -> Answer:
        return self.invoke(
            {"kind": "recommend", "k": k, "genre": genre, "ratings": _ratings_json(ratings)}
        )

    def explain(self, user_id: int, k: int = 10) -> Answer:
        """A known user's top-k with each score split by blend component (kind "explain")."""
        return self.invoke({"kind": "explain", "user_id": user_id, "k": k})

    def similar(self, movie_id: int | None = None, k: int = 8, title: str | None = None) -> Answer:
        return self.invoke({"kind": "similar", "movie_id": movie_id, "title": title, "k": k})

    def predict(self, user_id: int, movie_id: int) -> Answer:
        return self.invoke({"kind": "predict", "user_id": user_id, "movie_id": movie_id})

    def spin(
        self,
        user_id: int | None = None,
        seed: int | None = None,
        ratings: Mapping[int, float] | None = None,
        genre: str | None = None,
    ) -> Answer:
        request: dict[str, Any] = {"kind": "spin", "user_id": user_id, "seed": seed, "genre": genre}
        if ratings is not None:
            request["ratings"] = _ratings_json(ratings)
        return self.invoke(request)

    def search(self, title: str, k: int = 10) -> Answer:
        return self.invoke({"kind": "search", "title": title, "k": k})


__all__ = [
    "DEFAULT_TIMEOUT_SECONDS",
    "ModelServerClient",
    "ModelServerError",
    "ModelServerRejected",
    "ModelServerUnavailable",
    "clean_message",
]
