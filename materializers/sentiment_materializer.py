"""Stores the review sentiment model in its plain format (JSON meta + .npz, no pickle)."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from zenml.enums import ArtifactType
from zenml.io import fileio
from zenml.materializers.base_materializer import BaseMaterializer

from movie_roulette.models.sentiment import SentimentModel

META, ARRAYS = "sentiment_meta.json", "sentiment_arrays.npz"


class SentimentModelMaterializer(BaseMaterializer):
    ASSOCIATED_TYPES: ClassVar[tuple[type[Any], ...]] = (SentimentModel,)
    ASSOCIATED_ARTIFACT_TYPE: ClassVar[ArtifactType] = ArtifactType.MODEL

    def load(self, data_type: type[Any]) -> SentimentModel:
        with tempfile.TemporaryDirectory() as tmp:
            for name in (META, ARRAYS):
                fileio.copy(os.path.join(self.uri, name), os.path.join(tmp, name))
            meta = json.loads(Path(tmp, META).read_text(encoding="utf-8"))
            with np.load(os.path.join(tmp, ARRAYS), allow_pickle=False) as data:
                arrays = {k: data[k] for k in data.files}
        return SentimentModel.from_state(meta, arrays)

    def save(self, data: SentimentModel) -> None:
        meta, arrays = data.get_state()
        with tempfile.TemporaryDirectory() as tmp:
            with open(os.path.join(tmp, META), "w", encoding="utf-8") as handle:
                json.dump(meta, handle)
            np.savez_compressed(os.path.join(tmp, ARRAYS), **arrays)
            for name in (META, ARRAYS):
                fileio.copy(os.path.join(tmp, name), os.path.join(self.uri, name), overwrite=True)

    def extract_metadata(self, data: SentimentModel) -> dict[str, Any]:
        return {"C": data.C, "features": len(data.coef)}
