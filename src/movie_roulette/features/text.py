"""Item content features: one TF-IDF block per catalogue field, weighted and l2-normalised.

Each field gets its own vocabulary so that a director's name never collides with a plot word:
pipe-separated fields (genres, director, cast, keywords) become whole-name tokens ("tom_hanks"),
the overview becomes English words without stop words. Every block is TF-IDF with l2-normalised
rows, multiplied by the field weight, and the blocks are stacked side by side; the final rows are
l2-normalised again, so the dot product of two rows is their cosine similarity. Field weighting
this way is the same idea as repeating genres/director in a single document, but exact and
independent of document length.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize

from movie_roulette import columns as C

FIELD_WEIGHTS: dict[str, float] = {
    C.GENRES: 1.0,
    C.DIRECTOR: 0.6,
    C.CAST: 0.5,
    C.KEYWORDS: 0.7,
    C.OVERVIEW: 0.5,
}
LIST_FIELDS = (C.GENRES, C.DIRECTOR, C.CAST, C.KEYWORDS)
_IGNORED_TOKENS = {"", "(no_genres_listed)", "no_genres_listed"}
_SPACE = re.compile(r"\s+")


def split_names(value: object) -> list[str]:
    """'Tom Hanks|Tim Allen' -> ['tom_hanks', 'tim_allen'] (lower case, no duplicates)."""
    if not isinstance(value, str) or not value:
        return []
    out: list[str] = []
    for part in value.split("|"):
        token = _SPACE.sub("_", part.strip().lower())
        if token not in _IGNORED_TOKENS and token not in out:
            out.append(token)
    return out


def split_genres(value: object) -> list[str]:
    """Genre names as written in the catalogue ('Action|Sci-Fi' -> ['Action', 'Sci-Fi'])."""
    if not isinstance(value, str) or not value:
        return []
    return [g.strip() for g in value.split("|") if g.strip() and g.strip() != "(no genres listed)"]


def _aligned(catalogue: pd.DataFrame, movie_ids: np.ndarray, field: str) -> list[str]:
    if field not in catalogue.columns:
        return [""] * len(movie_ids)
    series = catalogue.drop_duplicates(C.MOVIE_ID).set_index(C.MOVIE_ID)[field]
    values = series.reindex(movie_ids)
    return ["" if not isinstance(v, str) else v for v in values.tolist()]


def _field_block(field: str, docs: Sequence[str], max_features: int) -> sparse.csr_matrix:
    if field in LIST_FIELDS:
        vec = TfidfVectorizer(analyzer=split_names, max_features=max_features)
    else:
        vec = TfidfVectorizer(
            stop_words="english", min_df=2, max_features=max_features, sublinear_tf=True
        )
    try:
        return sparse.csr_matrix(vec.fit_transform(docs), dtype=np.float32)
    except ValueError:  # empty vocabulary: no usable text in this field
        return sparse.csr_matrix((len(docs), 0), dtype=np.float32)


def build_item_matrix(
    catalogue: pd.DataFrame | None,
    movie_ids: np.ndarray,
    weights: Mapping[str, float] | None = None,
    max_features: int = 20000,
) -> sparse.csr_matrix:
    """Rows aligned with `movie_ids`, l2-normalised (all-zero for movies without metadata)."""
    movie_ids = np.asarray(movie_ids, np.int64)
    weights = dict(FIELD_WEIGHTS if weights is None else weights)
    unknown = sorted(set(weights) - set(FIELD_WEIGHTS))
    if unknown:
        raise ValueError(f"weights: unknown field(s) {unknown}; use {sorted(FIELD_WEIGHTS)}.")
    if max_features < 1:
        raise ValueError(f"max_features: must be >= 1, got {max_features}.")
    if catalogue is None or len(catalogue) == 0 or C.MOVIE_ID not in catalogue.columns:
        return sparse.csr_matrix((len(movie_ids), 0), dtype=np.float32)
    blocks = []
    for field, weight in weights.items():
        if weight <= 0:
            continue
        block = _field_block(field, _aligned(catalogue, movie_ids, field), max_features)
        if block.shape[1]:
            blocks.append(block * np.float32(weight))
    if not blocks:
        return sparse.csr_matrix((len(movie_ids), 0), dtype=np.float32)
    matrix = normalize(sparse.hstack(blocks, format="csr"), norm="l2", axis=1)
    matrix = sparse.csr_matrix(matrix, dtype=np.float32)
    matrix.sort_indices()
    return matrix
