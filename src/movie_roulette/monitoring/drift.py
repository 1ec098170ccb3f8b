"""Data drift between the data the production model was trained on and new interactions.

Each interaction row is described by features that matter for a recommender batch:

* `rating`            the rating given (NaN for implicit feedback such as clicks)
* `user_history`      log1p of the user's number of ratings in the reference data (0 = new user)
* `item_popularity`   log1p of the movie's number of ratings in the reference data (0 = new movie)
* `movie_year`        release year of the movie (content mix: old vs new films)
* `primary_genre`     the movie's first genre (genre mix)
* `hour_of_day`       UTC hour of the interaction (time of use)

Evidently's DataDriftPreset compares the reference and current feature frames column by column
(it picks the test from the column type and sample size) and reports the share of drifted
columns; the HTML report is what the ZenML dashboard shows.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from movie_roulette import columns as C

os.environ.setdefault("DO_NOT_TRACK", "1")  # Evidently usage telemetry off

NUMERICAL_FEATURES = ["rating", "user_history", "item_popularity", "movie_year", "hour_of_day"]
CATEGORICAL_FEATURES = ["primary_genre"]
FEATURES = NUMERICAL_FEATURES + CATEGORICAL_FEATURES
NO_GENRE = "(no genre)"
UNKNOWN_MOVIE = "(not in catalogue)"


@dataclass(frozen=True)
class DriftResult:
    summary: dict[str, Any]
    html: str


def drift_features(
    interactions: pd.DataFrame, reference_ratings: pd.DataFrame, catalogue: pd.DataFrame
) -> pd.DataFrame:
    """One feature row per interaction (see the module docstring), in `FEATURES` order."""
    for name, frame, needed in (
        ("interactions", interactions, [C.USER_ID, C.MOVIE_ID, C.RATING, C.TIMESTAMP]),
        ("reference_ratings", reference_ratings, [C.USER_ID, C.MOVIE_ID]),
        ("catalogue", catalogue, [C.MOVIE_ID, C.GENRES, C.YEAR]),
    ):
        missing = [c for c in needed if c not in frame.columns]
        if missing:
            raise ValueError(f"{name} misses column(s) {missing}.")
    user_counts = reference_ratings[C.USER_ID].value_counts()
    item_counts = reference_ratings[C.MOVIE_ID].value_counts()
    movies = catalogue.drop_duplicates(C.MOVIE_ID).set_index(C.MOVIE_ID)
    movie_ids = interactions[C.MOVIE_ID]
    known = movie_ids.isin(movies.index)
    genres = movie_ids.map(movies[C.GENRES].astype(str))
    primary = genres.fillna("").str.split("|").str[0].replace("", NO_GENRE)
    primary = primary.where(known, UNKNOWN_MOVIE)
    year = pd.to_numeric(movie_ids.map(movies[C.YEAR]), errors="coerce").astype("float64")
    hours = pd.to_datetime(interactions[C.TIMESTAMP], unit="s", utc=True).dt.hour
    return pd.DataFrame(
        {
            "rating": interactions[C.RATING].astype("float64").to_numpy(),
            "user_history": np.log1p(
                interactions[C.USER_ID].map(user_counts).fillna(0).to_numpy(dtype="float64")
            ),
            "item_popularity": np.log1p(
                movie_ids.map(item_counts).fillna(0).to_numpy(dtype="float64")
            ),
            "movie_year": year.to_numpy(),
            "primary_genre": primary.astype(str).to_numpy(),
            "hour_of_day": hours.to_numpy(dtype="float64"),
        }
    )[FEATURES]


def _usable_columns(reference: pd.DataFrame, current: pd.DataFrame) -> tuple[list[str], dict]:
    """Columns both frames have values for; the others are reported as skipped."""
    usable, skipped = [], {}
    for column in FEATURES:
        if column not in reference.columns or column not in current.columns:
            skipped[column] = "missing"
        elif reference[column].notna().sum() == 0 or current[column].notna().sum() == 0:
            skipped[column] = "no values in the reference or the current data"
        else:
            usable.append(column)
    return usable, skipped


def run_drift_report(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    drift_share: float = 0.5,
    max_reference_rows: int | None = 50_000,
    seed: int = 42,
) -> DriftResult:
    """Evidently DataDriftPreset on two feature frames; summary dict + standalone HTML.

    summary: drift_share (share of drifted columns), drifted_columns (names),
    dataset_drift (share >= the `drift_share` threshold), columns: {name: {method, score,
    threshold, drifted}}, skipped_columns, reference_rows, current_rows.
    """
    if not 0.0 < drift_share <= 1.0:
        raise ValueError(f"drift_share must be in (0, 1], got {drift_share}.")
    base: dict[str, Any] = {
        "threshold": drift_share,
        "reference_rows": len(reference),
        "current_rows": len(current),
    }
    if len(current) == 0 or len(reference) == 0:
        empty = "current" if len(current) == 0 else "reference"
        summary = {
            **base,
            "drift_share": 0.0,
            "drifted_columns": [],
            "dataset_drift": False,
            "columns": {},
            "skipped_columns": {},
            "skipped": f"no {empty} data to compare",
        }
        return DriftResult(summary, _empty_html(summary["skipped"]))
    if max_reference_rows is not None and len(reference) > max_reference_rows:
        reference = reference.sample(n=max_reference_rows, random_state=seed)
        base["reference_rows_sampled"] = max_reference_rows
    usable, skipped = _usable_columns(reference, current)
    if not usable:
        raise ValueError("no feature column has values in both the reference and current data.")

    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    definition = DataDefinition(
        numerical_columns=[c for c in usable if c in NUMERICAL_FEATURES],
        categorical_columns=[c for c in usable if c in CATEGORICAL_FEATURES],
    )
    report = Report([DataDriftPreset(columns=usable, drift_share=drift_share)], include_tests=True)
    snapshot = report.run(
        current_data=Dataset.from_pandas(current[usable].copy(), data_definition=definition),
        reference_data=Dataset.from_pandas(reference[usable].copy(), data_definition=definition),
    )
    summary = {**base, **summarise_snapshot(snapshot.dict(), drift_share)}
    summary["skipped_columns"] = skipped
    return DriftResult(summary, snapshot.get_html_str(as_iframe=False))


def summarise_snapshot(snapshot: dict[str, Any], drift_share: float) -> dict[str, Any]:
    """Share of drifted columns and per-column results from an Evidently 0.7 snapshot dict."""
    columns: dict[str, dict[str, Any]] = {}
    for metric in snapshot.get("metrics", []):
        config = metric.get("config", {})
        if config.get("type") == "evidently:metric_v2:ValueDrift":
            columns[config["column"]] = {
                "method": config.get("method"),
                "threshold": config.get("threshold"),
                "score": float(metric["value"]),
            }
    for test in snapshot.get("tests", []):
        params = test.get("metric_config", {}).get("params", {})
        if params.get("type") == "evidently:metric_v2:ValueDrift" and params["column"] in columns:
            columns[params["column"]]["drifted"] = test.get("status") == "FAIL"
    missing = [c for c, r in columns.items() if "drifted" not in r]
    if missing:
        raise ValueError(f"Evidently snapshot has no drift test result for column(s) {missing}.")
    drifted = sorted(c for c, r in columns.items() if r["drifted"])
    share = len(drifted) / len(columns) if columns else 0.0
    return {
        "drift_share": share,
        "drifted_columns": drifted,
        "dataset_drift": bool(columns) and share >= drift_share,
        "columns": columns,
    }


def _empty_html(message: str) -> str:
    return f"<html><body><h2>Data drift</h2><p>No drift report: {message}.</p></body></html>"
