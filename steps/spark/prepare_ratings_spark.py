"""engine: spark: load, type-check, deduplicate, validate (GX on Spark) and split the ratings.

One step because a Spark DataFrame cannot cross a step boundary. Nothing is collected to the
driver: each of the four outputs is `SparkRatings`, which Spark itself writes as Parquet into
the artifact store (`SparkRatingsMaterializer`), with the facts `register_model` reads (rows,
users, movies, sha256) as the artifact's metadata. Later steps load them as pandas frames or as
the Parquet files (`RatingsParquet`), as their inputs ask.
Never cached: Spark reads the ratings files itself (no fingerprint step in front of it).
"""

from typing import Annotated, Any

from zenml import log_metadata, step
from zenml.types import HTMLString

from materializers.spark_ratings_materializer import SparkRatingsMaterializer
from movie_roulette.config import PipelineConfig
from movie_roulette.spark.parquet import SparkRatings
from movie_roulette.spark.training import prepare_ratings


@step(
    enable_cache=False,
    output_materializers={
        n: SparkRatingsMaterializer for n in ("ratings", "train", "valid", "test")
    },
)
def prepare_ratings_spark(
    config: PipelineConfig,
) -> tuple[
    Annotated[SparkRatings, "ratings"],
    Annotated[SparkRatings, "train"],
    Annotated[SparkRatings, "valid"],
    Annotated[SparkRatings, "test"],
    Annotated[dict[str, Any], "ratings_validation"],
    Annotated[HTMLString, "ratings_validation_report"],
]:
    out = prepare_ratings(config)
    log_metadata(metadata={**out.metadata(), "master": config.spark.master})
    report = out.validation
    return (
        out.ratings,
        out.train,
        out.valid,
        out.test,
        report.to_dict(),
        HTMLString(report.to_html()),
    )
