"""A local HTTP server that answers like TMDB and IMDb from the recorded fixtures.

The real clients (requests, retries, cache) talk to it over TCP; nothing is monkeypatched.
Routes (TMDB under /3, authenticated by `api_key` query parameter or Bearer token == VALID_KEY):

    /3/genre/movie/list                 genre-movie-list.json
    /3/movie/550[/credits|/keywords|/reviews]   the recorded Fight Club answers
    /3/movie/<other id>[/...]           resource-not-found.json, HTTP 404 (status_code 34)
    any TMDB path with a wrong key      invalid-api-key.json, HTTP 401 (status_code 7)
    /title/tt1213663/reviews/           imdb_reviews.html (The World's End, 35 reviews)
    /title/<other tt>/reviews/          404

`script(path, *responses)` queues one-off answers for a path (status, body, headers, delay),
used for 429-then-success, 5xx, timeouts and malformed bodies. Every request is recorded.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

VALID_KEY = "0123456789abcdef0123456789abcdef"
FIGHT_CLUB = 550
WORLDS_END = "tt1213663"
_MOVIE = re.compile(r"^/3/movie/(\d+)(/credits|/keywords|/reviews|/external_ids)?/?$")
_IMDB = re.compile(r"^/title/(tt\d+)/reviews/(_ajax)?$")
_FILES = {
    "": "movie-details.json",
    "/credits": "movie-credits.json",
    "/keywords": "movie-keywords.json",
    "/reviews": "movie-reviews.json",
    "/external_ids": "movie-external-ids.json",
}


@dataclass
class Answer:
    status: int = 200
    body: str | bytes = ""
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0


@dataclass
class Seen:
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]


class FixtureServer:
    def __init__(self, fixtures: Path) -> None:
        self.tmdb = fixtures / "tmdb"
        self.imdb = fixtures / "imdb"
        self.requests: list[Seen] = []
        self._scripts: dict[str, deque[Answer]] = defaultdict(deque)
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                parts = urlsplit(self.path)
                with server._lock:
                    server.requests.append(
                        Seen(parts.path, parse_qs(parts.query), dict(self.headers.items()))
                    )
                    scripted = server._scripts[parts.path]
                    answer = scripted.popleft() if scripted else None
                if answer is None:
                    answer = server.route(parts.path, parse_qs(parts.query), self.headers)
                if answer.delay_s:
                    time.sleep(answer.delay_s)
                body = answer.body.encode("utf-8") if isinstance(answer.body, str) else answer.body
                try:
                    self.send_response(answer.status)
                    ctype = "text/html" if parts.path.startswith("/title") else "application/json"
                    self.send_header("Content-Type", f"{ctype}; charset=utf-8")
                    self.send_header("Content-Length", str(len(body)))
                    for key, value in answer.headers.items():
                        self.send_header(key, value)
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client timed out and went away

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    # ------------------------------------------------------------------ lifecycle
    def __enter__(self) -> FixtureServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def tmdb_url(self) -> str:
        return f"{self.url}/3"

    # ------------------------------------------------------------------ behaviour
    def script(self, path: str, *answers: Answer) -> None:
        with self._lock:
            self._scripts[path].extend(answers)

    def hits(self, prefix: str = "") -> int:
        with self._lock:
            return sum(1 for r in self.requests if r.path.startswith(prefix))

    def tmdb_file(self, name: str) -> str:
        return (self.tmdb / name).read_text("utf-8")

    def route(self, path: str, query: dict[str, list[str]], headers: object) -> Answer:
        if path.startswith("/3/"):
            key = (query.get("api_key") or [""])[0]
            bearer = str(getattr(headers, "get", lambda *_: "")("Authorization") or "")
            if key != VALID_KEY and bearer != f"Bearer {VALID_KEY}":
                return Answer(401, self.tmdb_file("invalid-api-key.json"))
            if path.rstrip("/") == "/3/genre/movie/list":
                return Answer(200, self.tmdb_file("genre-movie-list.json"))
            match = _MOVIE.match(path)
            if match and int(match.group(1)) == FIGHT_CLUB:
                return Answer(200, self.tmdb_file(_FILES[match.group(2) or ""]))
            return Answer(404, self.tmdb_file("resource-not-found.json"))
        match = _IMDB.match(path)
        if match and match.group(1) == WORLDS_END and not match.group(2):
            return Answer(200, (self.imdb / "imdb_reviews.html").read_bytes())
        return Answer(404, json.dumps({"error": "not found"}))
