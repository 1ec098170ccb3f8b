"""An online experiment end to end on the real stack: two trained versions, the challenger served
beside production, simulated users (the demo's latent tastes, the stated choice model) routed
by the `movie-roulette` client, a challenger that dies (fallback recorded), and the continuous
pipeline's recorded decision (docs/experiments.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

from tests.integration.conftest import free_port, run_cli, write_config

pytestmark = [pytest.mark.integration, pytest.mark.slow]

DEMO = {"n_movies": 250, "n_users": 200, "mean_ratings_per_user": 70, "n_reviews": 1000}


def _latest_run(pipeline: str) -> Any:
    from zenml.client import Client

    return (
        Client()
        .list_pipeline_runs(pipeline_name=pipeline, sort_by="desc:created", size=1, hydrate=True)
        .items[0]
    )


def _decision(run: Any) -> tuple[str, dict[str, Any]]:
    """(step, decision): a promotion verdict is concluded after the challenger's model card."""
    step = "conclude_experiment" if "conclude_experiment" in run.steps else "evaluate_experiment"
    return step, run.steps[step].outputs["experiment_decision"][0].load()


def _gate_passed(decision: dict[str, Any]) -> bool:
    return all(check["passed"] for check in decision.get("audit_gate", []))


def test_a_short_simulated_experiment_is_decided_by_the_continuous_pipeline(
    tmp_path: Path, stack: str, mlflow_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from movie_roulette.config import load_config
    from movie_roulette.data import sources
    from movie_roulette.experiments.assignment import assign
    from movie_roulette.experiments.record import CHALLENGER, ExperimentStore
    from movie_roulette.experiments.simulate import World, click_probability
    from movie_roulette.experiments.status import experiment_status
    from movie_roulette.monitoring.batches import event_log_path
    from movie_roulette.monitoring.eventlog import EventLog
    from serving.cli import main as client_main
    from serving.deployment import challenger_server_name, list_servers, stop_servers

    name = "mr_exp_it"
    port = free_port()
    config = write_config(
        tmp_path,
        "continuous_demo",
        model_name=name,
        experiment_name=name,
        data={"demo": {**DEMO, "holdout_fraction": 0.2}},
        continuous={"state_dir": str(tmp_path / "state"), "batch_size": 1500},
    )
    config.write_text(
        config.read_text()
        .replace("deploy: false", "deploy: true")
        .replace("port: 8000", f"port: {port}")
    )
    cfg = load_config(config)
    log_path = event_log_path(cfg)
    try:
        for _ in range(2):  # two registered versions; the second may or may not be promoted
            trained = run_cli("--config", str(config))
            assert trained.exit_code == 0, trained.output
        production = str(mlflow_client.get_model_version_by_alias(name, "champion").version)
        challenger = "1" if production == "2" else "2"

        # bad input first: nothing is recorded
        for args, message in (
            (["--challenger", production], "already production"),
            (["--challenger", "9"], "not a registered version"),
            (["--challenger", challenger, "--traffic", "1.5"], "strictly between 0 and 1"),
        ):
            bad = run_cli("--config", str(config), "--experiment", "start", *args)
            assert bad.exit_code == 1 and message in bad.output
        assert ExperimentStore(cfg.continuous.state_dir).running() is None

        # decided at the pipeline's look whatever the split of users: the duration has passed
        rule = ["--rule", "min_impressions=10", "--rule", "min_users=5", "--rule", "max_days=1e-9"]
        started = run_cli(
            "--config", str(config), "--experiment", "start", "--challenger", challenger,
            "--traffic", "0.5", "--challenger-port", str(free_port()), *rule,
        )  # fmt: skip
        assert started.exit_code == 0, started.output
        again = run_cli(
            "--config", str(config), "--experiment", "start", "--challenger", challenger
        )
        assert again.exit_code == 1 and "one experiment at a time" in again.output
        experiment = ExperimentStore(cfg.continuous.state_dir).require_running()
        (served,) = [s for s in list_servers(challenger_server_name(name)) if s.running]
        assert served.model_version == challenger
        assert [s.model_version for s in list_servers(name) if s.running] == [production]

        # simulated users: their true liking is the demo generator's latent mean rating
        world = World.from_demo(sources.demo_data(cfg.data, cfg.seed))
        rng = np.random.default_rng(0)
        monkeypatch.setenv("MOVIE_ROULETTE_EVENT_LOG", str(log_path))
        url = f"http://127.0.0.1:{port}"
        for user in range(1, 31):
            for _ in range(2):
                shown = CliRunner().invoke(
                    client_main, ["--server", url, "--json", "recommend", "--user", str(user)]
                )
                assert shown.exit_code == 0, shown.output
                items = [int(i["movie_id"]) for i in json.loads(shown.output)["items"]]
                logged = EventLog(log_path).read().events  # the servers log requests too
                impression = [e for e in logged if e.type == "impression"][-1]
                assert impression.data["user_id"] == user
                truth = world.true_rating[user - 1, np.array(items) - 1]
                clicks = rng.random(len(items)) < click_probability(truth, np.arange(len(items)))
                for movie in np.array(items)[clicks][:1]:  # the web app logs the click
                    tag = {k: impression.data[k] for k in ("experiment_id", "arm", "model_version")}
                    EventLog(log_path).log_click(user, int(movie), **tag)

        # the challenger dies: its users are answered by production, and that is recorded
        stop_servers(challenger_server_name(name))
        victim = next(u for u in range(1, 200) if assign(experiment, u) == CHALLENGER)
        answered = CliRunner().invoke(
            client_main, ["--server", url, "--json", "spin", "--user", str(victim)]
        )
        assert answered.exit_code == 0, answered.output
        status = run_cli("--config", str(config), "--experiment", "status")
        assert status.exit_code == 0 and "challenger fallbacks 1" in status.output
        assert "P(challenger better)" in status.output
        expected, _ = experiment_status(experiment, log_path)
        assert expected.action in ("promote", "stop")  # promoted, or max_days passed

        # the continuous pipeline decides and records the decision with its numbers
        ct = run_cli("--pipeline", "continuous", "--config", str(config))
        assert ct.exit_code == 0, ct.output
        assert f"Experiment {experiment.experiment_id}:" in ct.output
        run = _latest_run("continuous_training_pipeline")
        step, decision = _decision(run)
        assert decision["action"] == (expected.action if _gate_passed(decision) else "stop")
        assert (step == "conclude_experiment") is (expected.action == "promote")
        assert decision["p_challenger_better"] == pytest.approx(expected.p_challenger_better)
        assert decision["fallbacks"] == 1
        assert decision["production"]["impressions"] + decision["challenger"]["impressions"] == 61
        metadata = run.steps[step].run_metadata["experiment_decision"]
        assert metadata["reason"] == decision["reason"]
        mlflow_run = mlflow_client.search_runs(
            [mlflow_client.get_experiment_by_name(name).experiment_id],
            filter_string=f"tags.mlflow.runName = '{run.name}'",
        )[0]
        assert mlflow_run.data.metrics["experiment.p_challenger_better"] == pytest.approx(
            decision["p_challenger_better"]
        )
        (finished,) = ExperimentStore(cfg.continuous.state_dir).finished()
        assert finished.status == ("promoted" if decision["action"] == "promote" else "stopped")
        assert finished.decisions[-1]["reason"] == decision["reason"]
        now_production = str(mlflow_client.get_model_version_by_alias(name, "champion").version)
        assert now_production == (challenger if decision["action"] == "promote" else production)
        assert not [s for s in list_servers(challenger_server_name(name)) if s.running]
        (live,) = [s for s in list_servers(name) if s.running]
        assert live.model_version == now_production

        # A second experiment whose users clearly prefer the challenger: the rule says promote,
        # so the pipeline builds the challenger's model card against production (issue 19) and
        # its audit gate decides; the decision records both.
        second = production if now_production == challenger else challenger
        started = run_cli(
            "--config", str(config), "--experiment", "start", "--challenger", second,
            "--traffic", "0.5", "--challenger-port", str(free_port()),
            "--rule", "min_impressions=20", "--rule", "min_users=10",
            "--rule", "max_impressions=40",
        )  # fmt: skip
        assert started.exit_code == 0, started.output
        experiment = ExperimentStore(cfg.continuous.state_dir).require_running()
        log = EventLog(log_path)
        for user in range(1, 81):
            arm = assign(experiment, user)
            tag = {
                "experiment_id": experiment.experiment_id,
                "arm": arm,
                "model_version": experiment.version_of(arm),
            }
            for shown in range(2):
                log.append("impression", {**tag, "user_id": user, "kind": "recommend"})
                if arm == CHALLENGER or (user % 5 == 0 and shown == 0):
                    log.log_click(user, 1, **tag)
        verdict, _ = experiment_status(experiment, log_path)
        assert verdict.action == "promote"
        ct = run_cli("--pipeline", "continuous", "--config", str(config))
        assert ct.exit_code == 0, ct.output
        run = _latest_run("continuous_training_pipeline")
        pending = run.steps["evaluate_experiment"].outputs["experiment_decision"][0].load()
        assert pending["action"] == "promote" and pending["pending"]
        card = run.steps["experiment_model_card"].outputs["model_card"][0]
        assert [v.type for v in card.visualizations] == ["html"]
        audit = run.steps["experiment_model_card"].outputs["audit"][0].load()
        assert (audit["candidate_version"], audit["production_version"]) == (second, now_production)
        assert audit["production"] is not None and audit["candidate"]["users_audited"] > 0
        step, decision = _decision(run)
        assert step == "conclude_experiment"
        (gate,) = decision["audit_gate"]
        assert gate["key"] == "group.worst.ndcg@10" and gate["production"] is not None
        assert decision["action"] == ("promote" if gate["passed"] else "stop")
        assert "Audit gate" in decision["reason"] or "audit gate failed" in decision["reason"]
        assert ExperimentStore(cfg.continuous.state_dir).finished()[-1].decisions[-1] == decision
        champion = str(mlflow_client.get_model_version_by_alias(name, "champion").version)
        assert champion == (second if gate["passed"] else now_production)
        tags = mlflow_client.get_model_version(name, second).tags
        assert tags["model_card"] == f"model_card/experiment_{experiment.experiment_id}.html"
        (live,) = [s for s in list_servers(name) if s.running]
        assert live.model_version == champion
    finally:
        stop_servers(name)
        stop_servers(challenger_server_name(name))
