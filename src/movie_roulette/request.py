"""The typed request row: one shape for every kind (README: "One request shape for every kind").

The served model's `predict` is annotated with `list[Request]`, so MLflow derives the model's
signature from it and its scoring server hands the JSON rows of `{"inputs": [...]}` straight to
the model, each checked against this class, instead of building and type-casting a pandas frame
per request (benchmarks/serving.py measures both). A row with a wrong type or an unknown field is
refused with HTTP 400 naming the field; what the types cannot say (k in 1..100, a positive
temperature, a known kind, the ratings JSON) `RecommenderService.handle` checks, also naming the
field.
"""

from __future__ import annotations

import math
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict

__all__ = ["Request", "request_rows"]


def _whole_number(value: Any) -> Any:
    """5.0 -> 5 (JSON writers differ on whole numbers); 1.5, true or "5" stay and are refused."""
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    return value


def _zero_one(value: Any) -> Any:
    """1 / 0 -> true / false (documented since the first release); 2 or "no" are refused."""
    if not isinstance(value, bool) and isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    return value


Integer = Annotated[int | None, BeforeValidator(_whole_number)]
Flag = Annotated[bool | None, BeforeValidator(_zero_one)]


class Request(BaseModel):
    """One request row. MLflow validates it strictly: no "5" for 5, no true for a number."""

    model_config = ConfigDict(extra="forbid")

    kind: str  # recommend | similar | predict | spin
    user_id: Integer = None
    movie_id: Integer = None
    title: str | None = None
    k: Integer = None
    genre: str | None = None
    exclude_seen: Flag = None
    temperature: float | None = None
    seed: Integer = None
    # a newcomer's profile for recommend/spin without a user_id: JSON {"movie_id": rating, ...}
    ratings: str | None = None


def request_rows(requests: list[Request]) -> list[dict[str, Any]]:
    """Validated requests as the mappings `RecommenderService.handle` takes (unset fields out)."""
    return [{name: value for name, value in vars(r).items() if value is not None} for r in requests]
