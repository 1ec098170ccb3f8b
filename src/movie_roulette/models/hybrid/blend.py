"""Standardising component scores for the blend: each component's scores on its own scale
(`score_scale`: "raw" or "log1p", a class attribute of the component, never its name), z-scored
per user over the candidate movies; movies a component does not know get its lowest candidate
z-score. Fold-in z-scores are scaled down to the validation users' typical top (`calibrate`)."""

from __future__ import annotations

import numpy as np

from movie_roulette.models.component_api import ScoreScale


def scaled(scale: ScoreScale, values: np.ndarray) -> np.ndarray:
    """Scores on the scale the blend uses ("log1p": counts, read as log(1 + count))."""
    if scale == "log1p":
        return np.log1p(np.clip(values, 0, None))
    return values


def aligned(values: np.ndarray, positions: np.ndarray, scale: ScoreScale) -> np.ndarray:
    """A component's scores over its own movies re-indexed to the blend's movies (`positions`:
    the component's position of each blend movie, -1 = unknown -> NaN), on the blend's scale.
    `values` may hold one row (1-D) or one row per user (2-D)."""
    values = np.asarray(values, np.float64)
    ok = positions >= 0
    out = np.full((*values.shape[:-1], len(positions)), np.nan)
    out[..., ok] = values[..., positions[ok]]
    return scaled(scale, out)


def zstats(values: np.ndarray, candidates: np.ndarray) -> tuple[float, float, float] | None:
    """(mean, std, lowest z) of the finite values at candidate positions; None when fewer than
    two are finite or they do not vary."""
    vals = values[candidates]
    vals = vals[np.isfinite(vals)]
    if len(vals) < 2:
        return None
    mean, std = vals.mean(), vals.std()
    if std <= 1e-12:
        return None
    return float(mean), float(std), float((vals.min() - mean) / std)


def zscore(values: np.ndarray, candidates: np.ndarray) -> np.ndarray:
    """z-score over candidate positions; NaN (unknown to the component) -> lowest candidate z;
    all zeros when `zstats` gives None."""
    stats = zstats(values, candidates)
    if stats is None:
        return np.zeros(len(values), np.float64)
    mean, std, floor = stats
    z = (values - mean) / std
    return np.where(np.isfinite(z), z, floor)


def calibrate(z: np.ndarray, candidates: np.ndarray, ref: float | None) -> np.ndarray:
    """Scale z down so the top candidate's z is at most `ref` (the validation users' median
    top z of this component); order within the component is kept."""
    if ref is None or not candidates.any():
        return z
    top = float(z[candidates].max())
    return z * (ref / top) if top > ref > 0 else z
