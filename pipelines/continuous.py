"""Continuous training: ingest a batch, check drift, and retrain + promote + redeploy if needed.

A running online experiment (docs/experiments.md) is evaluated first. A dynamic pipeline: the
retraining branch only runs when `decide_retraining` says so, and the decision (with its reason)
is recorded either way.
"""

from zenml import pipeline

from movie_roulette.config import PipelineConfig
from movie_roulette.monitoring.batches import event_log_path, state_dir
from pipelines.model import registered_model
from steps.deploy.deploy_model import deploy_model
from steps.evaluate.evaluate_models import evaluate_models
from steps.evaluate.run_behavioural_checks import run_behavioural_checks
from steps.features.build_content_features import build_content_features
from steps.features.merge_catalogue import merge_catalogue
from steps.features.split_fresh_ratings import split_fresh_ratings
from steps.ingest.fingerprint_data import fingerprint_data
from steps.ingest.load_catalogue_sources import load_catalogue_sources
from steps.monitor.build_drift_features import build_drift_features
from steps.monitor.commit_batch import commit_batch
from steps.monitor.decide_retraining import decide_retraining
from steps.monitor.detect_drift import detect_drift
from steps.monitor.evaluate_experiment import evaluate_experiment
from steps.monitor.ingest_batch import ingest_batch
from steps.monitor.load_continuous_data import load_continuous_data
from steps.monitor.profile_data import profile_data
from steps.monitor.record_comparison import record_comparison
from steps.monitor.record_empty_batch import record_empty_batch
from steps.monitor.record_model_data import record_model_data
from steps.register.promote_model import promote_model
from steps.register.register_model import register_model
from steps.train.refit_for_serving import refit_on_all_ratings
from steps.train.train_hybrid import train_hybrid
from steps.validate.check_validation import check_validation
from steps.validate.validate_catalogue import validate_catalogue
from steps.validate.validate_ratings import validate_ratings


@pipeline(dynamic=True)
def continuous_training_pipeline(config: PipelineConfig) -> None:
    """The monitoring steps read live state (the store, the cursor, the event log, the
    registry) and are never cached; the retraining branch caches like the training pipeline."""
    state = str(state_dir(config))
    # A running online experiment first: promote + redeploy its challenger, stop it, or go on
    # (the retraining below then compares against whichever version is production).
    evaluate_experiment(config)
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
    bundle = train_hybrid(train, valid, features, config.model, config.evaluation, config.seed)
    refit_all = config.model.refit_on_train_and_valid
    metrics = evaluate_models(bundle, train, valid, test, config.evaluation, refit_all)
    behaviour = run_behavioural_checks(
        bundle, train, valid, config.evaluation.k, config.seed, refit_all
    )
    served, fits = refit_on_all_ratings(bundle, train, valid, test, refit_all)
    model = registered_model(config.model_name)
    version = register_model.with_options(model=model)(
        served, metrics, behaviour, ratings, fits, config
    )
    record_model_data(version, data_info, state)
    promotion = promote_model.with_options(model=model)(
        version, bundle, metrics, train, valid, test, config
    )
    deployment = deploy_model.with_options(model=model)(
        promotion, config.model_name, config.serving, str(event_log_path(config))
    )
    record_comparison.with_options(model=model)(promotion, deployment, decision, split_info)
