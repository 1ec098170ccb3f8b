"""The REST client against real HTTP servers: the contract server, a dead port, a slow and a
broken server; every outcome is observed for the metrics."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from serving.client import ModelServerClient, ModelServerRejected, ModelServerUnavailable
from tests.webapp_support import contract_server, free_port


@contextmanager
def canned_server(status: int, body: bytes, delay: float = 0.0) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_POST(self) -> None:  # noqa: N802
            time.sleep(delay)
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str | None]] = []

    def __call__(self, kind: str, seconds: float, error: str | None) -> None:
        assert seconds >= 0
        self.calls.append((kind, error))


def test_recommend_similar_and_spin_answer_through_the_contract(enriched_bundle: Path) -> None:
    seen = Recorder()
    with contract_server(enriched_bundle) as url:
        client = ModelServerClient(url, timeout=10, observer=seen)
        user = 5
        recs = client.recommend(user, k=4, genre="Comedy")
        assert len(recs["items"]) == 4 and all("Comedy" in i["genres"] for i in recs["items"])
        assert client.similar(recs["items"][0]["movie_id"], k=3)["items"]
        spun = client.spin(user_id=user, seed=3)
        assert spun["item"]["movie_id"] == client.spin(user_id=user, seed=3)["item"]["movie_id"]
        newcomer = client.recommend_from_ratings({recs["items"][0]["movie_id"]: 5.0}, k=3)
        assert len(newcomer["items"]) == 3
        assert client.ping()
    assert seen.calls[0] == ("recommend", None) and ("ping", None) in seen.calls


def test_a_rejected_request_carries_the_servers_message(enriched_bundle: Path) -> None:
    with contract_server(enriched_bundle) as url:
        with pytest.raises(ModelServerRejected, match="k: 0 is outside") as err:
            ModelServerClient(url).recommend(1, k=0)
    assert err.value.status == 400


def test_mlflow_wrapped_messages_are_cleaned() -> None:
    body = json.dumps(
        {"message": "Failed to predict data '  kind\n0 x'. \nError: k: 0 is outside 1..100"}
    ).encode()
    with canned_server(400, body) as url:
        with pytest.raises(ModelServerRejected) as err:
            ModelServerClient(url).recommend(1)
    assert str(err.value) == "k: 0 is outside 1..100"


def test_a_dead_server_is_unavailable_and_counted() -> None:
    seen = Recorder()
    client = ModelServerClient(f"http://127.0.0.1:{free_port()}", timeout=2, observer=seen)
    with pytest.raises(ModelServerUnavailable, match="cannot be reached"):
        client.recommend(1)
    assert not client.ping()
    assert seen.calls == [("recommend", "connection"), ("ping", "down")]


def test_a_slow_server_times_out() -> None:
    seen = Recorder()
    with canned_server(200, b'{"predictions": [{}]}', delay=1.0) as url:
        with pytest.raises(ModelServerUnavailable, match="within 0.2 s"):
            ModelServerClient(url, timeout=0.2, observer=seen).similar(1)
    assert seen.calls == [("similar", "timeout")]


@pytest.mark.parametrize(
    ("status", "body", "reason"),
    [(500, b'{"message": "boom"}', "http_500"), (200, b"<html>", "bad_response")],
)
def test_server_failures_are_unavailable(status: int, body: bytes, reason: str) -> None:
    seen = Recorder()
    with canned_server(status, body) as url:
        with pytest.raises(ModelServerUnavailable):
            ModelServerClient(url, observer=seen).recommend(1)
    assert seen.calls == [("recommend", reason)]


def test_a_request_that_is_not_json_is_rejected_before_it_is_sent() -> None:
    """NaN is not JSON: the web app's client counted it as an unreachable server ("connection")
    and the CLI's raised a click error; the one client says it is the caller's request."""
    seen = Recorder()
    client = ModelServerClient(f"http://127.0.0.1:{free_port()}", observer=seen)
    with pytest.raises(ModelServerRejected, match="Out of range float") as err:
        client.invoke({"kind": "spin", "user_id": 1, "temperature": float("nan")})
    assert err.value.status is None and err.value.reason == "bad_request"
    assert seen.calls == [("spin", "bad_request")]


def test_several_rows_are_answered_in_order_and_a_short_answer_is_unusable(
    enriched_bundle: Path,
) -> None:
    with contract_server(enriched_bundle) as url:
        client = ModelServerClient(url, timeout=10)
        movie = client.recommend(5, k=1)["items"][0]["movie_id"]
        rows = [{"kind": "similar", "movie_id": movie, "k": 2}, {"kind": "search", "title": "a"}]
        answers = client.query(*rows)
    assert [a["kind"] for a in answers] == ["similar", "search"]
    seen = Recorder()
    with canned_server(200, b'{"predictions": [{"kind": "similar"}]}') as url:
        with pytest.raises(ModelServerUnavailable, match="a list of 2 answers") as err:
            ModelServerClient(url, observer=seen).query(*rows)
    assert err.value.reason == "bad_response" and seen.calls == [("batch", "bad_response")]


def test_one_client_serves_the_cli_and_the_web_app_and_needs_no_click() -> None:
    """There were two `ModelServerClient`s (serving/client.py raising click exceptions, and
    webapp/client.py); the one left is importable without click, and the app is wired to it."""
    import subprocess
    import sys
    import typing

    import serving.client
    from webapp.experiment import ArmRouter
    from webapp.services import Services

    code = "import sys, serving.client; print('click' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
    assert typing.get_type_hints(Services)["client"] is serving.client.ModelServerClient
    assert typing.get_type_hints(ArmRouter.__init__)["production"] is ModelServerClient
    with pytest.raises(ModuleNotFoundError):
        __import__("webapp.client")
