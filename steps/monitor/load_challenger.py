"""The running experiment's challenger as a bundle (its registered version), for its model card."""

import tempfile
from pathlib import Path
from typing import Annotated, Any

from zenml import step

from movie_roulette import bundle
from movie_roulette.bundle import ModelBundle
from movie_roulette.config import PipelineConfig
from serving.registry import download_bundle


@step(enable_cache=False)
def load_challenger(
    experiment_verdict: dict[str, Any], config: PipelineConfig
) -> Annotated[ModelBundle, "challenger_bundle"]:
    version = str(experiment_verdict["versions"]["challenger"])
    with tempfile.TemporaryDirectory() as tmp:
        return bundle.load(download_bundle(config.model_name, version, Path(tmp)))
