"""Ratings that stay on Spark, written by Spark: the artifacts of `prepare_ratings_spark`.

The prepare step returns `SparkRatings` (a Spark DataFrame, never collected); `save` has Spark write
it as Parquet into the artifact's folder (`ratings.parquet/part-*.parquet`, sorted by user and
movie) and then reads the files back once, a batch at a time, for the artifact's metadata: rows,
users, movies and the `sha256` (`frame_checksum` of the frame) that `register_model` records. A step
loads the artifact as what its input asks for: `pd.DataFrame` (read with pyarrow, no Spark: the
local path's dtypes), `RatingsParquet` (the files, which Spark reads where they are) or
`RatingsSource` (the files read a batch at a time: the judging steps). So the Spark artifact store
must be one Spark can write to: a local folder as here, or a bucket with Hadoop's connector on
Spark's classpath (docs/spark.md).
"""

from __future__ import annotations

import json
import os
from typing import Any, ClassVar

import pandas as pd
from zenml.enums import ArtifactType, VisualizationType
from zenml.materializers.base_materializer import BaseMaterializer

from movie_roulette.ratings_source import RatingFiles, RatingsSource
from movie_roulette.spark.parquet import (
    RatingsFacts,
    RatingsParquet,
    SparkRatings,
    read_facts,
    read_frame,
    write_ratings,
)

FOLDER = "ratings.parquet"
FACTS = "facts.json"
SAMPLE_ROWS = 10


class SparkRatingsMaterializer(BaseMaterializer):
    ASSOCIATED_TYPES: ClassVar[tuple[type[Any], ...]] = (
        SparkRatings,
        RatingsParquet,
        pd.DataFrame,
        RatingsSource,  # the part files, read a batch at a time (the judging steps)
    )
    ASSOCIATED_ARTIFACT_TYPE: ClassVar[ArtifactType] = ArtifactType.DATA
    SKIP_REGISTRATION: ClassVar[bool] = True  # only where a step names it

    def _parquet(self) -> RatingsParquet:
        def listdir(path: str) -> list[str]:
            names = self.artifact_store.listdir(path)
            return [n.decode() if isinstance(n, bytes) else n for n in names]

        return RatingsParquet.at(
            os.path.join(self.uri, FOLDER),
            listdir=listdir,
            opener=lambda p: self.artifact_store.open(p, mode="rb"),
        )

    def load(self, data_type: type[Any]) -> pd.DataFrame | RatingsParquet | RatingsSource:
        parquet = self._parquet()
        if issubclass(data_type, RatingsSource):
            return RatingFiles.of(parquet.path, parquet.files, parquet.opener)
        if issubclass(data_type, pd.DataFrame):
            return read_frame(parquet)
        return parquet

    def save(self, data: SparkRatings) -> None:
        write_ratings(data, os.path.join(self.uri, FOLDER))
        facts = read_facts(self._parquet())
        if facts.rows != data.rows:
            raise RuntimeError(
                f"{self.uri}: Spark wrote {facts.rows:,} rows, the step counted {data.rows:,}: "
                "the ratings changed while they were prepared; rerun the step."
            )
        with self.artifact_store.open(os.path.join(self.uri, FACTS), mode="w") as f:
            json.dump(facts.to_dict(), f)

    def _facts(self) -> RatingsFacts:
        with self.artifact_store.open(os.path.join(self.uri, FACTS), mode="r") as f:
            return RatingsFacts(**json.load(f))

    def extract_metadata(self, data: Any) -> dict[str, Any]:
        facts = self._facts().to_dict()
        facts["shape"] = (facts["rows"], 4)
        return facts

    def save_visualizations(self, data: Any) -> dict[str, VisualizationType]:
        parquet = self._parquet()
        batch = next(parquet.batches(batch_size=SAMPLE_ROWS), None)
        sample = batch.slice(0, SAMPLE_ROWS).to_pandas() if batch is not None else pd.DataFrame()
        uri = os.path.join(self.uri, "sample.csv").replace("\\", "/")
        with self.artifact_store.open(uri, mode="w") as f:
            sample.to_csv(f, index=False)
        return {uri: VisualizationType.CSV}
