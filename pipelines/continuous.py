"""Continuous training: ingest a batch, check drift, and retrain + promote + redeploy if needed.

A running online experiment (docs/experiments.md) is evaluated first. A dynamic pipeline: the
retraining branch only runs when `decide_retraining` says so, and the decision (with its reason)
is recorded either way. Every path that trains or promotes builds a model card against
production and applies its audit gate (docs/model-card.md): a retrained version before
`promote_model`, an experiment's challenger before `conclude_experiment`.
"""

from typing import Any

from zenml import pipeline

from movie_roulette.config import PipelineConfig
from movie_roulette.monitoring.batches import state_dir
from pipelines.model import registered_model
from pipelines.release import judge_and_release
from steps.evaluate.build_model_card import build_model_card
from steps.features.build_content_features import build_content_features
from steps.features.merge_catalogue import merge_catalogue
from steps.features.split_fresh_ratings import split_fresh_ratings
from steps.ingest.fingerprint_data import fingerprint_data
from steps.ingest.load_catalogue_sources import load_catalogue_sources
from steps.monitor.build_drift_features import build_drift_features
from steps.monitor.commit_batch import commit_batch
from steps.monitor.conclude_experiment import conclude_experiment
from steps.monitor.decide_retraining import decide_retraining
from steps.monitor.detect_drift import detect_drift
from steps.monitor.evaluate_experiment import evaluate_experiment
from steps.monitor.ingest_batch import ingest_batch
from steps.monitor.load_challenger import load_challenger
from steps.monitor.load_continuous_data import load_continuous_data
from steps.monitor.profile_data import profile_data
from steps.monitor.record_comparison import record_comparison
from steps.monitor.record_empty_batch import record_empty_batch
from steps.monitor.record_model_data import record_model_data
from steps.register.load_comparable_production import load_comparable_production
from steps.spark.train_hybrid_spark import train_hybrid_spark_on_sources
from steps.train.train_hybrid import train_hybrid
from steps.validate.check_validation import check_validation
from steps.validate.validate_catalogue import validate_catalogue
from steps.validate.validate_ratings import validate_ratings


def _experiment_card(verdict: Any, config: PipelineConfig) -> None:
    """The challenger's model card on the accumulated data (fresh split, as a retrain's),
    then the audit gate decides whether the online win is promoted."""
    history, new, _, _ = load_continuous_data(config, verdict, id="experiment_data")
    train, valid, test, _ = split_fresh_ratings(
        history,
        new,
        config.split,
        config.continuous.fresh_test_fraction,
        config.seed,
        True,
        id="experiment_split",
    )
    challenger = load_challenger(verdict, config)
    version = str(verdict.load()["versions"]["challenger"])
    experiment_id = verdict.load()["experiment_id"]
    production = load_comparable_production(train, valid, test, config, id="experiment_production")
    _, audit = build_model_card(
        version,
        challenger,
        train,
        valid,
        test,
        config,
        production,
        served_candidate=True,
        card_path=f"model_card/experiment_{experiment_id}.html",
        id="experiment_model_card",
    )
    conclude_experiment(verdict, audit, config)


@pipeline(dynamic=True)
def continuous_training_pipeline(config: PipelineConfig) -> None:
    """The monitoring steps read live state (the store, the cursor, the event log, the
    registry) and are never cached; the retraining branch caches like the training pipeline."""
    state = str(state_dir(config))
    # A running online experiment first: promote + redeploy its challenger (if its model card
    # passes the audit gate), stop it, or go on (the retraining below then compares against
    # whichever version is production).
    verdict = evaluate_experiment(config)
    if verdict.load().get("pending"):
        _experiment_card(verdict, config)
    # Monitor: new batch -> GX -> durable store -> whylogs profiles + Evidently drift -> decide.
    batch, batch_ratings, batch_info = ingest_batch(config)
    if batch_info.load()["ratings"] == 0:  # e.g. a quiet night: only clicks, or nothing at all
        record_empty_batch(batch_info)
        return
    batch_validation, _ = validate_ratings(batch_ratings)
    batch_commit = commit_batch(batch, batch_validation, batch_info, state)
    history, new, ratings, data_info = load_continuous_data(config, batch_commit)
    data_fingerprint = fingerprint_data(config.data)
    sources = load_catalogue_sources(config.data, config.seed, data_fingerprint)
    catalogue = merge_catalogue(sources, ratings)
    reference_features, current_features = build_drift_features(history, new, catalogue)
    profile_data(reference_features, current_features)
    drift_summary, _ = detect_drift(
        reference_features, current_features, config.continuous, config.seed
    )
    decision = decide_retraining(drift_summary, data_info, config.continuous)
    if not decision.load()["retrain"]:
        return

    # Retrain on everything accumulated; compare with production on fresh held-out new data;
    # register and serve the same recipe refitted on every rating.
    ratings_validation, _ = validate_ratings(ratings)
    catalogue_validation, join_validation, _ = validate_catalogue(catalogue, ratings, config.data)
    passed = check_validation(ratings_validation, catalogue_validation, join_validation)
    features = build_content_features(catalogue)
    train, valid, test, split_info = split_fresh_ratings(
        history, new, config.split, config.continuous.fresh_test_fraction, config.seed, passed
    )
    if config.engine == "spark":  # the collaborative fits on Spark, as the training pipeline's
        inputs = (train, valid, features, config.model, config.evaluation, config.seed)
        bundle = train_hybrid_spark_on_sources(*inputs, config.spark, id="train_hybrid_spark")
    else:
        bundle = train_hybrid(train, valid, features, config.model, config.evaluation, config.seed)
    promotion, deployment = judge_and_release(
        config,
        bundle,
        train,
        valid,
        test,
        ratings,
        after_register=lambda version: record_model_data(version, data_info, state),
    )
    record_comparison.with_options(model=registered_model(config.model_name))(
        promotion, deployment, decision, split_info
    )
