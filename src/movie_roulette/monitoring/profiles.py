"""whylogs 1.6 profiles of interaction feature frames (reference vs current).

A profile is a mergeable statistical summary (counts, types, quantile sketches, frequent items,
cardinality); it is what we keep of each batch long after the raw rows are gone.
"""

from __future__ import annotations

import html
import os
from typing import Any

import pandas as pd

os.environ.setdefault("WHYLOGS_NO_ANALYTICS", "True")  # whylogs usage telemetry off

SUMMARY_COLUMNS = [
    "counts/n",
    "counts/null",
    "types/integral",
    "types/fractional",
    "types/string",
    "distribution/mean",
    "distribution/stddev",
    "distribution/min",
    "distribution/q_25",
    "distribution/median",
    "distribution/q_75",
    "distribution/max",
    "cardinality/est",
    "frequent_items/frequent_strings",
]


def profile_frame(frame: pd.DataFrame) -> Any:
    """whylogs `DatasetProfileView` of a frame."""
    import whylogs as why

    if frame.empty and len(frame.columns) == 0:
        raise ValueError("cannot profile a frame without columns.")
    return why.log(pandas=frame).view()


def serialize_profile(view: Any) -> bytes:
    return view.serialize()


def deserialize_profile(data: bytes) -> Any:
    from whylogs.core import DatasetProfileView

    try:
        return DatasetProfileView.deserialize(data)
    except Exception as err:  # whylogs raises protobuf/struct errors on damaged bytes
        raise ValueError(f"not a whylogs profile ({type(err).__name__}: {err}).") from err


def _frequent(value: Any, top: int = 5) -> str:
    if not isinstance(value, list | tuple):
        return ""
    return ", ".join(f"{item.value} ({int(item.est)})" for item in list(value)[:top])


def profile_summary(view: Any) -> pd.DataFrame:
    """One row per column: counts, types, distribution, cardinality, frequent values."""
    raw = view.to_pandas()
    summary = pd.DataFrame(index=raw.index)
    for column in SUMMARY_COLUMNS:
        if column in raw.columns:
            summary[column] = raw[column]
    if "distribution/n" in raw.columns:  # no numeric values: the distribution stats are empty
        no_numbers = raw["distribution/n"].fillna(0) == 0
        for column in [c for c in summary.columns if c.startswith("distribution/")]:
            summary[column] = summary[column].astype("float64").mask(no_numbers)
    if "frequent_items/frequent_strings" in summary.columns:
        summary["frequent_items/frequent_strings"] = summary["frequent_items/frequent_strings"].map(
            _frequent
        )
    summary.index.name = "column"
    return summary.sort_index()


def compare_profiles(reference: Any, current: Any) -> pd.DataFrame:
    """Side-by-side reference/current statistics per column, with the change in mean and nulls."""
    ref, cur = profile_summary(reference), profile_summary(current)
    rows = []
    for column in sorted(set(ref.index) | set(cur.index)):
        row: dict[str, Any] = {"column": column}
        for label, frame in (("reference", ref), ("current", cur)):
            stats = frame.loc[column] if column in frame.index else pd.Series(dtype=object)
            n = float(stats.get("counts/n", 0) or 0)
            row[f"{label}_n"] = int(n)
            row[f"{label}_null_share"] = float(stats.get("counts/null", 0) or 0) / n if n else 0.0
            row[f"{label}_mean"] = stats.get("distribution/mean")
            row[f"{label}_median"] = stats.get("distribution/median")
            row[f"{label}_top"] = stats.get("frequent_items/frequent_strings", "")
        rows.append(row)
    table = pd.DataFrame(rows).set_index("column")
    numeric = pd.to_numeric(table["current_mean"], errors="coerce") - pd.to_numeric(
        table["reference_mean"], errors="coerce"
    )
    table["mean_change"] = numeric
    return table


def comparison_html(table: pd.DataFrame, title: str = "whylogs profiles") -> str:
    body = table.to_html(float_format=lambda v: f"{v:.4g}", na_rep="", border=0)
    return (
        "<html><head><style>body{font-family:sans-serif}table{border-collapse:collapse}"
        "td,th{padding:4px 8px;border-bottom:1px solid #ddd;text-align:right}</style></head>"
        f"<body><h2>{html.escape(title)}</h2>{body}</body></html>"
    )
