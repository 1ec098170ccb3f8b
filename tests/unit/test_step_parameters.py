"""Each step gets only what it uses (issue 16 item 1): no step parses the config, and the cached
steps take no whole config, so a change to one section leaves the other steps' caches alone."""

from __future__ import annotations

import importlib
import inspect
import typing
from pathlib import Path

import pandas as pd
import pytest
from zenml.steps import BaseStep

from movie_roulette.config import PipelineConfig
from movie_roulette.ratings_source import RatingsSource

REPO = Path(__file__).resolve().parents[2]
STEP_MODULES = sorted(
    ".".join(p.relative_to(REPO).with_suffix("").parts)
    for p in (REPO / "steps").rglob("*.py")
    if p.name != "__init__.py"
)
# steps that read live sources or state, or start servers: never cached (docs/pipeline.md)
UNCACHED = {
    "fingerprint_data",
    "prepare_ratings_spark",  # Spark reads the ratings files itself
    "fingerprint_labelled_reviews",
    "fetch_tmdb_api",
    "scrape_imdb_reviews",
    "register_model",
    "load_comparable_production",
    "build_model_card",
    "promote_model",
    "deploy_model",
    "deploy_production",
    "evaluate_experiment",
    "load_challenger",
    "conclude_experiment",
    "ingest_batch",
    "commit_batch",
    "load_continuous_data",
    "decide_retraining",
    "record_comparison",
    "record_empty_batch",
    "record_model_data",
}


# modules under steps/ that hold what several steps share, not a step
HELPERS = {"steps.monitor.experiment_record", "steps.ratings_artifact"}


def _steps_by_module() -> dict[str, dict[str, BaseStep]]:
    found: dict[str, dict[str, BaseStep]] = {}
    for name in STEP_MODULES:
        module = importlib.import_module(name)
        found[name] = {
            value.name: value
            for value in vars(module).values()
            if isinstance(value, BaseStep) and value.__module__ == module.__name__
        }
    return found


BY_MODULE = _steps_by_module()
STEPS = {name: step for steps in BY_MODULE.values() for name, step in steps.items()}


def test_every_module_under_steps_defines_a_step_or_is_a_named_helper() -> None:
    assert {name for name, steps in BY_MODULE.items() if not steps} == HELPERS


def test_no_step_or_pipeline_parses_the_config_itself() -> None:
    for folder in ("steps", "pipelines"):
        for path in (REPO / folder).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            assert "config_from_dict" not in text, path
            assert "config: dict" not in text, path


@pytest.mark.parametrize("name", sorted(STEPS))
def test_caching_is_off_exactly_for_the_live_steps(name: str) -> None:
    enabled = STEPS[name].configuration.enable_cache is not False
    assert enabled == (name not in UNCACHED), f"{name}: enable_cache={not enabled}"


@pytest.mark.parametrize("name", sorted(set(STEPS) - UNCACHED))
def test_cached_steps_take_sections_or_values_never_the_whole_config(name: str) -> None:
    hints = typing.get_type_hints(STEPS[name].entrypoint)
    for parameter in inspect.signature(STEPS[name].entrypoint).parameters:
        hint = hints.get(parameter)
        assert hint is not PipelineConfig, f"{name}({parameter}) takes the whole config"
        assert typing.get_origin(hint) is not dict or parameter != "config", name


def test_the_loading_steps_take_the_data_fingerprint() -> None:
    for name in ("load_ratings", "load_catalogue_sources"):
        assert "data_fingerprint" in inspect.signature(STEPS[name].entrypoint).parameters
    assert (
        "labelled_fingerprint" in inspect.signature(STEPS["train_sentiment"].entrypoint).parameters
    )


# steps that judge a trained model: they read the seen ratings a batch at a time (docs/spark.md 24);
# the steps that fit one from the split artifacts' files (docs/spark.md 25)
JUDGING = (
    "evaluate_models",
    "run_behavioural_checks",
    "load_comparable_production",
    "build_model_card",
    "promote_model",
)
FITTING = (
    "train_hybrid",
    "train_hybrid_with_sentiment",
    "train_hybrid_spark_on_sources",
    "refit_on_all_ratings",
)


@pytest.mark.parametrize("name", JUDGING + FITTING)
def test_the_judging_and_fitting_steps_take_train_and_valid_as_files_not_frames(name: str) -> None:
    hints = typing.get_type_hints(STEPS[name].entrypoint)
    assert (hints["train"], hints["valid"]) == (RatingsSource, RatingsSource), name
    if "test" in hints:
        assert hints["test"] in (RatingsSource, pd.DataFrame), name  # (judged: a sample frame)
    if name == "refit_on_all_ratings":
        assert hints["test"] is RatingsSource


@pytest.mark.parametrize(
    ("name", "part"),
    [
        ("merge_catalogue", "ratings"),
        ("validate_catalogue", "ratings"),
        ("sample_test_users", "test"),
        ("score_reviews", "valid"),
        ("score_reviews", "test"),
    ],
)
def test_the_counting_and_sampling_steps_read_their_part_from_files(name: str, part: str) -> None:
    """They need per-movie counts, a sample's rows or held-out pairs (docs/spark.md 26), not
    a 25M-row frame."""
    assert typing.get_type_hints(STEPS[name].entrypoint)[part] is RatingsSource


RATING_PARTS = ("ratings", "train", "valid", "test", "history", "new_interactions", "batch")
# the steps that may load a ratings part as a frame, and why (docs/spark.md 26)
FRAME_INPUTS = {
    ("split_ratings", "ratings"): "the local engine splits in pandas (Spark: prepare step)",
    ("validate_ratings", "ratings"): "the local engine's GX suite runs on pandas",
    ("build_drift_features", "history"): "continuous training: drift features in pandas",
    ("build_drift_features", "new_interactions"): "continuous training: one batch",
    ("split_fresh_ratings", "history"): "continuous training splits in pandas",
    ("split_fresh_ratings", "new_interactions"): "continuous training: one batch",
    ("commit_batch", "batch"): "continuous training: one batch",
    **{
        (n, "test"): "the judged sample of test users"
        for n in JUDGING
        if n != "run_behavioural_checks"
    },
}


def test_no_other_step_loads_a_ratings_part_as_a_frame() -> None:
    """Issue 17: on the Spark engine the rating data never collects to the driver. Every step
    input that receives the ratings or a split part reads files (a `RatingsSource`, Spark's
    `RatingsParquet`, or the unloaded artifact) unless FRAME_INPUTS says why it may not."""
    frames = set()
    for name, step in STEPS.items():
        hints = typing.get_type_hints(step.entrypoint)
        frames |= {(name, p) for p in RATING_PARTS if hints.get(p) is pd.DataFrame}
    assert frames == set(FRAME_INPUTS)
