"""The whole training pipeline on generated MovieLens-25M-shaped data (~200k ratings), through
configs/ml-25m.yaml and --data-dir: the path the 25M run takes (the hybrid over the scalable
component set: ALS, sparse item-kNN, capped EASE, content, popularity), at a size a test can
afford."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.integration.conftest import run_cli, write_config

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_ml25m_config_trains_registers_and_promotes_on_generated_data(
    tmp_path: Path, stack: str, mlflow_client: Any
) -> None:
    from movie_roulette.data.synthetic import generate, ml25m_shape

    data = tmp_path / "synthetic"
    spec = ml25m_shape(200_000, seed=0)
    generate(spec, data)
    name = "mr_synthetic_it"
    config = write_config(
        tmp_path,
        "ml-25m",
        model_name=name,
        experiment_name=name,
        data={"download": False},  # the generated files must be what is read
        evaluation={"max_users": 500},  # judged on a seeded sample of the ~1,300 test users
    )
    result = run_cli("--config", str(config), "--data-dir", str(data))
    assert result.exit_code == 0, result.output

    versions = mlflow_client.search_model_versions(f"name='{name}'")
    assert [str(v.version) for v in versions] == ["1"]
    assert str(mlflow_client.get_model_version_by_alias(name, "champion").version) == "1"
    run = mlflow_client.get_run(versions[0].run_id)
    assert run.data.params["data.movielens_release"] == "ml-25m"
    assert run.data.params["model.component_set"] == "scalable"
    metrics = run.data.metrics
    # the scalable components are the ones blended and evaluated
    assert {"als.ndcg_at_10", "itemknn.ndcg_at_10", "ease.ndcg_at_10"} <= set(metrics)
    # the generated tastes are real signal: the hybrid beats popularity clearly
    assert metrics["hybrid.ndcg_at_10"] > 1.2 * metrics["popularity.ndcg_at_10"]
    # evaluation.max_users: metrics, card and promotion judged the sample, training saw all
    from zenml.client import Client

    steps = Client().get_pipeline("training_pipeline").last_run.steps
    sampled = steps["sample_test_users"].run_metadata
    assert sampled["evaluated_users"] == 500 < sampled["test_users"]
    assert metrics["hybrid.ranking_users"] <= 500
    # the catalogue's all-missing TMDB columns (join off) no longer make ZenML's pandas
    # materializer drop the artifact's statistics with a warning
    catalogue = steps["merge_catalogue"].outputs["catalogue"][0].run_metadata
    assert "runtime" in catalogue["all_missing_columns"] and "movie_id" in catalogue["mean"]
