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


def catalogue_field(catalogue: pd.DataFrame, movie_ids: np.ndarray, field: str) -> list[str]:
    """The catalogue's `field` for each of `movie_ids` ("" where missing or not text)."""
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
        block = _field_block(field, catalogue_field(catalogue, movie_ids, field), max_features)
        if block.shape[1]:
            blocks.append(block * np.float32(weight))
    if not blocks:
        return sparse.csr_matrix((len(movie_ids), 0), dtype=np.float32)
    matrix = normalize(sparse.hstack(blocks, format="csr"), norm="l2", axis=1)
    matrix = sparse.csr_matrix(matrix, dtype=np.float32)
    matrix.sort_indices()
    return matrix


CONTENT_TEXT = "content_text"


def add_content_text(catalogue: pd.DataFrame) -> pd.DataFrame:
    """Feature engineering over the merged catalogue: normalised text fields plus `content_text`.

    Whitespace in the overview is collapsed, list fields are deduplicated case-insensitively, and
    `content_text` is the readable document each movie is described by (shown in explanations
    and searched by the web app). Returns a copy; the input is left unchanged.
    """
    missing = [c for c in (C.MOVIE_ID, *FIELD_WEIGHTS) if c not in catalogue.columns]
    if missing:
        raise ValueError(f"catalogue: missing column(s) {missing} needed for content features.")
    out = catalogue.copy()
    out[C.OVERVIEW] = out[C.OVERVIEW].fillna("").astype(str).str.replace(_SPACE, " ", regex=True)
    out[C.OVERVIEW] = out[C.OVERVIEW].str.strip()
    for field in LIST_FIELDS:
        out[field] = out[field].fillna("").astype(str).map(_dedupe_pipe)
    parts = [
        out[C.GENRES].str.replace("|", ", ", regex=False),
        ("Directed by " + out[C.DIRECTOR]).where(out[C.DIRECTOR] != "", ""),
        ("Starring " + out[C.CAST].str.replace("|", ", ", regex=False)).where(
            out[C.CAST] != "", ""
        ),
        out[C.KEYWORDS].str.replace("|", ", ", regex=False),
        out[C.OVERVIEW],
    ]
    text = parts[0]
    for part in parts[1:]:
        text = text.str.cat(part, sep=". ")
    out[CONTENT_TEXT] = text.str.replace(r"(\.\s*){2,}", ". ", regex=True).str.strip(". ")
    return out


def _dedupe_pipe(value: str) -> str:
    seen: set[str] = set()
    kept = []
    for part in value.split("|"):
        name = _SPACE.sub(" ", part).strip()
        if name and name.lower() not in seen:
            seen.add(name.lower())
            kept.append(name)
    return "|".join(kept)
