"""Stores a trained model bundle as a ZenML artifact using the one bundle format."""

from __future__ import annotations

import os
import tempfile
from typing import Any, ClassVar

from zenml.enums import ArtifactType
from zenml.io import fileio
from zenml.materializers.base_materializer import BaseMaterializer

from movie_roulette import bundle
from movie_roulette.bundle import ModelBundle


def _copy_tree(src: str, dst: str) -> None:
    fileio.makedirs(dst)
    for name in fileio.listdir(src):
        name = name.decode() if isinstance(name, bytes) else name
        s, d = os.path.join(src, name), os.path.join(dst, name)
        if fileio.isdir(s):
            _copy_tree(s, d)
        else:
            fileio.copy(s, d, overwrite=True)


class ModelBundleMaterializer(BaseMaterializer):
    ASSOCIATED_TYPES: ClassVar[tuple[type[Any], ...]] = (ModelBundle,)
    ASSOCIATED_ARTIFACT_TYPE: ClassVar[ArtifactType] = ArtifactType.MODEL

    def load(self, data_type: type[Any]) -> ModelBundle:
        with tempfile.TemporaryDirectory() as tmp:
            local = os.path.join(tmp, "bundle")
            _copy_tree(os.path.join(self.uri, "bundle"), local)
            return bundle.load(local)

    def save(self, data: ModelBundle) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            local = os.path.join(tmp, "bundle")
            bundle.save(
                local,
                data.model,
                data.catalogue,
                data.manifest.get("metadata", {}),
                reviews=data.reviews,
                sentiment=data.sentiment,
            )
            _copy_tree(local, os.path.join(self.uri, "bundle"))

    def extract_metadata(self, data: ModelBundle) -> dict[str, Any]:
        return {
            "schema_version": bundle.SCHEMA_VERSION,
            "components": ",".join(data.model.components),
            "movies": len(data.catalogue),
            "reviews": 0 if data.reviews is None else len(data.reviews),
        }
