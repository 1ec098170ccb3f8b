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
from movie_roulette.monitoring.batches import event_log_path, state_dir
from pipelines.model import registered_model
from steps.deploy.deploy_model import deploy_model
from steps.evaluate.build_model_card import build_model_card
from steps.evaluate.evaluate_models import evaluate_models
from steps.evaluate.run_behavioural_checks import run_behavioural_checks
from steps.evaluate.sample_test_users import sample_test_users
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
from steps.register.promote_model import promote_model
from steps.register.register_model import register_model
from steps.spark.train_hybrid_spark import train_hybrid_spark
from steps.train.refit_for_serving import refit_on_all_ratings
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
    _, audit = build_model_card(
        version,
        challenger,
        train,
        valid,
        test,
        config,
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
        bundle = train_hybrid_spark(
            train, valid, features, config.model, config.evaluation, config.spark, config.seed
        )
    else:
        bundle = train_hybrid(train, valid, features, config.model, config.evaluation, config.seed)
    refit_all = config.model.refit_on_train_and_valid
    judged = (
        sample_test_users(test, config.evaluation, config.seed)
        if config.evaluation.max_users is not None
        else test
    )
    metrics = evaluate_models(bundle, train, valid, judged, config.evaluation, refit_all)
    behaviour = run_behavioural_checks(
        bundle, train, valid, config.evaluation.k, config.seed, refit_all
    )
    served, fits = refit_on_all_ratings(bundle, train, valid, test, refit_all)
    model = registered_model(config.model_name)
    version = register_model.with_options(model=model)(
        served, metrics, behaviour, ratings, fits, config
    )
    record_model_data(version, data_info, state)
    audit = None
    if config.audit.enabled:
        _, audit = build_model_card.with_options(model=model)(
            version, bundle, train, valid, judged, config
        )
    promotion = promote_model.with_options(model=model)(
        version, bundle, metrics, train, valid, judged, config, audit
    )
    deployment = deploy_model.with_options(model=model)(
        promotion, config.model_name, config.serving, str(event_log_path(config))
    )
    record_comparison.with_options(model=model)(promotion, deployment, decision, split_info)
