from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from movie_roulette.features.text import build_item_matrix, split_genres, split_names
from tests.unit.models.tiny import tiny_catalogue


def test_split_names_normalises_and_drops_placeholders() -> None:
    assert split_names("Tom Hanks| Tim  Allen|tom hanks") == ["tom_hanks", "tim_allen"]
    assert split_names("(no genres listed)") == []
    assert split_names("") == []
    assert split_genres("Action|Sci-Fi") == ["Action", "Sci-Fi"]


def test_item_matrix_rows_are_unit_norm_and_aligned() -> None:
    cat = tiny_catalogue()
    ids = np.array([3, 1, 15, 999])  # 999 has no metadata
    m = build_item_matrix(cat, ids)
    norms = np.sqrt(np.asarray(m.multiply(m).sum(axis=1)).ravel())
    np.testing.assert_allclose(norms, [1, 1, 1, 0], atol=1e-6)
    sims = (m @ m.T).toarray()
    assert sims[0, 1] == pytest.approx(1.0, abs=1e-6)  # two identical action movies
    assert sims[0, 2] == pytest.approx(0.0, abs=1e-6)  # action vs comedy share nothing


def test_field_weights_change_similarity() -> None:
    cat = pd.DataFrame(
        {
            "movie_id": [1, 2],
            "genres": ["Drama", "Drama"],
            "director": ["A", "B"],
            "cast": ["", ""],
            "keywords": ["", ""],
            "overview": ["", ""],
        }
    )
    genre_heavy = build_item_matrix(cat, np.array([1, 2]), weights={"genres": 3.0, "director": 1.0})
    director_heavy = build_item_matrix(
        cat, np.array([1, 2]), weights={"genres": 1.0, "director": 3.0}
    )
    sim = lambda m: (m @ m.T).toarray()[0, 1]  # noqa: E731
    assert sim(genre_heavy) > sim(director_heavy)


def test_unknown_field_weight_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown field"):
        build_item_matrix(tiny_catalogue(), np.array([1]), weights={"plot": 1.0})


def test_missing_catalogue_gives_empty_features() -> None:
    assert build_item_matrix(None, np.array([1, 2])).shape == (2, 0)
