"""Stores a `PreparedProduction` (production made comparable for one run): its summary as JSON
and its bundle, when there is one, in the one bundle format (`ModelBundleMaterializer`)."""

from __future__ import annotations

import json
import os
from typing import Any, ClassVar

from zenml.enums import ArtifactType
from zenml.io import fileio
from zenml.materializers.base_materializer import BaseMaterializer

from materializers.bundle_materializer import ModelBundleMaterializer
from movie_roulette.bundle import ModelBundle
from movie_roulette.evaluation.production import PreparedProduction

SUMMARY = "production.json"


class PreparedProductionMaterializer(BaseMaterializer):
    ASSOCIATED_TYPES: ClassVar[tuple[type[Any], ...]] = (PreparedProduction,)
    ASSOCIATED_ARTIFACT_TYPE: ClassVar[ArtifactType] = ArtifactType.MODEL

    def _bundles(self) -> ModelBundleMaterializer:
        return ModelBundleMaterializer(self.uri, artifact_store=self.artifact_store)

    def load(self, data_type: type[Any]) -> PreparedProduction:
        with fileio.open(os.path.join(self.uri, SUMMARY), "r") as f:
            summary = json.load(f)
        has_bundle = summary["version"] is not None
        return PreparedProduction(
            version=summary["version"],
            bundle=self._bundles().load(ModelBundle) if has_bundle else None,
            notes=tuple(summary["notes"]),
            refit_seconds=float(summary["refit_seconds"]),
        )

    def save(self, data: PreparedProduction) -> None:
        with fileio.open(os.path.join(self.uri, SUMMARY), "w") as f:
            json.dump(data.summary(), f)
        if data.bundle is not None:
            self._bundles().save(data.bundle)

    def extract_metadata(self, data: PreparedProduction) -> dict[str, Any]:
        return {
            "production_version": data.version or "none",
            "refitted": data.refitted,
            "refit_seconds": data.refit_seconds,
        }
