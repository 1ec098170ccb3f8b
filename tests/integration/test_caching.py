"""ZenML step caching (docs/pipeline.md): what a rerun reuses, what it never reuses, and that
a changed data file or --no-cache makes the steps run again."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from tests.integration.conftest import free_port, run_cli, write_config

pytestmark = [pytest.mark.integration, pytest.mark.slow]

# deterministic steps: reused when their inputs and parameters are unchanged
LOADING = ["load_ratings", "load_catalogue_sources", "merge_catalogue"]
VALIDATION = ["validate_ratings", "validate_catalogue", "check_validation"]
FEATURES = ["build_content_features", "split_ratings"]
TRAINING = ["train_hybrid", "evaluate_models", "run_behavioural_checks", "refit_on_all_ratings"]
# steps that read files, live sources, the registry or the model server: never reused
NEVER_CACHED = ["fingerprint_data", "register_model", "build_model_card", "promote_model"]
NEVER_CACHED += ["load_comparable_production", "deploy_model"]


def _latest_run() -> Any:
    from zenml.client import Client

    runs = Client().list_pipeline_runs(
        pipeline_name="training_pipeline", sort_by="desc:created", size=1, hydrate=True
    )
    return runs.items[0]


def _statuses(run: Any) -> dict[str, str]:
    return {name: str(step.status.value) for name, step in run.steps.items()}


def _served_checksum(run: Any) -> str:
    """SHA-256 over the served bundle's file checksums (its manifest lists every file)."""
    from zenml.io import fileio

    artifact = run.steps["refit_on_all_ratings"].outputs["served_bundle"][0]
    with fileio.open(f"{artifact.uri}/bundle/manifest.json", "r") as handle:
        manifest = json.load(handle)
    files = {name: entry["sha256"] for name, entry in manifest["files"].items()}
    return hashlib.sha256(json.dumps(files, sort_keys=True).encode()).hexdigest()


def _run(config: Path, *extra: str) -> Any:
    result = run_cli("--config", str(config), *extra)
    assert result.exit_code == 0, result.output
    return _latest_run()


def test_a_rerun_reuses_the_deterministic_steps_and_a_serving_change_keeps_training(
    tmp_path: Path, stack: str
) -> None:
    name = "mr_cache_it"
    demo = {"n_movies": 150, "n_users": 120, "mean_ratings_per_user": 40, "n_reviews": 600}
    config = write_config(
        tmp_path, "quickstart", model_name=name, experiment_name=name, data={"demo": demo}
    )
    first = _run(config)
    assert all(s == "completed" for s in _statuses(first).values()), _statuses(first)

    second = _run(config)
    statuses = _statuses(second)
    reused = LOADING + VALIDATION + FEATURES + TRAINING
    reused += ["train_sentiment", "train_hybrid_with_sentiment", "score_reviews", "load_reviews"]
    reused = [s for s in reused if s != "train_hybrid"]  # quickstart trains with sentiment
    assert {s: statuses[s] for s in reused} == dict.fromkeys(reused, "cached")
    assert {s: statuses[s] for s in NEVER_CACHED} == dict.fromkeys(NEVER_CACHED, "completed")
    assert _served_checksum(second) == _served_checksum(first)

    # only the model server's port differs: every step before registration is reused
    (tmp_path / "port").mkdir()
    other_port = write_config(
        tmp_path / "port",
        "quickstart",
        model_name=name,
        experiment_name=name,
        data={"demo": demo},
        serving={"port": free_port()},
    )
    third = _statuses(_run(other_port))
    assert {s: third[s] for s in reused} == dict.fromkeys(reused, "cached")

    # --no-cache: everything runs again, and the same data and seed give the same model
    fresh = _run(config, "--no-cache")
    assert set(_statuses(fresh).values()) == {"completed"}
    assert _served_checksum(fresh) == _served_checksum(first)


def test_a_changed_data_file_reruns_loading_and_everything_after_it(
    tmp_path: Path, stack: str
) -> None:
    from movie_roulette.data.synthetic import SyntheticSpec, generate

    data = tmp_path / "data"
    generate(SyntheticSpec(users=120, movies=150, ratings=6000, seed=3), data)
    name = "mr_cache_files_it"
    config = write_config(
        tmp_path,
        "movielens",
        model_name=name,
        experiment_name=name,
        data={"data_dir": str(data), "download": False, "use_imdb": False, "use_tmdb": False},
        audit={"enabled": False},
    )
    first = _run(config)
    assert _statuses(_run(config))["train_hybrid"] == "cached"  # unchanged files: reused

    ratings = pd.read_csv(data / "ratings.csv")
    ratings.loc[0, "rating"] = 5.0 if ratings.loc[0, "rating"] != 5.0 else 4.0
    ratings.to_csv(data / "ratings.csv", index=False)
    changed = _run(config)
    statuses = _statuses(changed)
    rerun = LOADING + VALIDATION + FEATURES + TRAINING
    assert {s: statuses[s] for s in rerun} == dict.fromkeys(rerun, "completed")
    fingerprint = "data_fingerprint"
    before = first.steps["fingerprint_data"].outputs[fingerprint][0].load()
    assert changed.steps["fingerprint_data"].outputs[fingerprint][0].load() != before
