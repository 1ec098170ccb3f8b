"""Train on demo data, deploy for real through ZenML's MLflow deployer, query over HTTP."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from click.testing import CliRunner

from tests.integration.conftest import free_port, run_cli, write_config

pytestmark = [pytest.mark.integration, pytest.mark.slow]
NAME = "mr_serving_it"


def _post(url: str, *rows: dict[str, Any]) -> requests.Response:
    return requests.post(f"{url}/invocations", json={"inputs": list(rows)}, timeout=30)


def _ask(url: str, *rows: dict[str, Any]) -> list[dict[str, Any]]:
    response = _post(url, *rows)
    assert response.status_code == 200, response.text
    return response.json()["predictions"]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, stack: str) -> Iterator[dict[str, Any]]:
    from serving.deployment import stop_servers

    port = free_port()
    config = write_config(
        tmp_path_factory.mktemp("serving"),
        "quickstart",
        model_name=NAME,
        experiment_name=NAME,
        serving={"deploy": True, "port": port},
    )
    try:
        result = run_cli("--config", str(config))
        assert result.exit_code == 0, result.output
        url = f"http://127.0.0.1:{port}"
        assert f"Model server: {url} (version 1)" in result.output
        from serving.registry import load_production_bundle

        production = load_production_bundle(NAME)
        assert production is not None
        yield {"url": url, "config": config, "bundle": production[1], "port": port}
    finally:
        stop_servers(NAME)


def test_recommend_answers_k_unique_unseen_movies_with_reasons(served: dict[str, Any]) -> None:
    model = served["bundle"].model
    user = int(model.user_ids[0])
    [answer] = _ask(served["url"], {"kind": "recommend", "user_id": user, "k": 7})
    ids = [item["movie_id"] for item in answer["items"]]
    assert len(ids) == len(set(ids)) == 7
    assert not set(ids) & set(model.seen_movie_ids(user).tolist())
    assert answer["fallback"] is None
    for item in answer["items"]:
        assert item["title"] and item["genres"] and item["reasons"]
        assert isinstance(item["score"], float)


def test_the_server_warmed_every_known_users_answer_before_it_answered(
    served: dict[str, Any],
) -> None:
    from serving.deployment import list_servers

    (server,) = [s for s in list_servers(NAME) if s.running]
    _ask(served["url"], {"kind": "recommend", "user_id": 1})
    log = Path(server.log_file or "").read_text(encoding="utf-8", errors="replace")
    assert "POST /invocations" not in log  # serving.access_log is off: the event log has them
    warmed = re.findall(
        r"answer cache warmed for (\d+) users in [\d.]+ s \(all known users: (\w+)\)", log
    )
    n_users = len(served["bundle"].model.user_ids)
    assert warmed and warmed[-1] == (str(n_users), "True"), log[-2000:]


def test_unknown_user_gets_a_flagged_cold_start_list(served: dict[str, Any]) -> None:
    [answer] = _ask(served["url"], {"kind": "recommend", "user_id": 987654321, "k": 5})
    assert answer["fallback"] == "cold_start:popularity+content"
    assert len({i["movie_id"] for i in answer["items"]}) == 5
    # quickstart scores the demo reviews: popular movies carry the review-sentiment reason
    reasons = [r for i in answer["items"] for r in i["reasons"]]
    assert any(re.fullmatch(r"reviews \d+% positive \(\d+ reviews\)", r) for r in reasons)


def test_every_kind_in_one_batch_even_with_missing_columns(served: dict[str, Any]) -> None:
    catalogue = served["bundle"].catalogue
    user = int(served["bundle"].model.user_ids[3])
    title = str(catalogue["title"].iloc[5])
    movie = int(catalogue["movie_id"].iloc[5])
    answers = _ask(
        served["url"],
        {"kind": "recommend", "user_id": user, "k": 3, "genre": "Drama"},
        {"kind": "similar", "title": title.lower(), "k": 4},
        {"kind": "predict", "user_id": user, "movie_id": movie},
        {"kind": "spin", "user_id": user, "seed": 11},
        {"kind": "recommend", "ratings": json.dumps({str(movie): 5}), "k": 3},
    )
    assert [a["kind"] for a in answers] == ["recommend", "similar", "predict", "spin", "recommend"]
    assert all("Drama" in i["genres"] for i in answers[0]["items"])
    assert answers[1]["movie"]["movie_id"] == movie and len(answers[1]["items"]) == 4
    assert 0.5 <= answers[2]["prediction"] <= 5.0 and answers[2]["reasons"]
    assert answers[3]["item"]["reasons"]
    assert answers[4]["fallback"] == "fold_in" and answers[4]["profile_size"] == 1


def test_spin_is_deterministic_with_a_seed(served: dict[str, Any]) -> None:
    user = int(served["bundle"].model.user_ids[2])
    picks = [
        _ask(served["url"], {"kind": "spin", "user_id": user, "seed": 5, "temperature": 2.0})[0]
        for _ in range(3)
    ]
    assert picks[0]["item"] == picks[1]["item"] == picks[2]["item"]
    unseeded = {
        _ask(served["url"], {"kind": "spin", "user_id": user, "temperature": 5.0})[0]["item"][
            "movie_id"
        ]
        for _ in range(8)
    }
    assert len(unseeded) > 1  # without a seed the roulette really spins


@pytest.mark.parametrize(
    ("row", "field"),
    [
        ({"kind": "recommend", "user_id": 1, "k": 0}, "k"),
        ({"kind": "recommend", "user_id": 1, "k": 101}, "k"),
        ({"kind": "recommend", "user_id": "abc"}, "user_id"),
        ({"kind": "recommend", "user_id": 1.5}, "user_id"),
        ({"kind": "recommend", "user_id": 1, "exclude_seen": "no"}, "exclude_seen"),
        ({"kind": "dance"}, "kind"),
        ({"user_id": 1}, "kind"),
        ({"kind": "spin", "user_id": 1, "temperature": -2}, "temperature"),
        ({"kind": "recommend", "ratings": "{broken"}, "ratings"),
        ({"kind": "recommend", "usr_id": 1}, "usr_id"),
        ({"kind": "similar", "movie_id": "7"}, "movie_id"),
    ],
)
def test_malformed_requests_are_http_400_naming_the_field(
    served: dict[str, Any], row: dict[str, Any], field: str
) -> None:
    from serving.client import clean_message

    response = _post(served["url"], {"kind": "recommend", "user_id": 1}, row)
    assert response.status_code == 400, response.text
    # the whole message also lists every declared field; its shortened form names only this one
    assert clean_message(response.json()["message"]).startswith(f"{field}: "), response.text


def test_malformed_payloads_are_http_400(served: dict[str, Any]) -> None:
    old_shape = b'{"dataframe_records": [{"kind": "recommend", "user_id": 1}]}'
    for body in (b"not json", b'{"rows": []}', b'{"inputs": {"kind": "spin"}}', old_shape):
        response = requests.post(
            f"{served['url']}/invocations",
            data=body,
            headers={"Content-Type": "application/json"},
            timeout=10,
        )
        assert response.status_code == 400, response.text


def test_unknown_movies_and_titles_are_error_entries(served: dict[str, Any]) -> None:
    answers = _ask(
        served["url"],
        {"kind": "similar", "title": "qqqqzzzz xxyyq"},
        {"kind": "similar", "movie_id": 99999999},
        {"kind": "predict", "user_id": 1, "movie_id": 99999999},
    )
    assert answers[0]["error"].startswith("unknown title") and answers[0]["did_you_mean"] == []
    assert answers[1]["error"] == "unknown movie_id 99999999"
    assert answers[2]["error"] == "unknown movie_id 99999999"


def test_cli_client_prints_tables_json_and_clear_errors(served: dict[str, Any]) -> None:
    from serving.cli import main

    user = str(int(served["bundle"].model.user_ids[0]))
    runner = CliRunner()
    table = runner.invoke(main, ["--server", served["url"], "recommend", "--user", user, "-k", "3"])
    assert table.exit_code == 0, table.output
    assert f"Top 3 for user {user}" in table.output
    raw = runner.invoke(main, ["--server", served["url"], "--json", "spin", "--user", user])
    assert raw.exit_code == 0 and json.loads(raw.output)["kind"] == "spin"
    bad_k = runner.invoke(main, ["--server", served["url"], "recommend", "--user", user, "-k", "0"])
    assert bad_k.exit_code == 2 and "k: 0 is outside 1..100" in bad_k.output
    unknown = runner.invoke(main, ["--server", served["url"], "similar", "--movie", "99999999"])
    assert unknown.exit_code == 1 and "unknown movie_id 99999999" in unknown.output
    down = runner.invoke(
        main, ["--server", f"http://127.0.0.1:{free_port()}", "spin", "--user", "1"]
    )
    assert down.exit_code == 3
    assert down.output.strip().count("\n") == 0 and "Cannot reach the model server" in down.output


def test_served_requests_are_logged_durably_for_the_drift_check(served: dict[str, Any]) -> None:
    import time

    from movie_roulette.config import load_config
    from movie_roulette.monitoring.batches import event_log_path
    from movie_roulette.monitoring.eventlog import EventLog

    user = int(served["bundle"].model.user_ids[4])
    _ask(served["url"], {"kind": "recommend", "user_id": user, "k": 4, "genre": "Comedy"})
    path = event_log_path(load_config(served["config"]))
    deadline = time.monotonic() + 10
    mine: list[Any] = []
    while not mine and time.monotonic() < deadline:
        time.sleep(0.3)  # the server flushes its request log every 0.5 s
        events = EventLog(path).read().events if path.exists() else []
        mine = [e for e in events if e.data.get("user_id") == user and e.data.get("k") == 4]
    assert mine, f"no request event for user {user} in {path}"
    event = mine[-1]
    assert event.type == "request" and event.data["genre"] == "Comedy"
    assert len(event.data["movie_ids"]) == 4 and event.data["latency_ms"] > 0
    assert event.data["status"] == 200


def test_deploy_pipeline_redeploys_production_and_servers_can_be_listed_and_stopped(
    served: dict[str, Any], tmp_path: Path
) -> None:
    from serving.deployment import ping

    redeploy = run_cli("--pipeline", "deploy", "--config", str(served["config"]))
    assert redeploy.exit_code == 0, redeploy.output
    assert f"Model server: {served['url']} (version 1)" in redeploy.output
    listed = run_cli("--list-servers", "--config", str(served["config"]))
    assert f"{NAME} v1  {served['url']}  running" in listed.output
    stopped = run_cli("--stop-servers", "--config", str(served["config"]))
    assert f"{NAME} v1" in stopped.output and "stopped" in stopped.output
    assert not ping(served["url"])
    # `make serve` path again: the production version comes back on the same URL.
    again = run_cli("--pipeline", "deploy", "--config", str(served["config"]))
    assert again.exit_code == 0, again.output
    assert ping(served["url"])


def test_two_models_are_served_side_by_side_each_on_its_own_port(
    served: dict[str, Any], tmp_path: Path
) -> None:
    """Deploying another model neither reuses nor stops this one's server (ZenML's own
    "same configuration" lookup would hand back the newest server of any model)."""
    from serving.deployment import list_servers, stop_servers

    other = "mr_serving_it_other"
    port = free_port()
    config = write_config(
        tmp_path,
        "quickstart",
        model_name=other,
        experiment_name=other,
        data={"demo": {"n_movies": 120, "n_users": 80, "mean_ratings_per_user": 40}},
        serving={"deploy": True, "port": port, "workers": 2},
    )
    try:
        result = run_cli("--config", str(config))
        assert result.exit_code == 0, result.output
        assert f"Model server: http://127.0.0.1:{port} (version 1)" in result.output
        # the deploy returned only once both workers had loaded and warmed (not at first /ping)
        (log_file,) = [s.log_file for s in list_servers(other) if s.running]
        log = Path(log_file or "").read_text(encoding="utf-8", errors="replace")
        assert log.count("answer cache warmed for") == 2, log[-2000:]
        servers = {(s.model_name, s.url) for s in list_servers() if s.running}
        assert (NAME, served["url"]) in servers
        assert (other, f"http://127.0.0.1:{port}") in servers
        mine = _ask(served["url"], {"kind": "recommend", "user_id": 10**9, "k": 100})[0]
        theirs = _ask(f"http://127.0.0.1:{port}", {"kind": "recommend", "user_id": 10**9, "k": 100})
        # different catalogues: the quickstart's 400 demo movies vs this model's 120
        assert len(mine["items"]) == 100 and len(theirs[0]["items"]) <= 100
        assert max(i["movie_id"] for i in theirs[0]["items"]) <= 120
        assert max(i["movie_id"] for i in mine["items"]) > 120
    finally:
        stop_servers(other)
