"""engine: spark: the ratings prepared on Spark, and the hybrid with Spark ALS components.

`prepare_ratings` reads, type-checks, deduplicates, validates (Great Expectations on the Spark
DataFrame) and splits the ratings on Spark; nothing is collected: Spark writes the ratings and
each part as a Parquet artifact (`spark.parquet`), which later steps read. `train_spark_hybrid`
composes the same `HybridRecommender` as the local path over the public component API, with
`pyspark.ml` ALS (explicit: rating prediction; implicit preferences: ranking) in place of the
local collaborative components; content and popularity stay as they are. The fitted ALS
components hold numpy factors only, so the bundle, the model server, the web app and continuous
training read it like any other.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import Any

import pandas as pd
from pyspark import StorageLevel
from pyspark.sql import functions as F

from movie_roulette.config import PipelineConfig
from movie_roulette.models.base import Recommender
from movie_roulette.models.hybrid import HybridRecommender, train_hybrid
from movie_roulette.models.hybrid.components import content_components
from movie_roulette.models.hybrid.training import FitScope, no_scope
from movie_roulette.ratings_source import Part as SourcePart
from movie_roulette.ratings_source import RatingFiles, RatingsSource, as_source
from movie_roulette.spark import prep
from movie_roulette.spark.als import als_rows_from, make_spark_als_components
from movie_roulette.spark.parquet import CacheLease, RatingsParquet, SparkRatings
from movie_roulette.spark.session import get_session, spark_errors
from movie_roulette.spark.split import PART, TEST, TRAIN, VALID, split_labels
from movie_roulette.spark.validation import validate_ratings_spark
from movie_roulette.validation.report import ValidationReport


@dataclass(frozen=True)
class PreparedRatings:
    """What the Spark data preparation hands to the rest of the pipeline: the rows stay on
    Spark (cached until each is written, `parquet.write_ratings`), nothing is collected."""

    ratings: SparkRatings  # cleaned (typed, deduplicated): every row, in a split or not
    train: SparkRatings
    valid: SparkRatings
    test: SparkRatings
    validation: ValidationReport
    prep: prep.PrepStats
    seconds: dict[str, float]

    def metadata(self) -> dict[str, Any]:
        return {
            "rows": self.ratings.rows,
            "train_rows": self.train.rows,
            "valid_rows": self.valid.rows,
            "test_rows": self.test.rows,
            "prep": {k: v for k, v in self.prep.to_dict().items() if k != "bad_type_examples"},
            "seconds": self.seconds,
        }

    def parts(self) -> dict[str, SparkRatings]:
        return {
            "ratings": self.ratings,
            "train": self.train,
            "valid": self.valid,
            "test": self.test,
        }


def prepare_ratings(cfg: PipelineConfig) -> PreparedRatings:
    """Ratings -> clean -> GX validation -> split (labelled), on Spark. A failed validation
    skips the split (empty parts): the pipeline's validation gate then stops the run. The
    cleaned and labelled rows stay cached until all four parts are written (or released)."""
    seconds: dict[str, float] = {}
    start = time.perf_counter()
    spark = get_session(cfg.spark)
    spark.catalog.clearCache()  # (what an earlier, unfinished preparation left)
    seconds["session"] = round(time.perf_counter() - start, 3)
    start = time.perf_counter()
    clean, stats = prep.clean_ratings(prep.load_ratings(spark, cfg))
    clean = clean.persist(StorageLevel.MEMORY_AND_DISK)
    seconds["prepare"] = round(time.perf_counter() - start, 3)
    start = time.perf_counter()
    report = validate_ratings_spark(clean, stats)
    seconds["validate"] = round(time.perf_counter() - start, 3)
    start = time.perf_counter()
    lease = CacheLease(spark.catalog.clearCache, holders=4)
    if report.success:
        labelled = split_labels(clean, cfg.split, cfg.seed).persist(StorageLevel.MEMORY_AND_DISK)
        with spark_errors("counting the split"):
            sizes = {
                int(r[PART]): int(r["n"])
                for r in labelled.groupBy(PART).agg(F.count(F.lit(1)).alias("n")).collect()
            }
        parts = [
            SparkRatings(
                labelled.where(F.col(PART) == label).drop(PART), sizes.get(label, 0), lease
            )
            for label in (TRAIN, VALID, TEST)
        ]
        ratings = SparkRatings(labelled.drop(PART), sum(sizes.values()), lease)
    else:
        with spark_errors("counting the ratings"):
            n = clean.count()
        ratings = SparkRatings(clean, n, lease)
        parts = [SparkRatings(clean.limit(0), 0, lease) for _ in range(3)]
    seconds["split"] = round(time.perf_counter() - start, 3)
    train, valid, test = parts
    return PreparedRatings(ratings, train, valid, test, report, stats, seconds)


def make_spark_components(cfg: PipelineConfig) -> dict[str, Recommender]:
    """Spark ALS (explicit and implicit, as enabled) + content, genre taste (when enabled) and
    popularity."""
    components: dict[str, Recommender] = dict(make_spark_als_components(cfg.spark, cfg.seed))
    return {**components, **content_components(cfg.model)}


# what a step of the Spark engine is given for a split part: the prepare step's files, or a
# frame or source (continuous training's batches; a run whose parts were written by the local path)
Part = SourcePart | RatingsParquet


@dataclass(frozen=True)
class SparkParts:
    """The split parts as the hybrid reads them on the driver (`RatingsSource`s: a part that is
    files is read a batch at a time, never held as a frame), and the `FitScope` under which
    Spark ALS reads the parts that are files on Spark where they are; `fits` records, per ALS
    fit, where its rows came from (`AlsRows`, as dicts)."""

    sources: dict[str, RatingsSource]
    scope: FitScope
    fits: list[dict[str, Any]]


def spark_parts(parts: dict[str, Part]) -> SparkParts:
    sources = {
        name: RatingFiles.of(part.path, part.files, part.opener)
        if isinstance(part, RatingsParquet)
        else as_source(part)
        for name, part in parts.items()
    }
    files = {name: part for name, part in parts.items() if isinstance(part, RatingsParquet)}
    fits: list[dict[str, Any]] = []
    if len(files) < len(parts):
        return SparkParts(sources, no_scope, fits)

    @contextmanager
    def scope(names: tuple[str, ...]) -> Iterator[None]:
        with als_rows_from([files[name] for name in names]) as done:
            yield
        fits.extend({"parts": "+".join(names), **asdict(fit)} for fit in done)

    return SparkParts(sources, scope, fits)


def train_spark_hybrid(
    train: Part,
    valid: Part,
    catalogue: pd.DataFrame | None,
    cfg: PipelineConfig,
    use_sentiment: bool | None = False,
) -> HybridRecommender:
    """`models.hybrid.train_hybrid` (fit on train, tune on valid, refit on train + valid) over
    `make_spark_components`, on the run's SparkSession; ALS reads the parts that are files on
    Spark (`spark_parts`). `use_sentiment` as there (None: add the review-sentiment
    component when the catalogue carries scored reviews)."""
    get_session(cfg.spark)
    parts = spark_parts({"train": train, "valid": valid})
    model = train_hybrid(
        parts.sources["train"],
        parts.sources["valid"],
        catalogue,
        cfg.model,
        seed=cfg.seed,
        k=cfg.evaluation.k,
        threshold=cfg.evaluation.relevance_threshold,
        use_sentiment=use_sentiment,
        sentiment_prior=cfg.sentiment.prior_strength,
        components=make_spark_components(cfg),
        fit_scope=parts.scope,
    )
    model.fit_info["engine"] = "spark"
    model.fit_info["als_rows"] = parts.fits
    return model
