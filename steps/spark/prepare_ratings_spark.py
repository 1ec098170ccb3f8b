"""engine: spark: load, type-check, deduplicate, validate (GX on Spark) and split the ratings.

One step because a Spark DataFrame cannot cross a step boundary: the split frames leave it.
Never cached: Spark reads the ratings files itself (no fingerprint step in front of it).
"""

from typing import Annotated, Any

import pandas as pd
from zenml import log_metadata, step
from zenml.types import HTMLString

from materializers.frame_materializer import FrameMaterializer
from movie_roulette.config import PipelineConfig
from movie_roulette.spark.training import prepare_ratings
from steps.ratings_artifact import log_on_ratings_artifact, ratings_facts


@step(
    enable_cache=False,
    output_materializers={n: FrameMaterializer for n in ("ratings", "train", "valid", "test")},
)
def prepare_ratings_spark(
    config: PipelineConfig,
) -> tuple[
    Annotated[pd.DataFrame, "ratings"],
    Annotated[pd.DataFrame, "train"],
    Annotated[pd.DataFrame, "valid"],
    Annotated[pd.DataFrame, "test"],
    Annotated[dict[str, Any], "ratings_validation"],
    Annotated[HTMLString, "ratings_validation_report"],
]:
    out = prepare_ratings(config)
    meta = out.metadata()
    facts = ratings_facts(out.ratings)
    log_metadata(metadata={**meta, **facts, "master": config.spark.master})
    log_on_ratings_artifact(facts)
    report = out.validation
    return (
        out.ratings,
        out.train,
        out.valid,
        out.test,
        report.to_dict(),
        HTMLString(report.to_html()),
    )
