"""whylogs profiles: serialisable views, readable summaries, reference vs current."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from movie_roulette.monitoring.profiles import (
    compare_profiles,
    comparison_html,
    deserialize_profile,
    profile_frame,
    profile_summary,
    serialize_profile,
)


def test_profiles_round_trip_and_summarise() -> None:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {"rating": rng.normal(3.5, 1.0, 2000), "genre": rng.choice(["a", "b"], 2000)}
    )
    view = deserialize_profile(serialize_profile(profile_frame(frame)))
    summary = profile_summary(view)
    assert summary.loc["rating", "counts/n"] == 2000
    assert summary.loc["rating", "distribution/mean"] == pytest.approx(
        frame["rating"].mean(), rel=1e-6
    )
    assert pd.isna(summary.loc["genre", "distribution/mean"])
    assert summary.loc["genre", "frequent_items/frequent_strings"].startswith(("a (", "b ("))


def test_comparison_shows_the_change_in_mean_and_nulls() -> None:
    ref = profile_frame(pd.DataFrame({"rating": [3.0, 4.0, 5.0, 4.0]}))
    cur = profile_frame(pd.DataFrame({"rating": [1.0, 2.0, np.nan, None]}))
    table = compare_profiles(ref, cur)
    assert table.loc["rating", "mean_change"] == pytest.approx(1.5 - 4.0)
    assert table.loc["rating", "current_null_share"] == pytest.approx(0.5)
    assert "<table" in comparison_html(table)


def test_damaged_profile_bytes_raise_a_clear_error() -> None:
    with pytest.raises(ValueError, match="not a whylogs profile"):
        deserialize_profile(b"definitely not a profile")
