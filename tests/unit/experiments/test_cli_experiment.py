"""`run_pipeline.py --experiment`: bad arguments stop before any work; status reads the record."""

from __future__ import annotations

from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from movie_roulette.config import load_config
from movie_roulette.experiments.record import ExperimentStore
from movie_roulette.monitoring.batches import event_log_path
from movie_roulette.monitoring.eventlog import EventLog
from run_pipeline import main, run_experiment_action

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--experiment", "start"], "--experiment start needs --challenger VERSION"),
        (["--challenger", "3"], "--challenger only applies to --experiment start"),
        (["--experiment", "status", "--challenger", "3"], "only applies to --experiment start"),
        (["--experiment", "pause"], "'pause' is not one of"),
        (["--experiment", "start", "--challenger", "3", "--policy", "greedy"], "'greedy'"),
    ],
)
def test_bad_experiment_arguments_are_refused_before_any_work(args, message) -> None:
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2
    assert message in result.output


def test_status_prints_every_number_per_arm(tmp_path: Path, capsys) -> None:
    cfg = load_config(ROOT / "configs" / "quickstart.yaml")
    cfg = cfg.model_copy(
        update={"continuous": cfg.continuous.model_copy(update={"state_dir": str(tmp_path)})}
    )
    run_experiment_action(cfg, "status", None, 0.2, "ab", None)
    assert "No experiment is running." in capsys.readouterr().out
    exp = ExperimentStore(tmp_path).start("m", "1", "2", ["1", "2"], traffic=0.5)
    log = EventLog(event_log_path(cfg))
    for arm, version in (("production", "1"), ("challenger", "2")):
        tag = {"experiment_id": exp.experiment_id, "arm": arm, "model_version": version}
        log.append("impression", {**tag, "user_id": 1, "kind": "recommend"})
        log.log_click(1, 5, **tag)
    run_experiment_action(cfg, "status", None, 0.2, "ab", None)
    out = capsys.readouterr().out
    assert "production v1: users 1, impressions 1, clicks 1 (CTR 1.000)" in out
    assert "challenger v2: users 1, impressions 1" in out
    # one user per arm: no user-level variance yet, so no probability (and no decision)
    assert "P(challenger better) = undefined (too few users)" in out
    assert "stopping rule met: no" in out
    for arm, version in (("production", "1"), ("challenger", "2")):
        tag = {"experiment_id": exp.experiment_id, "arm": arm, "model_version": version}
        log.append("impression", {**tag, "user_id": 2, "kind": "recommend"})
    run_experiment_action(cfg, "status", None, 0.2, "ab", None)
    out = capsys.readouterr().out
    assert "production v1: users 2, impressions 2, clicks 1 (CTR 0.500)" in out
    assert "success rate 0.5000 [95% 0.0000, 1.0000] (per user, 2 users)" in out
    assert "P(challenger better) = 0.5000" in out and "stopping rule met: no" in out
    ExperimentStore(tmp_path).end("stopped", "by hand")
    run_experiment_action(cfg, "status", None, 0.2, "ab", None)
    assert f"Last: {exp.experiment_id} stopped (by hand)" in capsys.readouterr().out
    with pytest.raises(click.ClickException, match="no experiment is running"):
        run_experiment_action(cfg, "stop", None, 0.2, "ab", None)  # nothing to stop: clear error


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ("min_impressions", "use KEY=VALUE"),
        ("speed=3", "use KEY=VALUE with KEY one of"),
        ("alpha=high", "'high' is not a number"),
        ("alpha=0.7", "alpha (the false promotion bound) must be in (0, 0.5)"),
        ("min_users=1", "min_users must be >= 2"),
        ("min_users=2.5", "'2.5' is not a number"),
    ],
)
def test_bad_rule_settings_are_usage_errors(rule, message) -> None:
    result = CliRunner().invoke(
        main, ["--experiment", "start", "--challenger", "2", "--rule", rule]
    )
    assert result.exit_code == 2
    assert message in result.output


def test_stop_servers_also_stops_an_experiments_challenger_server(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--stop-servers` (make serve-stop) left the challenger server of an experiment running."""
    import serving.deployment as deployment
    from run_pipeline import manage_servers

    asked: list[str | None] = []

    def fake_stop(name: str | None = None) -> list:
        asked.append(name)
        return []

    monkeypatch.setattr(deployment, "stop_servers", fake_stop)
    manage_servers("mr_model", stop=True)
    assert asked == ["mr_model", deployment.challenger_server_name("mr_model")]
