"""whylogs profiles of the reference and current drift features (stored as artifacts)."""

from typing import Annotated

import pandas as pd
from whylogs.core import DatasetProfileView
from zenml import step
from zenml.types import HTMLString

from materializers.whylogs_materializer import WhylogsProfileMaterializer
from movie_roulette.monitoring.profiles import compare_profiles, comparison_html, profile_frame


@step(
    output_materializers={
        "reference_profile": WhylogsProfileMaterializer,
        "current_profile": WhylogsProfileMaterializer,
    }
)
def profile_data(
    reference_features: pd.DataFrame, current_features: pd.DataFrame
) -> tuple[
    Annotated[DatasetProfileView, "reference_profile"],
    Annotated[DatasetProfileView, "current_profile"],
    Annotated[HTMLString, "profile_comparison"],
]:
    reference, current = profile_frame(reference_features), profile_frame(current_features)
    table = compare_profiles(reference, current)
    return reference, current, HTMLString(comparison_html(table, "whylogs: reference vs current"))
