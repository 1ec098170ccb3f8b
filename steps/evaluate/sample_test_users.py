"""The test rows of a seeded sample of test users (`evaluation.max_users`): what the offline
evaluation, the model card and the promotion judge when the test split is too big to score
user by user (MovieLens 25M: 162k test users)."""

from typing import Annotated

import pandas as pd
from zenml import log_metadata, step

from materializers.frame_materializer import FrameMaterializer
from movie_roulette import columns as C
from movie_roulette.config import EvaluationConfig
from movie_roulette.evaluation.sampling import sample_user_rows
from movie_roulette.ratings_source import RatingsSource, as_source, distinct_values


@step(output_materializers=FrameMaterializer)
def sample_test_users(
    test: RatingsSource, evaluation: EvaluationConfig, seed: int
) -> Annotated[pd.DataFrame, "evaluation_test"]:
    """`test` as the artifact's files, read a batch at a time: only the sample's rows load."""
    sampled = sample_user_rows(test, evaluation.max_users, seed)
    log_metadata(
        metadata={
            "test_users": len(distinct_values([as_source(test)], C.USER_ID)),
            "evaluated_users": int(sampled[C.USER_ID].nunique()),
            "evaluated_rows": len(sampled),
        }
    )
    return sampled
