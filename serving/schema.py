"""The one request shape the served model accepts (see README: "Querying the model server")."""

from __future__ import annotations

from mlflow.types.schema import ColSpec, ParamSchema, Schema

# Every request row has a `kind`; the other columns are used by the kinds that need them.
REQUEST_COLUMNS: list[tuple[str, str, bool]] = [
    ("kind", "string", True),  # recommend | similar | predict | spin
    ("user_id", "long", False),
    ("movie_id", "long", False),
    ("title", "string", False),
    ("k", "long", False),
    ("genre", "string", False),
    ("exclude_seen", "boolean", False),
    ("temperature", "double", False),
    ("seed", "long", False),
    # newcomer profile for recommend/spin without a user_id: JSON {"movie_id": rating, ...}
    ("ratings", "string", False),
]


def input_schema() -> Schema:
    return Schema(
        [ColSpec(dtype, name, required=required) for name, dtype, required in REQUEST_COLUMNS]
    )


def params_schema() -> ParamSchema | None:
    return None
