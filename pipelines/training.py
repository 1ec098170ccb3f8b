"""Training: ingest, validate, features, split, train, evaluate, register, promote, deploy."""

from typing import Any

from zenml import pipeline

from steps.deploy.deploy_model import deploy_model
from steps.evaluate.evaluate_models import evaluate_models
from steps.evaluate.run_behavioural_checks import run_behavioural_checks
from steps.features.build_content_features import build_content_features
from steps.features.merge_catalogue import merge_catalogue
from steps.features.split_ratings import split_ratings
from steps.ingest.load_catalogue_sources import load_catalogue_sources
from steps.ingest.load_ratings import load_ratings
from steps.register.promote_model import promote_model
from steps.register.register_model import register_model
from steps.train.train_hybrid import train_hybrid
from steps.validate.check_validation import check_validation
from steps.validate.validate_catalogue import validate_catalogue
from steps.validate.validate_ratings import validate_ratings


@pipeline(enable_cache=False)
def training_pipeline(config: dict[str, Any]) -> None:
    ratings = load_ratings(config)
    sources = load_catalogue_sources(config)
    catalogue = merge_catalogue(sources, ratings)
    ratings_validation, _ = validate_ratings(ratings)
    catalogue_validation, join_validation, _ = validate_catalogue(catalogue, ratings, config)
    passed = check_validation(ratings_validation, catalogue_validation, join_validation)
    features = build_content_features(catalogue, after=["check_validation"])
    train, valid, test = split_ratings(ratings, config, passed)
    bundle = train_hybrid(train, valid, features, config)
    metrics = evaluate_models(bundle, train, valid, test, config)
    behaviour = run_behavioural_checks(bundle, train, valid, config)
    version = register_model(bundle, metrics, behaviour, ratings, config)
    promotion = promote_model(version, metrics, train, valid, test, config)
    deploy_model(promotion, config)
