"""The `movie-roulette` client without a server: arguments, unreachable server, rendering."""

from __future__ import annotations

import socket

from click.testing import CliRunner

from serving.cli import main, render
from serving.client import clean_message


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_unreachable_server_is_one_clear_line_and_exit_3() -> None:
    url = f"http://127.0.0.1:{_closed_port()}"
    result = CliRunner().invoke(main, ["--server", url, "recommend", "--user", "1"])
    assert result.exit_code == 3
    assert result.output.strip() == (
        f"Error: Cannot reach the model server at {url} "
        "(start it with `make serve`, or set --server / MOVIE_ROULETTE_SERVER_URL)."
    )


def test_server_url_comes_from_the_environment() -> None:
    url = f"http://127.0.0.1:{_closed_port()}"
    result = CliRunner().invoke(
        main, ["spin", "--user", "3"], env={"MOVIE_ROULETTE_SERVER_URL": url}
    )
    assert result.exit_code == 3 and url in result.output


def test_user_or_ratings_are_required_and_ratings_are_checked() -> None:
    runner = CliRunner()
    neither = runner.invoke(main, ["recommend"])
    assert neither.exit_code == 2 and "Give either --user or at least one --rate" in neither.output
    both = runner.invoke(main, ["spin", "--user", "1", "--rate", "5=4"])
    assert both.exit_code == 2
    bad = runner.invoke(main, ["recommend", "--rate", "five=4"])
    assert bad.exit_code == 2 and "is not MOVIE_ID=RATING" in bad.output


def test_mlflow_wrapping_is_removed_from_error_messages() -> None:
    wrapped = "Failed to predict data '   kind  k\n0  x  0'. \nError: k: 0 is outside 1..100"
    assert clean_message(wrapped) == "k: 0 is outside 1..100"


def test_answers_render_as_readable_text() -> None:
    item = {"movie_id": 6, "title": "Heat", "year": 1995, "genres": ["Crime"], "score": 1.5,
            "reasons": ["because you rated Ronin highly"]}  # fmt: skip
    table = render({"kind": "recommend", "user_id": 4, "fallback": None, "items": [item]})
    assert "Top 1 for user 4" in table and "Heat (1995)" in table and "Ronin" in table
    error = render({"kind": "similar", "error": "unknown title 'heet'", "did_you_mean": ["Heat"]})
    assert error == "Error: unknown title 'heet'\nDid you mean: Heat"
    spin = render({"kind": "spin", "pool_size": 20, "seed": 1, "item": item})
    assert spin.startswith("The roulette picked: Heat (1995)")


def test_non_finite_or_out_of_range_spin_options_are_exit_2_with_a_message() -> None:
    """`spin --temperature nan|inf` crashed with a requests traceback and exit 1 (item 11)."""
    url = f"http://127.0.0.1:{_closed_port()}"
    for option in (["--temperature", "nan"], ["--temperature", "inf"], ["--temperature", "0"]):
        result = CliRunner().invoke(main, ["--server", url, "spin", "--user", "1", *option])
        assert result.exit_code == 2, result.output
        assert "Invalid value for '--temperature'" in result.output
        assert result.exception is None or isinstance(result.exception, SystemExit)
    rate = CliRunner().invoke(main, ["--server", url, "recommend", "--rate", "5=nan"])
    assert rate.exit_code == 2 and "is not MOVIE_ID=RATING" in rate.output
    seed = CliRunner().invoke(main, ["--server", url, "spin", "--user", "1", "--seed", "-1"])
    assert seed.exit_code == 2


def test_every_client_error_status_is_exit_2_naming_the_limit() -> None:
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    class Refuse(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            self.rfile.read(int(self.headers["Content-Length"]))
            body = json.dumps({"message": "inputs: 101 rows; at most 100 per request"}).encode()
            self.send_response(413)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Refuse)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}"
        result = CliRunner().invoke(main, ["--server", url, "recommend", "--user", "1"])
    finally:
        server.shutdown()
        server.server_close()
    assert result.exit_code == 2
    assert "Bad request: inputs: 101 rows; at most 100 per request" in result.output


def test_clean_message_is_linear_in_the_echoed_request_text() -> None:
    """The message echoes the request; ` +([^\\[\\n\\\\]+?) \\[type=` was quadratic in a run
    of spaces after an escaped newline, and the web app runs it on every refused request."""
    import time

    echoed = "Data doesn't match type hint: {'title': '\\nx\\n" + " " * 100_000 + "y'}"
    started = time.perf_counter()
    clean_message(f"Failed to validate data against type hint {echoed}")
    assert time.perf_counter() - started < 0.5


def test_a_failing_server_is_exit_3_and_a_refused_non_json_body_exit_2() -> None:
    """The CLI maps the one client's typed errors to exit codes: a 5xx is the server's (3),
    any 4xx the request's (2), whatever its body."""
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    replies = [(500, b'{"message": "boom"}'), (404, b"<html>not here</html>")]

    class Reply(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            self.rfile.read(int(self.headers["Content-Length"]))
            status, body = replies.pop(0)
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Reply)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}"
        failed = CliRunner().invoke(
            main, ["--server", url, "predict", "--user", "1", "--movie", "2"]
        )
        refused = CliRunner().invoke(main, ["--server", url, "search", "heat"])
    finally:
        server.shutdown()
        server.server_close()
    assert failed.exit_code == 3
    assert failed.output.strip() == f"Error: The model server at {url} failed with HTTP 500: boom."
    assert refused.exit_code == 2 and "Bad request: <html>not here</html>" in refused.output
