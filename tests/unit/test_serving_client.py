"""The `movie-roulette` client without a server: arguments, unreachable server, rendering."""

from __future__ import annotations

import socket

from click.testing import CliRunner

from serving.client import clean_message, main, render


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
