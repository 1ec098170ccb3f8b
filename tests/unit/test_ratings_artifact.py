"""The ratings artifact's metadata: what its producers log and what register_model reads back."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd
import pytest

from movie_roulette.fingerprint import frame_checksum
from steps import ratings_artifact


def test_facts_count_rows_users_movies_and_hash_the_frame() -> None:
    ratings = pd.DataFrame(
        {
            "user_id": [1, 1, 2],
            "movie_id": [5, 6, 5],
            "rating": [4.0, 3.0, 2.5],
            "timestamp": [1, 2, 3],
        }
    )
    assert ratings_artifact.ratings_facts(ratings) == {
        "rows": 3,
        "users": 2,
        "movies": 2,
        "sha256": frame_checksum(ratings),
    }


def test_metadata_without_the_checksum_is_refused_before_anything_is_logged() -> None:
    with pytest.raises(ValueError, match="without 'sha256'"):
        ratings_artifact.log_on_ratings_artifact({"rows": 3})


def test_the_logged_checksum_is_read_back() -> None:
    artifact = SimpleNamespace(name="ratings", version="7", run_metadata={"sha256": "ab12"})
    assert ratings_artifact.logged_checksum(artifact) == "ab12"


@pytest.mark.parametrize("metadata", [{}, {"sha256": ""}, {"sha256": 5}])
def test_an_artifact_without_the_checksum_is_one_error_naming_the_fix(metadata: dict) -> None:
    artifact = SimpleNamespace(name="ratings", version="7", run_metadata=metadata)
    with pytest.raises(ValueError) as error:
        ratings_artifact.logged_checksum(artifact)
    message = str(error.value)
    assert "'ratings' (version 7)" in message and "log_on_ratings_artifact" in message
