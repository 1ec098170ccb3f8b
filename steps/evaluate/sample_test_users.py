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


@step(output_materializers=FrameMaterializer)
def sample_test_users(
    test: pd.DataFrame, evaluation: EvaluationConfig, seed: int
) -> Annotated[pd.DataFrame, "evaluation_test"]:
    sampled = sample_user_rows(test, evaluation.max_users, seed)
    log_metadata(
        metadata={
            "test_users": int(test[C.USER_ID].nunique()),
            "evaluated_users": int(sampled[C.USER_ID].nunique()),
            "evaluated_rows": len(sampled),
        }
    )
    return sampled
