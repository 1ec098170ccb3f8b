"""Production, made comparable on this run's split once, for the model card and the promotion.

A served version was fitted on every rating, the candidate's test split included. When it saw
more than a few of the test ratings, its recipe is refitted on the candidate's training ratings
(`evaluation.production.prepare_production`). That refit is a whole training (at 25M ratings on
Spark, half an hour); this step does it once and hands the same comparable model to
`build_model_card` and `promote_model`, which used to refit it each.
"""

from typing import Annotated

import pandas as pd
from zenml import step

from materializers.production_materializer import PreparedProductionMaterializer
from movie_roulette.config import PipelineConfig
from movie_roulette.evaluation.production import PreparedProduction, prepare_production
from movie_roulette.evaluation.seen import seen_ratings
from movie_roulette.ratings_source import RatingsSource
from movie_roulette.spark.session import use_settings
from serving.registry import load_production_bundle


@step(enable_cache=False, output_materializers=PreparedProductionMaterializer)
def load_comparable_production(
    train: RatingsSource,
    valid: RatingsSource,
    test: pd.DataFrame,
    config: PipelineConfig,
) -> Annotated[PreparedProduction, "comparable_production"]:
    """Never cached: production changes between runs while the data may not. A Spark-fitted
    production refits on the config's Spark session (`spark.master`), not a default one."""
    use_settings(config.spark)
    seen = seen_ratings(train, valid, config.model.refit_on_train_and_valid)
    prepared = prepare_production(load_production_bundle(config.model_name), seen, test)
    print(prepared.describe())
    return prepared
