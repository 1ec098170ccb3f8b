"""Rows of sparse and dense matrices, summed or gathered without building a matrix per request.

The served scoring paths (EASE, item-kNN, content, the explainer) sum a user's history rows:
these helpers do it without copying the rows (`sum_rows`) or constructing scipy matrices, whose
checks cost more than the arithmetic for the few hundred rows of one request (`row_entries`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import sparse


def one_row(columns: np.ndarray, values: np.ndarray | None, width: int, dtype: Any) -> Any:
    """A 1 x `width` CSR row with `values` (None: ones) at `columns`."""
    data = np.ones(len(columns), dtype) if values is None else np.asarray(values, dtype)
    indptr = np.array([0, len(columns)], np.int64)
    return sparse.csr_matrix((data, np.asarray(columns, np.int64), indptr), shape=(1, width))


def index_arrays(matrix: Any) -> tuple[np.ndarray, np.ndarray]:
    """(indices, indptr) of a CSR/CSC matrix in one index dtype, as a bundle stores them: int32
    while the entries fit, else int64. scipy builds a loaded matrix with one index dtype, so an
    int64 indptr next to int32 indices would be narrowed into a private copy in each server
    worker instead of staying a shared read-only mapping (docs/scale.md section 5)."""
    dtype = np.int32 if matrix.nnz < np.iinfo(np.int32).max else np.int64
    return matrix.indices.astype(dtype, copy=False), matrix.indptr.astype(dtype, copy=False)


def row_entries(indptr: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(positions in a CSR matrix's indices/data of the entries of `rows`, in the order of
    `rows`; the number of entries of each row): the rows' entries without building a matrix."""
    rows = np.asarray(rows, np.int64)
    starts = indptr[rows]
    lengths = indptr[rows + 1] - starts
    shift = np.repeat(starts - (np.cumsum(lengths) - lengths), lengths)
    return shift + np.arange(int(lengths.sum())), lengths


def sum_rows(matrix: np.ndarray, rows: np.ndarray, weights: np.ndarray | None) -> np.ndarray:
    """`weights @ matrix[rows]` (weights None: the plain sum of the rows) without copying them:
    a one-row sparse vector times the dense matrix, which adds the rows one after another in the
    matrix's precision. The plain sum is bit for bit `matrix[rows].sum(axis=0)` (numpy adds the
    rows of a C-ordered block in the same order) at half the cost: a served request sums ~130
    rows of each EASE matrix (3 MB) and no longer copies them first."""
    if len(rows) == 1:  # one rated movie (`similar`, a first rating): the row itself, no matrix
        row = np.array(matrix[int(rows[0])])
        return row if weights is None else row * np.asarray(weights, matrix.dtype)[0]
    return np.asarray(one_row(rows, weights, matrix.shape[0], matrix.dtype) @ matrix).ravel()


def rows_dot(matrix: Any, rows: np.ndarray, vector: np.ndarray) -> np.ndarray:
    """`matrix[rows] @ vector` (float64) for a CSR or dense matrix, without building the rows'
    sub-matrix (scipy's fancy row indexing cost more than the products for a user's history)."""
    rows = np.asarray(rows, np.int64)
    if not sparse.issparse(matrix):
        return np.asarray(matrix[rows] @ vector, np.float64)
    take, lengths = row_entries(matrix.indptr, rows)
    products = matrix.data[take] * np.asarray(vector, np.float64)[matrix.indices[take]]
    return np.bincount(np.repeat(np.arange(len(rows)), lengths), products, minlength=len(rows))
