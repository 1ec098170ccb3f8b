"""Shared by the web-app route tests and the browser tests: a demo bundle (optionally with the
enriched catalogue columns and a scored reviews table) and a real HTTP server that speaks the
model-server contract (MLflow's /invocations + /ping) from the in-process RecommenderService."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from movie_roulette import bundle
from movie_roulette.bundle import ModelBundle
from movie_roulette.config import ModelConfig, SplitConfig
from movie_roulette.data.demo import generate_demo
from movie_roulette.data.split import train_valid_test
from movie_roulette.models.hybrid import train_hybrid
from movie_roulette.request import Request
from movie_roulette.service import RecommenderService, RequestError

EVIL_TITLE = "<script>alert('x')</script> The Hack"
EVIL_REVIEW = "Loved it <script>document.title='pwned'</script> <b>bold</b>"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


OPTIONAL_DETAIL_COLUMNS = ("runtime", "vote_average", "vote_count", "poster_path", "release_date")


def build_demo_bundle(path: Path, enriched: bool, seed: int = 3) -> Path:
    """Train a small hybrid on demo data and save it. `enriched` adds the optional catalogue
    columns (runtime, votes, poster_path, release date, per-movie sentiment) and a scored
    reviews.parquet; without it the bundle has only the base catalogue and no reviews."""
    demo = generate_demo(
        seed=seed, n_movies=120, n_users=60, mean_ratings_per_user=30, n_reviews=400
    )
    train, valid, _ = train_valid_test(demo.ratings, SplitConfig(), seed=seed)
    model = train_hybrid(train, valid, demo.catalogue, ModelConfig(), seed=seed)
    catalogue = demo.catalogue.copy()
    if not enriched:  # the base catalogue only: what an older bundle holds
        catalogue = catalogue.drop(
            columns=[c for c in OPTIONAL_DETAIL_COLUMNS if c in catalogue.columns]
        )
    evil_id = int(catalogue["movie_id"].iloc[-1])
    catalogue.loc[catalogue["movie_id"] == evil_id, "title"] = EVIL_TITLE
    path = bundle.save(path, model, catalogue, {"purpose": "web app tests"})
    if not enriched:
        return path
    rng = np.random.default_rng(seed)
    reviews = demo.reviews.copy()
    reviews["author"] = [f"reviewer{u}" for u in reviews["user_id"].fillna(0).astype(int)]
    reviews["title"] = ["A headline" if i % 3 else "" for i in range(len(reviews))]
    prob = np.clip(
        (reviews["rating"].to_numpy() - 0.5) / 4.5 + rng.normal(0, 0.08, len(reviews)), 0, 1
    )
    reviews["sentiment"] = prob
    reviews["sentiment_label"] = np.where(prob >= 0.5, "positive", "negative")
    first = reviews.index[reviews["movie_id"] == evil_id]
    extra = pd.DataFrame(
        [
            {
                "review_id": "evil-1",
                "movie_id": evil_id,
                "user_id": pd.NA,
                "rating": 5.0,
                "review": EVIL_REVIEW,
                "author": "<img src=x onerror=alert(1)>",
                "title": "",
                "sentiment": 0.97,
                "sentiment_label": "positive",
            }
        ]
    )
    extra = extra.astype({"user_id": "Int64"})
    reviews = pd.concat([reviews.drop(index=first), extra], ignore_index=True)
    reviews["user_id"] = reviews["user_id"].astype("Int64")
    reviews.to_parquet(path / "reviews.parquet", index=False)
    share = reviews.groupby("movie_id")["sentiment"].apply(lambda s: float((s >= 0.5).mean()))
    count = reviews.groupby("movie_id").size()
    cat = bundle.load_catalogue(path)
    n = len(cat)
    cat["runtime"] = pd.array(rng.integers(80, 170, n), dtype="Int64")
    cat["vote_average"] = np.round(rng.uniform(4.5, 8.8, n), 1)
    cat["vote_count"] = pd.array(rng.integers(10, 20000, n), dtype="Int64")
    cat["poster_path"] = [f"/poster{m}.jpg" for m in cat["movie_id"]]
    cat["release_date"] = [f"{y}-05-01" if pd.notna(y) else "" for y in cat["year"]]
    cat["sentiment_positive_share"] = cat["movie_id"].map(share)
    cat["sentiment_count"] = cat["movie_id"].map(count).fillna(0).astype("int64")
    cat["sentiment_confidence"] = 0.8
    cat.to_parquet(path / bundle.CATALOGUE, index=False)
    _refresh_manifest(path)
    return path


def _refresh_manifest(path: Path) -> None:
    """Re-record sizes/checksums after rewriting the catalogue (what bundle.save would write)."""
    manifest = json.loads((path / bundle.MANIFEST).read_text())
    for file in sorted(path.iterdir()):
        if file.is_file() and file.name != bundle.MANIFEST:  # arrays/ is unchanged
            manifest["files"][file.name] = {
                "bytes": file.stat().st_size,
                "sha256": bundle._sha256(file),
            }
    (path / bundle.MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True))


class _ContractHandler(BaseHTTPRequestHandler):
    service: RecommenderService

    def log_message(self, *args: Any) -> None:  # keep test output quiet
        pass

    def _send(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802
        if self.path in ("/ping", "/health"):
            self._send(200, {})
        else:
            self._send(404, {"message": "not found"})

    def do_POST(self) -> None:  # noqa: N802
        if self.path != "/invocations":
            self._send(404, {"message": "not found"})
            return
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        from mlflow.exceptions import MlflowException
        from mlflow.types.type_hints import _validate_data_against_type_hint

        try:  # as MLflow's server does for the served model's `list[Request]` signature
            rows = _validate_data_against_type_hint(body["inputs"], list[Request])
            answers = [self.service.handle(row) for row in rows]
        except (RequestError, MlflowException) as err:
            error = err.message if isinstance(err, MlflowException) else str(err)
            message = f"Failed to predict data '{body['inputs']}'. \nError: {error}"
            self._send(400, {"error_code": "INVALID_PARAMETER_VALUE", "message": message})
            return
        self._send(200, {"predictions": answers})


@contextmanager
def contract_server(bundle_path: Path, feedback_log: Path | None = None) -> Iterator[str]:
    """A real HTTP server answering the model-server contract; yields its base URL.
    `feedback_log`: the event log whose logged ratings/accepted spins it leaves out."""
    loaded = bundle.load(bundle_path)
    service = RecommenderService(loaded, feedback_log=feedback_log)
    handler = type("Handler", (_ContractHandler,), {"service": service})
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def service_for(bundle_path: Path) -> RecommenderService:
    return RecommenderService(ModelBundle(**vars(bundle.load(bundle_path))))


def save_pyfunc(bundle_path: Path, dst: Path) -> Path:
    """The pyfunc model packaged exactly as serving/registry.py logs it (from code, the bundle
    as artifact), saved to a folder that `mlflow models serve` can serve."""
    import mlflow

    from serving.registry import pyfunc_kwargs

    mlflow.pyfunc.save_model(
        path=str(dst), artifacts={"bundle": str(bundle_path)}, **pyfunc_kwargs()
    )
    return dst


def make_app(bundle_path: Path, server_url: str, **overrides: object) -> Any:
    """The web app for route tests (posters off unless asked for)."""
    from webapp import AppConfig, create_app

    values: dict[str, Any] = {"remote_posters": False, "testing": True, **overrides}
    return create_app(AppConfig(bundle_path=bundle_path, server_url=server_url, **values))
