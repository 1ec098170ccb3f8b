"""Regression on the embedded demo data: the trained hybrid must rank better than popularity."""

from __future__ import annotations

import pandas as pd
import pytest

from movie_roulette.config import PipelineConfig
from movie_roulette.data import sources
from movie_roulette.data.catalogue import merge_catalogue
from movie_roulette.data.split import train_valid_test
from movie_roulette.evaluation.compare import evaluate_bundle
from movie_roulette.evaluation.offline import evaluate
from movie_roulette.features.text import add_content_text
from movie_roulette.models.hybrid import train_hybrid
from movie_roulette.models.popularity import PopularityRecommender


@pytest.fixture(scope="module")
def demo_metrics() -> dict[str, dict[str, float]]:
    cfg = PipelineConfig()  # the quickstart defaults: demo data, seed 42
    ratings = sources.load_ratings(cfg.data, seed=cfg.seed)
    catalogue = add_content_text(
        merge_catalogue(sources.load_catalogue_sources(cfg.data, seed=cfg.seed), ratings=ratings)
    )
    train, valid, test = train_valid_test(ratings, cfg.split, seed=cfg.seed)
    seen = pd.concat([train, valid], ignore_index=True)
    genres = dict(zip(catalogue["movie_id"], catalogue["genres"], strict=True))
    hybrid = train_hybrid(train, valid, catalogue, cfg.model, seed=cfg.seed)
    popularity = PopularityRecommender().fit(seen)
    return {
        "hybrid": evaluate(hybrid, seen, test, item_genres=genres),
        "popularity": evaluate(popularity, seen, test, item_genres=genres),
        "pipeline": evaluate_bundle(hybrid, train, valid, test)["hybrid"],
    }


def test_hybrid_ndcg_beats_popularity_on_demo_data(demo_metrics) -> None:
    assert demo_metrics["hybrid"]["ndcg@10"] > 1.5 * demo_metrics["popularity"]["ndcg@10"]


def test_hybrid_does_not_collapse_onto_blockbusters_on_demo_data(demo_metrics) -> None:
    hybrid, popularity = demo_metrics["hybrid"], demo_metrics["popularity"]
    assert hybrid["coverage@10"] >= 2 * popularity["coverage@10"]
    assert hybrid["pop_lift@10"] < popularity["pop_lift@10"]
    assert hybrid["novelty@10"] > popularity["novelty@10"]


def test_pipeline_evaluation_reports_the_same_beyond_accuracy_metrics(demo_metrics) -> None:
    pipeline, direct = demo_metrics["pipeline"], demo_metrics["hybrid"]
    for key in ("ndcg@10", "coverage@10", "diversity@10", "novelty@10", "arp@10", "pop_lift@10"):
        assert pipeline[key] == pytest.approx(direct[key]), key
