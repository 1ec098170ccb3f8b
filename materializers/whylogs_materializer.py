"""Stores whylogs profile views as ZenML artifacts (binary profile + an HTML summary)."""

from __future__ import annotations

import os
from typing import Any, ClassVar

from whylogs.core import DatasetProfileView
from zenml.enums import ArtifactType, VisualizationType
from zenml.materializers.base_materializer import BaseMaterializer

from movie_roulette.monitoring.profiles import (
    comparison_html,
    deserialize_profile,
    profile_summary,
    serialize_profile,
)

PROFILE_FILE = "profile.bin"


class WhylogsProfileMaterializer(BaseMaterializer):
    ASSOCIATED_TYPES: ClassVar[tuple[type[Any], ...]] = (DatasetProfileView,)
    ASSOCIATED_ARTIFACT_TYPE: ClassVar[ArtifactType] = ArtifactType.DATA_ANALYSIS

    def load(self, data_type: type[Any]) -> DatasetProfileView:
        with self.artifact_store.open(os.path.join(self.uri, PROFILE_FILE), "rb") as handle:
            return deserialize_profile(handle.read())

    def save(self, data: DatasetProfileView) -> None:
        with self.artifact_store.open(os.path.join(self.uri, PROFILE_FILE), "wb") as handle:
            handle.write(serialize_profile(data))

    def save_visualizations(self, data: DatasetProfileView) -> dict[str, VisualizationType]:
        path = os.path.join(self.uri, "profile.html")
        with self.artifact_store.open(path, "w") as handle:
            handle.write(comparison_html(profile_summary(data), "whylogs profile"))
        return {path: VisualizationType.HTML}

    def extract_metadata(self, data: DatasetProfileView) -> dict[str, Any]:
        summary = profile_summary(data)
        rows = int(summary["counts/n"].max()) if "counts/n" in summary and len(summary) else 0
        return {"columns": len(summary), "rows": rows}
