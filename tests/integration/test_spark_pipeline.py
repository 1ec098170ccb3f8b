"""engine: spark: the training pipeline on the demo data (Spark in local mode, one session)."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from tests.integration.conftest import assert_ratings_checksum_registered, run_cli, write_config
from tests.spark_support import SPARK_TEST_SETTINGS, require_java

pytestmark = [pytest.mark.integration, pytest.mark.spark, pytest.mark.slow]

DEMO = {"demo": {"n_movies": 200, "n_users": 150, "mean_ratings_per_user": 60, "n_reviews": 0}}
# the demo's generated reviews: the sentiment model is trained and enters the Spark hybrid
DEMO_WITH_REVIEWS = {"demo": {**DEMO["demo"], "n_reviews": 1500}}
SPARK = {
    **SPARK_TEST_SETTINGS,
    "als": {"rank": 8, "max_iter": 6},
    "als_implicit": {"rank": 16, "max_iter": 6},
}


def _spark_config(tmp_path: Path, name: str, sentiment: bool = False, **spark: Any) -> Path:
    return write_config(
        tmp_path,
        "quickstart",
        model_name=name,
        experiment_name=name,
        engine="spark",
        spark={**SPARK, **spark},
        data=DEMO_WITH_REVIEWS if sentiment else DEMO,
        **({} if sentiment else {"sentiment": {"enabled": False}}),
    )


def _versions(client: Any, name: str) -> list[Any]:
    return list(client.search_model_versions(f"name='{name}'"))


def test_spark_pipeline_registers_a_hybrid_of_spark_als_components(
    tmp_path: Path, stack: str, mlflow_client: Any
) -> None:
    require_java()
    name = "mr_spark_it"
    result = run_cli("--config", str(_spark_config(tmp_path, name, sentiment=True)))
    assert result.exit_code == 0, result.output
    versions = _versions(mlflow_client, name)
    assert [str(v.version) for v in versions] == ["1"]
    metrics = mlflow_client.get_run(versions[0].run_id).data.metrics
    for metric in (
        "hybrid.ndcg_at_10",
        "hybrid.rmse",
        "als_implicit.ndcg_at_10",
        "als_explicit.rmse",
    ):
        assert metric in metrics, f"{metric} not logged; got {sorted(metrics)}"
    assert metrics["hybrid.ndcg_at_10"] > metrics["popularity.ndcg_at_10"]

    from zenml.client import Client

    run = Client().get_pipeline("training_pipeline").last_run
    steps = run.steps
    assert "prepare_ratings_spark" in steps and "split_ratings" not in steps
    assert "validate_ratings" not in steps  # GX ran on the Spark DataFrame instead
    validation = steps["prepare_ratings_spark"].outputs["ratings_validation"][0].load()
    assert validation["success"] and validation["statistics"]["engine"] == "spark"
    # the Spark split is the local split
    from movie_roulette.config import load_config
    from movie_roulette.data import sources
    from movie_roulette.data.split import train_valid_test

    cfg = load_config(tmp_path / "quickstart.yaml")
    local_test = train_valid_test(sources.load_ratings(cfg.data, cfg.seed), cfg.split, cfg.seed)[2]
    spark_test = steps["prepare_ratings_spark"].outputs["test"][0].load().to_pandas()
    cols = ["user_id", "movie_id"]
    pd.testing.assert_frame_equal(
        spark_test[cols].reset_index(drop=True),
        local_test[cols].sort_values(cols).reset_index(drop=True),
    )
    served = steps["refit_on_all_ratings"].outputs["served_bundle"][0].load()
    assert {"als_explicit", "als_implicit", "sentiment"} <= set(served.model.components)
    # every ALS fit read its rows on Spark from the prepare step's files (none sent by the
    # driver): fit and refit of the evaluated model, and the served model's refit on all
    info = served.model.fit_info
    fits = [(f["parts"], f["component"], f["source"]) for f in info["als_rows"]]
    fits += [(f["parts"], f["component"], f["source"]) for f in info["served_als_rows"]]
    assert sorted(fits) == sorted(
        (parts, name, "files")
        for parts in ("train", "train+valid", "train+valid+test")
        for name in ("als_explicit", "als_implicit")
    )
    served_rows = sum(
        f["rows"] for f in info["served_als_rows"] if f["component"] == "als_explicit"
    )
    assert served_rows == served.model.fit_info["served_fit"]["rows"]
    assert "train_sentiment" in steps and "train_hybrid_spark_with_sentiment" in steps
    assert_ratings_checksum_registered(versions[0], "prepare_ratings_spark")


def test_a_failed_spark_run_says_why_in_one_line_and_registers_nothing(
    tmp_path: Path, stack: str, mlflow_client: Any
) -> None:
    require_java()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    name = "mr_spark_unreachable_it"
    config = _spark_config(tmp_path, name, master=f"spark://127.0.0.1:{port}", connect_timeout_s=5)
    result = run_cli("--config", str(config))
    assert result.exit_code != 0
    assert f"Spark master spark://127.0.0.1:{port} is unreachable" in result.output
    assert "make spark-cluster" in result.output
    assert _versions(mlflow_client, name) == []


def test_continuous_training_retrains_on_the_engine_the_config_names(
    tmp_path: Path, stack: str, mlflow_client: Any
) -> None:
    """engine: spark in a continuous config: a forced retrain fits Spark ALS components (the
    batches themselves are prepared in pandas, as on the local engine) and registers them."""
    require_java()
    name = "mr_spark_ct_it"
    config = write_config(
        tmp_path,
        "continuous_demo",
        model_name=name,
        experiment_name=name,
        engine="spark",
        spark=SPARK,
        data={"demo": {**DEMO["demo"], "holdout_fraction": 0.2}},
        sentiment={"enabled": False},
        continuous={"state_dir": str(tmp_path / "state"), "batch_size": 1500},
    )
    trained = run_cli("--config", str(config))
    assert trained.exit_code == 0, trained.output
    forced = run_cli("--pipeline", "continuous", "--config", str(config), "--force")
    assert forced.exit_code == 0, forced.output
    from zenml.client import Client

    run = Client().get_pipeline("continuous_training_pipeline").last_run
    assert "train_hybrid_spark" in run.steps and "train_hybrid" not in run.steps
    retrained = run.steps["train_hybrid_spark"].outputs["model_bundle"][0].load()
    assert {"als_explicit", "als_implicit"} <= set(retrained.model.components)
    assert retrained.model.fit_info["engine"] == "spark"
    assert sorted(str(v.version) for v in _versions(mlflow_client, name)) == ["1", "2"]
