"""The run summary's lines and `run_pipeline.py --reports` before any run (the view after a real
run is checked in tests/integration/test_console_output.py)."""

from __future__ import annotations

from pathlib import Path

import yaml
from click.testing import CliRunner

from reports import metrics_line as metrics_summary
from reports import mlflow_version_url, promotion_lines
from run_pipeline import main


def test_promotion_lines_compare_the_new_version_with_production() -> None:
    promoted = {
        "metric": "ndcg@10",
        "candidate": 0.3125,
        "production": 0.3050,
        "compared_users": 610,
        "promote": True,
        "candidate_version": "3",
        "production_version": "2",
        "blocked_by": [],
    }
    assert promotion_lines(promoted) == [
        "New version 3 vs production version 2 (like for like, 610 users): ndcg@10 0.3125 vs "
        "0.3050.",
        "Decision: promoted to production (ndcg@10 difference +0.0075).",
    ]
    first = {"metric": "ndcg@10", "candidate": 0.31, "promote": True, "candidate_version": "1"}
    assert promotion_lines(first)[0] == (
        "New version 1: ndcg@10 0.3100; no production version to compare with."
    )
    blocked = {**promoted, "promote": False, "blocked_by": ["only 3 users were compared"]}
    assert promotion_lines(blocked)[1] == (
        "Decision: kept in staging (only 3 users were compared)."
    )


def test_metrics_line_follows_the_configured_k() -> None:
    metrics = {"rmse": 0.86, "ndcg@20": 0.3, "precision@20": 0.2, "coverage": 0.5}
    assert metrics_summary(metrics) == "ndcg@20 0.3000, precision@20 0.2000, rmse 0.8600"
    assert metrics_summary({}) == "no metrics recorded"


def test_mlflow_version_page() -> None:
    assert mlflow_version_url("http://127.0.0.1:5000/", "movie_roulette", "3") == (
        "http://127.0.0.1:5000/#/models/movie_roulette/versions/3"
    )


def test_reports_before_any_run_say_what_to_do(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text(yaml.safe_dump({"model_name": "mr_no_runs_yet"}))
    result = CliRunner().invoke(main, ["--config", str(config), "--reports"])
    assert result.exit_code == 0, result.output
    assert "No run has registered mr_no_runs_yet yet" in result.output
    assert "--zenml-port" in result.output and "--mlflow-port" in result.output
