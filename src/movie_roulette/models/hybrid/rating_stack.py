"""The rating stack: a feature-weighted linear stack (Sill et al. 2009; least squares with
intercept, fitted on the validation split) of the components' rating predictions, the baseline
mu + bu + bi and the personal ranking components' z-scores (how likely the user is to watch the
movie at all), each also multiplied by the user's and the movie's centred log rating count, so
the mix can differ between heavy and light users and between popular and rare movies."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from movie_roulette import columns as C

BASELINE = "baseline"
INTERCEPT = "intercept"
Z_PREFIX = "z:"  # rating-stack feature: a ranking component's per-user z-score
ACTIVITY = ("user_activity", "movie_activity")  # centred log1p(rating count) meta-features

Features = Callable[[int, np.ndarray], dict[str, np.ndarray]]


def feature_names(raters: Sequence[str], rankers: Sequence[str]) -> list[str]:
    """Every stack feature: baseline, rating predictors, z features of `rankers`, the activity
    meta-features and each base feature times each meta-feature ("svd*user_activity")."""
    base = [BASELINE, *raters, *(Z_PREFIX + n for n in rankers)]
    return [*base, *ACTIVITY, *(f"{b}*{a}" for a in ACTIVITY for b in base)]


def parts(coefs: Mapping[str, float]) -> set[str]:
    """The features a stack uses ("svd*user_activity" uses "svd" and "user_activity")."""
    return {part for key in coefs for part in key.split("*")}


def predict(coefs: Mapping[str, float], feats: Mapping[str, np.ndarray], n: int) -> np.ndarray:
    pred = np.full(n, coefs.get(INTERCEPT, 0.0))
    for key in sorted(coefs):  # fixed order: identical sums after a reload
        if key == INTERCEPT:
            continue
        value = np.ones(n)
        for part in key.split("*"):
            value = value * feats[part]
        pred += coefs[key] * value
    return pred


def fit(
    valid: pd.DataFrame,
    names: Sequence[str],
    features: Features,
    rating_scale: tuple[float, float] | None,
    raters: Sequence[str],
) -> tuple[dict[str, float], dict[str, Any]]:
    """Least-squares coefficients of `names` on `valid` (user_id, movie_id, rating of users and
    movies the model knows); `features(user_id, movie_ids)` gives each feature's values.
    Returns (coefficients, fit info)."""
    rows, targets = [], []
    for uid, group in valid.groupby(C.USER_ID):
        ids = group[C.MOVIE_ID].to_numpy()
        feats = features(int(uid), ids)
        for key in names:
            if "*" in key:
                left, right = key.split("*")
                feats[key] = feats[left] * feats[right]
        rows.append(np.column_stack([feats[n] for n in names]))
        targets.append(group[C.RATING].to_numpy())
    if not rows:
        return {INTERCEPT: 0.0, BASELINE: 1.0}, {
            "rating_stack": "baseline only (no validation ratings)"
        }
    X = np.vstack(rows)
    y = np.concatenate(targets)
    design = np.column_stack([np.ones(len(X)), X])
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    coefs = {INTERCEPT: float(coef[0])}
    coefs.update({n: float(c) for n, c in zip(names, coef[1:], strict=True)})
    lo, hi = rating_scale or (-np.inf, np.inf)
    fitted = np.clip(design @ coef, lo, hi)
    per_feature = {
        f"valid_rmse_{n}": float(np.sqrt(np.mean((np.clip(X[:, j], lo, hi) - y) ** 2)))
        for j, n in enumerate(names)
        if n in (BASELINE, *raters)
    }
    return coefs, {
        "valid_rmse_stack": float(np.sqrt(np.mean((fitted - y) ** 2))),
        "rating_stack_rows": len(y),
        **per_feature,
        "rating_coefs": dict(coefs),
    }
