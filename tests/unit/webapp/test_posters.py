"""Posters: TMDB images fetched from a (local) image server and cached; placeholders otherwise."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.unit.webapp.conftest import make_app
from tests.webapp_support import free_port
from webapp.posters import PosterFetcher, placeholder_svg

JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64


@pytest.fixture
def image_server() -> Iterator[tuple[str, list[str]]]:
    hits: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802
            hits.append(self.path)
            ok = self.path.endswith(".jpg")
            body = JPEG if ok else b"not found"
            self.send_response(200 if ok else 404)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/t/p/w342", hits
    server.shutdown()
    server.server_close()


def test_placeholder_escapes_the_title_and_is_deterministic() -> None:
    svg = placeholder_svg("<b>Tom & Jerry</b>", 1990, ["Comedy"])
    assert "<b>" not in svg and "&lt;b&gt;Tom &amp; Jerry" in svg
    assert svg == placeholder_svg("<b>Tom & Jerry</b>", 1990, ["Comedy"])
    assert svg != placeholder_svg("Heat", 1995, ["Crime"])


def test_poster_is_fetched_once_then_served_from_the_cache(
    image_server: tuple[str, list[str]], tmp_path: Path
) -> None:
    base, hits = image_server
    fetcher = PosterFetcher(base, tmp_path / "cache", timeout=2)
    assert fetcher.get("/abc.jpg") == (JPEG, "image/jpeg")
    assert fetcher.get("/abc.jpg") == (JPEG, "image/jpeg")
    assert hits == ["/t/p/w342/abc.jpg"]


@pytest.mark.parametrize(
    "path", [None, "", "../etc/passwd", "/a/b.jpg", "/x.svg", "http://e/x.jpg"]
)
def test_only_plain_tmdb_paths_are_fetched(
    image_server: tuple[str, list[str]], tmp_path: Path, path: str | None
) -> None:
    base, hits = image_server
    assert PosterFetcher(base, tmp_path).get(path) is None
    assert hits == []


def test_a_missing_or_non_image_poster_gives_none(
    image_server: tuple[str, list[str]], tmp_path: Path
) -> None:
    base, _ = image_server
    assert PosterFetcher(base, tmp_path).get("/missing.png") is None


def test_an_unreachable_tmdb_is_not_retried_on_every_page(tmp_path: Path) -> None:
    fetcher = PosterFetcher(f"http://127.0.0.1:{free_port()}", tmp_path, timeout=1)
    assert fetcher.get("/a.jpg") is None
    assert fetcher._down_until > 0
    assert fetcher.get("/b.jpg") is None  # answered at once from the back-off


def test_the_poster_route_serves_the_tmdb_image_or_the_placeholder(
    image_server: tuple[str, list[str]], enriched_bundle: Path, tmp_path: Path
) -> None:
    base, _ = image_server
    url = f"http://127.0.0.1:{free_port()}"
    online = make_app(
        enriched_bundle, url, remote_posters=True, tmdb_image_base=base, poster_cache_dir=tmp_path
    ).test_client()
    response = online.get("/poster/7")
    assert response.mimetype == "image/jpeg" and response.data == JPEG
    offline = make_app(enriched_bundle, url).test_client()
    assert offline.get("/poster/7").mimetype == "image/svg+xml"
