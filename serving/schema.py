"""The one request shape the served model accepts (see README: "Querying the model server")."""

from __future__ import annotations

from typing import Any

import pandas as pd
from mlflow.types.schema import ColSpec, ParamSchema, Schema

# Every request row has a `kind`; the other columns are used by the kinds that need them.
# Numbers (and the exclude_seen flag) are declared "double" on purpose: MLflow then keeps 1.5 as
# 1.5 and a missing value as NaN, and the service rejects a non-integer id naming the field.
# With "long", MLflow truncates 1.5 to 1 and fails a batch where one row lacks the column; with
# "boolean" it turns the string "no" into True.
REQUEST_COLUMNS: list[tuple[str, str, bool]] = [
    ("kind", "string", True),  # recommend | similar | predict | spin
    ("user_id", "double", False),
    ("movie_id", "double", False),
    ("title", "string", False),
    ("k", "double", False),
    ("genre", "string", False),
    ("exclude_seen", "double", False),  # true/false or 1/0
    ("temperature", "double", False),
    ("seed", "double", False),
    # newcomer profile for recommend/spin without a user_id: JSON {"movie_id": rating, ...}
    ("ratings", "string", False),
]


def input_schema() -> Schema:
    return Schema(
        [ColSpec(dtype, name, required=required) for name, dtype, required in REQUEST_COLUMNS]
    )


def params_schema() -> ParamSchema | None:
    return None


def request_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Request rows as a DataFrame with the declared column types, for in-process
    `pyfunc.predict` (MLflow refuses int64 where the schema says double)."""
    frame = pd.DataFrame(rows)
    if "kind" not in frame.columns:
        frame["kind"] = None
    numbers = [n for n, dtype, _ in REQUEST_COLUMNS if dtype == "double" and n in frame.columns]
    return frame.astype(dict.fromkeys(numbers, "float64"))
