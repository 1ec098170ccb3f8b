"""Training: ingest, validate, features, split, train, evaluate, refit on all, register, model
card (bias audit + explainability, docs/model-card.md), promote, deploy.

The evaluated model is fitted on train + valid and measured on test; the registered and served
model is the same recipe refitted on every rating (`refit_on_all_ratings`). Only the steps from
registration on belong to the ZenML model, so a run that fails earlier creates no model version.

The live sources and the sentiment model are switched on in the config (`sources.tmdb_api`,
`sources.imdb_reviews`, `sentiment`); when they are off, their steps are not in the run.
"""

from zenml import pipeline

from movie_roulette.config import PipelineConfig
from pipelines.release import judge_and_release
from steps.features.build_content_features import build_content_features
from steps.features.enrich_catalogue import enrich_catalogue
from steps.features.merge_catalogue import merge_catalogue
from steps.features.score_reviews import score_reviews
from steps.features.split_ratings import split_ratings
from steps.ingest.fetch_tmdb_api import fetch_tmdb_api
from steps.ingest.fingerprint_data import fingerprint_data
from steps.ingest.fingerprint_labelled_reviews import fingerprint_labelled_reviews
from steps.ingest.load_catalogue_sources import load_catalogue_sources
from steps.ingest.load_ratings import load_ratings
from steps.ingest.load_reviews import load_reviews
from steps.ingest.scrape_imdb_reviews import scrape_imdb_reviews
from steps.spark.prepare_ratings_spark import prepare_ratings_spark
from steps.spark.train_hybrid_spark import train_hybrid_spark, train_hybrid_spark_with_sentiment
from steps.train.train_hybrid import train_hybrid, train_hybrid_with_sentiment
from steps.train.train_sentiment import train_sentiment
from steps.validate.check_validation import check_validation
from steps.validate.validate_catalogue import validate_catalogue
from steps.validate.validate_ratings import validate_ratings
from steps.validate.validate_reviews import validate_review_sources


@pipeline
def training_pipeline(config: PipelineConfig) -> None:
    """Caching is on (docs/pipeline.md): each step gets only the sections it uses, the loading
    steps get the data files' fingerprint, and the steps that read live sources or state
    (TMDB, IMDb, the registry, the model server) are never cached."""
    data_fingerprint = fingerprint_data(config.data)
    # engine: spark (docs/spark.md): one step prepares, validates and splits on Spark
    spark = config.engine == "spark"
    if spark:
        ratings, train, valid, test, ratings_validation, _ = prepare_ratings_spark(config)
    else:
        ratings = load_ratings(config.data, config.seed, data_fingerprint)
    sources = load_catalogue_sources(config.data, config.seed, data_fingerprint)
    catalogue = merge_catalogue(sources, ratings)
    tmdb_on, imdb_on = config.sources.tmdb_api.enabled, config.sources.imdb_reviews.enabled
    tmdb_movies = tmdb_reviews = imdb_reviews = None
    if tmdb_on:
        tmdb_movies, tmdb_reviews, _ = fetch_tmdb_api(catalogue, config.sources.tmdb_api)
        catalogue = enrich_catalogue(catalogue, tmdb_movies)
    if imdb_on:
        imdb_reviews, _ = scrape_imdb_reviews(catalogue, config.sources.imdb_reviews)
    if not spark:
        ratings_validation, _ = validate_ratings(ratings)
    catalogue_validation, join_validation, _ = validate_catalogue(catalogue, ratings, config.data)
    passed = check_validation(ratings_validation, catalogue_validation, join_validation)
    features = build_content_features(catalogue, after=["check_validation"])
    if not spark:
        train, valid, test = split_ratings(ratings, config.split, config.seed, passed)
    sentiment = config.sentiment
    if tmdb_on or imdb_on or sentiment.enabled:
        reviews = load_reviews(config.data, config.seed, tmdb_reviews, imdb_reviews)
        validate_review_sources(reviews, tmdb_movies)
    if sentiment.enabled:
        labelled = fingerprint_labelled_reviews(sentiment, config.data.data_dir)
        sentiment_model, _ = train_sentiment(
            reviews,
            sentiment,
            config.data.data_dir,
            config.data.source,
            config.seed,
            labelled,
            after=["validate_review_sources"],
        )
        scored_reviews, features = score_reviews(reviews, features, sentiment_model, valid, test)
        inputs = (train, valid, features, config.model, config.evaluation, config.seed)
        reviewed = (sentiment, scored_reviews, sentiment_model)
        if spark:  # (the split as the prepare step's files: Spark ALS reads them on Spark)
            bundle = train_hybrid_spark_with_sentiment(*inputs, *reviewed, config.spark)
        else:
            bundle = train_hybrid_with_sentiment(*inputs, *reviewed)
    elif spark:
        inputs = (train, valid, features, config.model, config.evaluation, config.seed)
        bundle = train_hybrid_spark(*inputs, config.spark, after=["check_validation"])
    else:
        bundle = train_hybrid(train, valid, features, config.model, config.evaluation, config.seed)
    judge_and_release(config, bundle, train, valid, test, ratings, parts_on_spark=spark)
