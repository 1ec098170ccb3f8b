"""Feature engineering: the weighted content text each movie is described by."""

from typing import Annotated

import pandas as pd
from zenml import log_metadata, step

from materializers.frame_materializer import FrameMaterializer
from movie_roulette.features.text import add_content_text


@step(output_materializers=FrameMaterializer)
def build_content_features(catalogue: pd.DataFrame) -> Annotated[pd.DataFrame, "features"]:
    features = add_content_text(catalogue)
    empty = int((features["content_text"].str.len() == 0).sum())
    log_metadata(metadata={"movies": len(features), "movies_without_content": empty})
    return features
