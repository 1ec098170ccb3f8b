"""Training: ingest, validate, features, split, train, evaluate, refit on all, register, model
card (bias audit + explainability, docs/model-card.md), promote, deploy.

The evaluated model is fitted on train + valid and measured on test; the registered and served
model is the same recipe refitted on every rating (`refit_on_all_ratings`). Only the steps from
registration on belong to the ZenML model, so a run that fails earlier creates no model version.

The live sources and the sentiment model are switched on in the config (`sources.tmdb_api`,
`sources.imdb_reviews`, `sentiment`); when they are off, their steps are not in the run.
"""

from typing import Any

from zenml import pipeline

from pipelines.model import registered_model
from steps.deploy.deploy_model import deploy_model
from steps.evaluate.build_model_card import build_model_card
from steps.evaluate.evaluate_models import evaluate_models
from steps.evaluate.run_behavioural_checks import run_behavioural_checks
from steps.features.build_content_features import build_content_features
from steps.features.enrich_catalogue import enrich_catalogue
from steps.features.merge_catalogue import merge_catalogue
from steps.features.score_reviews import score_reviews
from steps.features.split_ratings import split_ratings
from steps.ingest.fetch_tmdb_api import fetch_tmdb_api
from steps.ingest.load_catalogue_sources import load_catalogue_sources
from steps.ingest.load_ratings import load_ratings
from steps.ingest.load_reviews import load_reviews
from steps.ingest.scrape_imdb_reviews import scrape_imdb_reviews
from steps.register.promote_model import promote_model
from steps.register.register_model import register_model
from steps.spark.prepare_ratings_spark import prepare_ratings_spark
from steps.spark.train_hybrid_spark import train_hybrid_spark
from steps.train.refit_for_serving import refit_on_all_ratings
from steps.train.train_hybrid import train_hybrid, train_hybrid_with_sentiment
from steps.train.train_sentiment import train_sentiment
from steps.validate.check_validation import check_validation
from steps.validate.validate_catalogue import validate_catalogue
from steps.validate.validate_ratings import validate_ratings
from steps.validate.validate_reviews import validate_review_sources


def _on(config: dict[str, Any], *keys: str) -> bool:
    node: Any = config
    for key in keys:
        node = node.get(key, {}) if isinstance(node, dict) else {}
    return bool(node.get("enabled")) if isinstance(node, dict) else False


@pipeline(enable_cache=False)
def training_pipeline(config: dict[str, Any]) -> None:
    # engine: spark (docs/spark.md): one step prepares, validates and splits on Spark
    spark = config.get("engine") == "spark"
    if spark:
        ratings, train, valid, test, ratings_validation, _ = prepare_ratings_spark(config)
    else:
        ratings = load_ratings(config)
    sources = load_catalogue_sources(config)
    catalogue = merge_catalogue(sources, ratings)
    tmdb_movies = tmdb_reviews = imdb_reviews = None
    if _on(config, "sources", "tmdb_api"):
        tmdb_movies, tmdb_reviews, _ = fetch_tmdb_api(catalogue, config)
        catalogue = enrich_catalogue(catalogue, tmdb_movies)
    if _on(config, "sources", "imdb_reviews"):
        imdb_reviews, _ = scrape_imdb_reviews(catalogue, config)
    if not spark:
        ratings_validation, _ = validate_ratings(ratings)
    catalogue_validation, join_validation, _ = validate_catalogue(catalogue, ratings, config)
    passed = check_validation(ratings_validation, catalogue_validation, join_validation)
    features = build_content_features(catalogue, after=["check_validation"])
    if not spark:
        train, valid, test = split_ratings(ratings, config, passed)
    live = _on(config, "sources", "tmdb_api") or _on(config, "sources", "imdb_reviews")
    if live or _on(config, "sentiment"):
        reviews = load_reviews(config, tmdb_reviews, imdb_reviews)
        validate_review_sources(reviews, tmdb_movies)
    if _on(config, "sentiment"):
        sentiment_model, _ = train_sentiment(reviews, config, after=["validate_review_sources"])
        scored_reviews, features = score_reviews(reviews, features, sentiment_model, valid, test)
        bundle = train_hybrid_with_sentiment(
            train, valid, features, config, scored_reviews, sentiment_model
        )
    elif spark:
        bundle = train_hybrid_spark(train, valid, features, config, after=["check_validation"])
    else:
        bundle = train_hybrid(train, valid, features, config)
    metrics = evaluate_models(bundle, train, valid, test, config)
    behaviour = run_behavioural_checks(bundle, train, valid, config)
    served, fits = refit_on_all_ratings(bundle, train, valid, test, config)
    model = registered_model(config)
    version = register_model.with_options(model=model)(
        served, metrics, behaviour, ratings, fits, config
    )
    audit = None
    if (config.get("audit") or {}).get("enabled", True):
        _, audit = build_model_card.with_options(model=model)(
            version, bundle, train, valid, test, config
        )
    promotion = promote_model.with_options(model=model)(
        version, bundle, metrics, train, valid, test, config, audit
    )
    deploy_model.with_options(model=model)(promotion, config)
