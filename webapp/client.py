"""REST client for the model server (the MLflow scoring server serving the pyfunc model).

POST {server}/invocations with {"inputs": [request, ...]} -> {"predictions": [...]}.
Every call has a timeout. A server that cannot be reached, times out or fails (5xx, garbage)
raises `ModelServerUnavailable`; a request the server rejects (4xx) raises `ModelServerRejected`
with the server's message (it names the field). Both are counted in the app's metrics.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

import requests

from serving.client import clean_message

log = logging.getLogger(__name__)


class ModelServerError(Exception):
    """Base class of the model-server errors the pages handle."""


class ModelServerUnavailable(ModelServerError):
    """The model server is down, too slow, or answered something unusable."""


class ModelServerRejected(ModelServerError):
    """The model server rejected the request as malformed (HTTP 4xx)."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


Observer = Callable[[str, float, str | None], None]  # (kind, seconds, error reason or None)


class ModelServerClient:
    def __init__(
        self,
        base_url: str,
        timeout: float = 5.0,
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

    def invoke(self, request: Mapping[str, Any]) -> dict[str, Any]:
        """One request row -> its answer dict."""
        kind = str(request.get("kind", "?"))
        started = time.perf_counter()
        record = {k: v for k, v in request.items() if v is not None}
        try:
            response = self._session.post(
                f"{self.base_url}/invocations",
                json={"inputs": [record]},
                timeout=self.timeout,
            )
        except requests.Timeout as err:
            self._observe(kind, started, "timeout")
            raise ModelServerUnavailable(
                f"the model server did not answer within {self.timeout:g} s"
            ) from err
        except requests.RequestException as err:
            self._observe(kind, started, "connection")
            raise ModelServerUnavailable(f"the model server cannot be reached ({err})") from err
        if 400 <= response.status_code < 500:
            self._observe(kind, started, f"http_{response.status_code}")
            raise ModelServerRejected(_error_message(response), response.status_code)
        if response.status_code != 200:
            self._observe(kind, started, f"http_{response.status_code}")
            raise ModelServerUnavailable(
                f"the model server failed with HTTP {response.status_code}: "
                f"{_error_message(response)}"
            )
        try:
            predictions = response.json()["predictions"]
            answer = predictions[0]
            if not isinstance(answer, dict):
                raise TypeError(f"expected an object, got {type(answer).__name__}")
        except (ValueError, KeyError, IndexError, TypeError) as err:
            self._observe(kind, started, "bad_response")
            raise ModelServerUnavailable(
                f"the model server answered something unexpected ({err})"
            ) from err
        self._observe(kind, started, None)
        return answer

    def ping(self) -> bool:
        started = time.perf_counter()
        try:
            ok = self._session.get(f"{self.base_url}/ping", timeout=min(self.timeout, 2.0)).ok
        except requests.RequestException:
            ok = False
        self._observe("ping", started, None if ok else "down")
        return ok

    # ---- the request kinds ------------------------------------------------------------------
    def recommend(
        self, user_id: int, k: int = 10, genre: str | None = None, exclude_seen: bool = True
    ) -> dict[str, Any]:
        return self.invoke(
            {
                "kind": "recommend",
                "user_id": user_id,
                "k": k,
                "genre": genre,
                "exclude_seen": exclude_seen,
            }
        )

    def explain(self, user_id: int, k: int = 10) -> dict[str, Any]:
        """A known user's top-k with each score split by blend component (kind "explain")."""
        return self.invoke({"kind": "explain", "user_id": user_id, "k": k})

    def recommend_from_ratings(
        self, ratings: Mapping[int, float], k: int = 10, genre: str | None = None
    ) -> dict[str, Any]:
        return self.invoke(
            {
                "kind": "recommend",
                "k": k,
                "genre": genre,
                "ratings": json.dumps({str(m): float(r) for m, r in ratings.items()}),
            }
        )

    def similar(self, movie_id: int, k: int = 8) -> dict[str, Any]:
        return self.invoke({"kind": "similar", "movie_id": movie_id, "k": k})

    def spin(
        self,
        user_id: int | None = None,
        seed: int | None = None,
        ratings: Mapping[int, float] | None = None,
        genre: str | None = None,
    ) -> dict[str, Any]:
        request: dict[str, Any] = {"kind": "spin", "user_id": user_id, "seed": seed, "genre": genre}
        if ratings is not None:
            request["ratings"] = json.dumps({str(m): float(r) for m, r in ratings.items()})
        return self.invoke(request)


def _error_message(response: requests.Response) -> str:
    try:
        body = response.json()
        if isinstance(body, dict) and body.get("message"):
            return clean_message(str(body["message"]))
    except ValueError:
        pass
    return response.text[:300] or f"HTTP {response.status_code}"
