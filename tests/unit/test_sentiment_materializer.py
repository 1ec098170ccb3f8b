"""The sentiment model's ZenML materializer round-trips the model and leaves no file open (the
warning filters make a leaked file a test failure)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from materializers.sentiment_materializer import SentimentModelMaterializer
from movie_roulette.models.sentiment import SentimentModel


def test_save_then_load_gives_the_same_predictions(tmp_path: Path) -> None:
    texts = ["a great film", "loved it", "awful and dull", "boring mess"] * 5
    model = SentimentModel(C=1.0).fit(texts, [1, 1, 0, 0] * 5)
    materializer = SentimentModelMaterializer(str(tmp_path))
    materializer.save(model)
    loaded = materializer.load(SentimentModel)
    probe = ["great", "dull film"]
    np.testing.assert_allclose(loaded.predict_proba(probe), model.predict_proba(probe))
