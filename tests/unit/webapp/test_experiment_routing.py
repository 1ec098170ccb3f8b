"""Web-app routing of an online experiment: each picked user is served by its arm's model
server, impressions and outcomes record arm + model version, a dead challenger falls back to
production (recorded), and the arm is shown only on the ops page."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient

from movie_roulette.experiments.assignment import assign_ab
from movie_roulette.experiments.outcomes import read_outcomes
from movie_roulette.experiments.record import CHALLENGER, PRODUCTION, ExperimentStore
from movie_roulette.monitoring.eventlog import EventLog
from tests.webapp_support import contract_server, free_port, make_app
from webapp.catalogue import CatalogueStore


@pytest.fixture(scope="module")
def challenger_url(enriched_bundle: Path):
    with contract_server(enriched_bundle) as url:
        yield url


def _start(state: Path, challenger_url: str, traffic: float = 0.5):
    store = ExperimentStore(state)
    exp = store.start("m", "1", "2", ["1", "2"], traffic=traffic)
    exp = replace(exp, challenger_url=challenger_url)
    store.update(exp)
    return exp


def _events(log_path: Path, event_type: str):
    return [e for e in EventLog(log_path).read().events if e.type == event_type]


def test_users_are_routed_to_their_arm_and_outcomes_carry_it(
    enriched_bundle: Path, challenger_url: str, tmp_path: Path
) -> None:
    log_path = tmp_path / "state" / "events.jsonl"
    exp = _start(log_path.parent, challenger_url)
    with contract_server(enriched_bundle) as production_url:
        app = make_app(enriched_bundle, production_url, event_log=log_path, ops_token="s3cret")
        users = CatalogueStore.from_bundle(enriched_bundle).user_ids[:20]
        for user in users:
            browser: FlaskClient = app.test_client()
            page = browser.get(f"/user/{user}").get_data(as_text=True)
            assert "challenger" not in page.lower() and exp.experiment_id not in page
            if user == users[0]:  # a click from the recommendations carries the arm
                link = re.search(r'href="(/movie/\d+\?[^"]+)"', page).group(1)  # type: ignore[union-attr]
                browser.get(link.replace("&amp;", "&"))
        impressions = _events(log_path, "impression")
        assert [e.data["user_id"] for e in impressions] == users
        for event in impressions:
            arm = assign_ab(exp.experiment_id, event.data["user_id"], exp.traffic)
            assert event.data["arm"] == arm
            assert event.data["model_version"] == exp.version_of(arm)
        assert {e.data["arm"] for e in impressions} == {PRODUCTION, CHALLENGER}
        (click,) = _events(log_path, "click")
        assert click.data["arm"] == assign_ab(exp.experiment_id, users[0], exp.traffic)
        assert click.data["experiment_id"] == exp.experiment_id
        outcomes = read_outcomes(exp, log_path)
        assert sum(a.impressions for a in outcomes.arms.values()) == len(users)
        # the ops page: only with the token
        ops = app.test_client()
        assert ops.get("/ops/experiment").status_code == 403
        answer = ops.get(f"/ops/experiment?token=s3cret&user_id={users[0]}").get_json()
        assert answer["user"]["arm"] == click.data["arm"]
        assert answer["experiment"]["challenger_version"] == "2"
    no_ops = make_app(enriched_bundle, challenger_url, event_log=log_path).test_client()
    assert no_ops.get("/ops/experiment?token=s3cret").status_code == 404


def test_a_dead_challenger_falls_back_to_production_and_is_recorded(
    enriched_bundle: Path, tmp_path: Path
) -> None:
    log_path = tmp_path / "state" / "events.jsonl"
    exp = _start(log_path.parent, f"http://127.0.0.1:{free_port()}", traffic=0.9)
    with contract_server(enriched_bundle) as production_url:
        app = make_app(enriched_bundle, production_url, event_log=log_path, server_timeout=2.0)
        users = CatalogueStore.from_bundle(enriched_bundle).user_ids[:10]
        for user in users:
            page = app.test_client().get(f"/user/{user}")
            assert page.status_code == 200
            assert "could not" not in page.get_data(as_text=True).lower()
    sent_to_challenger = [u for u in users if assign_ab(exp.experiment_id, u, 0.9) == CHALLENGER]
    assert sent_to_challenger
    fallbacks = _events(log_path, "experiment")
    assert [e.data["user_id"] for e in fallbacks] == sent_to_challenger
    assert all(e.data["action"] == "fallback" for e in fallbacks)
    assert {e.data["arm"] for e in _events(log_path, "impression")} == {PRODUCTION}
    assert read_outcomes(exp, log_path).fallbacks == len(sent_to_challenger)


def test_no_experiment_changes_nothing(bundle_path: Path, server_url: str, tmp_path: Path):
    log_path = tmp_path / "events.jsonl"
    app = make_app(bundle_path, server_url, event_log=log_path)
    user = CatalogueStore.from_bundle(bundle_path).user_ids[0]
    assert app.test_client().get(f"/user/{user}").status_code == 200
    assert not log_path.exists()


def test_the_cli_client_routes_users_and_falls_back(
    enriched_bundle: Path, challenger_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from serving.cli import main

    log_path = tmp_path / "state" / "events.jsonl"
    exp = _start(log_path.parent, challenger_url)
    monkeypatch.setenv("MOVIE_ROULETTE_EVENT_LOG", str(log_path))
    users = CatalogueStore.from_bundle(enriched_bundle).user_ids[:12]
    with contract_server(enriched_bundle) as production_url:
        for user in users:
            result = CliRunner().invoke(
                main, ["--server", production_url, "--json", "recommend", "--user", str(user)]
            )
            assert result.exit_code == 0, result.output
            assert "challenger" not in result.output
        impressions = _events(log_path, "impression")
        assert [e.data["arm"] for e in impressions] == [
            assign_ab(exp.experiment_id, u, exp.traffic) for u in users
        ]
        # the challenger dies: its users are answered by production, and it is recorded
        ExperimentStore(log_path.parent).update(
            replace(exp, challenger_url=f"http://127.0.0.1:{free_port()}")
        )
        dead = next(u for u in users if assign_ab(exp.experiment_id, u, 0.5) == CHALLENGER)
        result = CliRunner().invoke(
            main, ["--server", production_url, "--json", "spin", "--user", str(dead)]
        )
        assert result.exit_code == 0, result.output
    (fallback,) = _events(log_path, "experiment")
    assert fallback.data["user_id"] == dead and fallback.data["action"] == "fallback"
    last = _events(log_path, "impression")[-1]
    assert (last.data["arm"], last.data["model_version"], last.data["kind"]) == (
        PRODUCTION,
        "1",
        "spin",
    )


def test_the_launcher_reads_experiments_from_the_configs_state_dir(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, bundle_path: Path
) -> None:
    from movie_roulette.config import load_config
    from movie_roulette.monitoring.batches import state_dir
    from webapp import launch
    from webapp.services import EXTENSION

    monkeypatch.setenv("MOVIE_ROULETTE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("MOVIE_ROULETTE_EXPERIMENT_DIR", raising=False)
    served: list = []
    monkeypatch.setattr(launch, "serve", lambda app, *args: served.append(app))
    config = Path(__file__).resolve().parents[3] / "configs" / "continuous_demo.yaml"
    args = ["--bundle", str(bundle_path), "--config", str(config)]
    elsewhere = ["--event-log", str(tmp_path / "elsewhere" / "events.jsonl")]
    result = CliRunner().invoke(launch.main, args + elsewhere, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    app_config = served.pop().extensions[EXTENSION].config
    assert app_config.experiment_state_dir == state_dir(load_config(config))
    monkeypatch.setenv("MOVIE_ROULETTE_EXPERIMENT_DIR", str(tmp_path / "exp"))
    CliRunner().invoke(launch.main, args + elsewhere, catch_exceptions=False)
    assert served.pop().extensions[EXTENSION].config.experiment_state_dir == tmp_path / "exp"
