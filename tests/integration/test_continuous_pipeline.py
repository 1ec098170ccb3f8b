"""Continuous training for real: local ZenML stack, MLflow registry, model server, crontab text.

One story, in order (each step builds on the registry and batch store the previous left):
train -> CT with a batch from the training distribution (no retrain, reason recorded) ->
CT with a shifted batch (drift, retrain, comparison recorded, promotion only if better,
redeploy) -> rollback (registry + server back on the previous version).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import pytest

from tests.integration.conftest import (
    assert_ratings_checksum_registered,
    free_port,
    run_cli,
    write_config,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]

DEMO = {"n_movies": 250, "n_users": 200, "mean_ratings_per_user": 70, "n_reviews": 1000}


def _config(tmp_path: Path, name: str, **continuous: Any) -> Path:
    folder = tmp_path / continuous.get("source", "replay")
    folder.mkdir(exist_ok=True)
    return write_config(
        folder,
        "continuous_demo",
        model_name=name,
        experiment_name=name,
        data={"demo": {**DEMO, "holdout_fraction": 0.2}},
        continuous={
            "state_dir": str(tmp_path / "state"),
            "batch_size": 1500,
            "min_new_interactions": 5000,
            **continuous,
        },
    )


def _latest_run(pipeline: str) -> Any:
    from zenml.client import Client

    return (
        Client()
        .list_pipeline_runs(pipeline_name=pipeline, sort_by="desc:created", size=1, hydrate=True)
        .items[0]
    )


def _output(run: Any, step: str, name: str) -> Any:
    return run.steps[step].outputs[name][0]


def _versions(client: Any, name: str) -> list[str]:
    return sorted((str(v.version) for v in client.search_model_versions(f"name='{name}'")), key=int)


def _zenml_versions(name: str) -> int:
    from zenml.client import Client

    model = Client().get_model(name)
    return len(Client().list_model_versions(model=model.id, size=100).items)


def _champion(client: Any, name: str) -> str:
    return str(client.get_model_version_by_alias(name, "champion").version)


def test_continuous_training_retrains_only_on_drift_promotes_only_if_better_and_rolls_back(
    tmp_path: Path, stack: str, mlflow_client: Any
) -> None:
    name = "mr_ct_it"
    replay = _config(tmp_path, name)

    # 1. First production model (training pipeline; the held-back 20% is not trained on).
    trained = run_cli("--config", str(replay))
    assert trained.exit_code == 0, trained.output
    assert _versions(mlflow_client, name) == ["1"] and _champion(mlflow_client, name) == "1"

    # 2. A batch from the training distribution: no drift, too few interactions -> no retrain.
    calm = run_cli("--pipeline", "continuous", "--config", str(replay))
    assert calm.exit_code == 0, calm.output
    assert "No retraining: drift share" in calm.output
    run = _latest_run("continuous_training_pipeline")
    decision = _output(run, "decide_retraining", "retrain_decision").load()
    assert decision["retrain"] is False and decision["triggers"] == []
    assert decision["new_interactions"] == 1500 and decision["drift_share"] < 0.5
    assert (
        run.steps["decide_retraining"].run_metadata["retrain_decision"]["reason"]
        == (decision["reason"])
    )
    assert "train_hybrid" not in run.steps
    assert _versions(mlflow_client, name) == ["1"]
    assert _zenml_versions(name) == 1  # a run that registers nothing creates no ZenML version
    drift_report = _output(run, "detect_drift", "drift_report")
    assert [v.type for v in drift_report.visualizations] == ["html"]
    html = drift_report.load()
    assert "drift" in html.lower() and "<script src=" not in html  # self-contained report
    profile = _output(run, "profile_data", "reference_profile")
    assert "rating" in profile.load().to_pandas().index
    assert [v.type for v in profile.visualizations] == ["html"]
    mlflow_run = mlflow_client.search_runs(
        [mlflow_client.get_experiment_by_name(name).experiment_id],
        filter_string=f"tags.mlflow.runName = '{run.name}'",
    )[0]
    assert mlflow_run.data.tags["ct.retrain"] == "False"
    assert "drift.share" in mlflow_run.data.metrics

    # 3. Shifted tastes + new users: drift -> retrain -> compare on fresh data -> redeploy.
    port = free_port()
    shifted = _config(tmp_path, name, source="generated", taste_shift=0.7, new_user_share=0.4)
    text = shifted.read_text().replace("deploy: false", "deploy: true")
    shifted.write_text(text.replace("port: 8000", f"port: {port}"))
    drifted = run_cli("--pipeline", "continuous", "--config", str(shifted))
    assert drifted.exit_code == 0, drifted.output
    run = _latest_run("continuous_training_pipeline")
    decision = _output(run, "decide_retraining", "retrain_decision").load()
    assert decision["retrain"] is True and "drift" in decision["triggers"]
    assert {"user_history", "primary_genre"} <= set(decision["drifted_columns"])
    assert _versions(mlflow_client, name) == ["1", "2"]
    comparison = _output(run, "record_comparison", "comparison").load()
    assert comparison["candidate_version"] == "2" and comparison["production_version"] == "1"
    assert comparison["promoted"] is (
        not comparison["blocked_by"] and comparison["candidate"] > comparison["production"]
    )
    groups = {g["name"]: g for g in comparison["groups"]}
    assert set(groups) == {"known_to_both", "new_to_production"}
    assert groups["new_to_production"]["users"] > 0  # the generated batch brings new users
    assert "folded in" in groups["new_to_production"]["production_input"]
    assert groups["new_to_production"]["production"] > 0.0  # given their history, not blind
    assert comparison["compared_users"] == sum(g["ranked_users"] for g in groups.values())
    assert comparison["test_data"].startswith("fresh test")
    ct_run = mlflow_client.search_runs(
        [mlflow_client.get_experiment_by_name(name).experiment_id],
        filter_string=f"tags.mlflow.runName = '{run.name}'",
    )[0]
    assert ct_run.data.metrics["comparison.candidate_ndcg_at_10"] == pytest.approx(
        comparison["candidate"]
    )
    assert ct_run.data.metrics["comparison.production_ndcg_at_10"] == pytest.approx(
        comparison["production"]
    )
    # Production is given the new users' history through its newcomer path; the retrained
    # model still wins on these shifted tastes; the rule itself is asserted just above.
    assert comparison["promoted"] is True
    # The retrained version has its model card beside production's, and the audit gate was
    # applied to the promotion (issue 19: every training run, continuous ones included).
    card = _output(run, "build_model_card", "model_card")
    assert [v.type for v in card.visualizations] == ["html"]
    assert "Popularity bias" in card.load()
    audit = _output(run, "build_model_card", "audit").load()
    assert (audit["candidate_version"], audit["production_version"]) == ("2", "1")
    # production is audited on the test users it knows (not the new ones), the candidate on all
    assert 0 < audit["production"]["users_audited"] <= audit["candidate"]["users_audited"]
    promotion = _output(run, "promote_model", "promotion").load()
    (gate,) = promotion["audit_gate"]
    assert gate["key"] == "group.worst.ndcg@10" and gate["passed"] is True
    assert gate["production"] is not None and "Audit gate: ndcg on worst" in promotion["reason"]
    assert comparison["reason"] == promotion["reason"]
    assert comparison["audit_gate"] == promotion["audit_gate"]
    v2 = mlflow_client.get_model_version(name, "2")
    assert v2.tags["model_card"] == "model_card/model_card.html"
    assert_ratings_checksum_registered(v2, "load_continuous_data")
    assert ct_run.data.metrics["audit.group.worst.ndcg_at_10"] == pytest.approx(
        audit["candidate"]["group.worst.ndcg@10"]
    )
    assert _champion(mlflow_client, name) == "2"
    from serving.deployment import list_servers, ping

    (server,) = [s for s in list_servers(name) if s.running]
    assert server.model_version == "2" and ping(server.url)

    # 4. Rollback: version 1 is production again, in the registry and on the server.
    rolled = run_cli("--rollback", "--config", str(shifted))
    assert rolled.exit_code == 0, rolled.output
    assert "version 1 is production again" in rolled.output
    assert f"Live: version 1 at http://127.0.0.1:{port}" in rolled.output
    assert _champion(mlflow_client, name) == "1"
    (server,) = [s for s in list_servers(name) if s.running]
    assert server.model_version == "1" and ping(server.url)
    again = run_cli("--rollback", "--config", str(shifted))
    assert again.exit_code != 0 and "no other version is left to roll back to" in again.output


def test_scheduling_on_the_local_orchestrator_writes_one_crontab_entry(
    tmp_path: Path, stack: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    table = tmp_path / "table"
    fake = tmp_path / "crontab"  # crontab-compatible, keeps the table in a file
    fake.write_text(
        "#!/bin/sh\n"
        f'if [ "$1" = "-l" ]; then [ -f "{table}" ] || {{ echo "no crontab for t" >&2; exit 1; }}; '
        f'cat "{table}"; elif [ "$1" = "-" ]; then cat > "{table}"; else exit 2; fi\n'
    )
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("MOVIE_ROULETTE_CRONTAB", str(fake))
    table.write_text("17 * * * * someone-elses-job\n")
    config = _config(tmp_path, "mr_ct_schedule_it")

    first = run_cli("--pipeline", "continuous", "--config", str(config), "--schedule", "0 3 * * *")
    assert first.exit_code == 0, first.output
    assert "Installed a new crontab entry" in first.output
    second = run_cli(
        "--pipeline", "continuous", "--config", str(config), "--schedule", "30 4 * * 1"
    )
    assert second.exit_code == 0, second.output
    assert "Replaced the existing crontab entry" in second.output

    lines = table.read_text().splitlines()
    assert lines[0] == "17 * * * * someone-elses-job"
    (entry,) = [ln for ln in lines if "movie-roulette-schedule:" in ln]
    assert entry.startswith("30 4 * * 1 cd ")
    assert f"run_pipeline.py --pipeline continuous --config {config.resolve()}" in entry
    assert f"ZENML_CONFIG_PATH={os.environ['ZENML_CONFIG_PATH']}" in entry
    assert entry.endswith("# movie-roulette-schedule:mr_ct_schedule_it.continuous")

    bad = run_cli("--pipeline", "continuous", "--config", str(config), "--schedule", "3am")
    assert bad.exit_code != 0 and "is not a cron expression" in bad.output
