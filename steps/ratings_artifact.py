"""The metadata on a "ratings" artifact: written by each step that produces one (`load_ratings`,
`prepare_ratings_spark`, `load_continuous_data`), read by `register_model` without loading the
frame (hashing 25M rows there held the whole frame: ~0.8 GB)."""

from typing import Any

import pandas as pd
from zenml import log_metadata
from zenml.artifacts.unmaterialized_artifact import UnmaterializedArtifact

from movie_roulette.fingerprint import frame_checksum

NAME = "ratings"  # the producing steps' output name
SHA256 = "sha256"


def ratings_facts(ratings: pd.DataFrame) -> dict[str, Any]:
    """Rows, users, movies and the frame's checksum."""
    return {
        "rows": len(ratings),
        "users": int(ratings["user_id"].nunique()),
        "movies": int(ratings["movie_id"].nunique()),
        SHA256: frame_checksum(ratings),
    }


def log_on_ratings_artifact(facts: dict[str, Any]) -> None:
    """Log `facts` (with the checksum) on the running step's "ratings" output."""
    if not facts.get(SHA256):
        raise ValueError(f"ratings metadata without {SHA256!r}: register_model needs it")
    log_metadata(metadata=facts, infer_artifact=True, artifact_name=NAME)


def logged_checksum(ratings: UnmaterializedArtifact) -> str:
    """The checksum the producing step logged on the ratings artifact."""
    logged = ratings.run_metadata.get(SHA256)
    if not isinstance(logged, str) or not logged:
        raise ValueError(
            f"The ratings artifact {ratings.name!r} (version {ratings.version}) has no "
            f"{SHA256!r} metadata: the step that produced it must log it "
            "(steps.ratings_artifact.log_on_ratings_artifact(ratings_facts(frame)), "
            "as load_ratings does)."
        )
    return logged
