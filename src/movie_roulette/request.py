"""The typed request row: one shape for every kind (docs/serving.md, "One request shape").

The served model's `predict` is annotated with `list[Request]`, so MLflow derives the model's
signature from it and its scoring server hands the JSON rows of `{"inputs": [...]}` straight to
the model, each checked against this class, instead of building and type-casting a pandas frame
per request (benchmarks/serving.py measures both).

This class is the one validation of a row's fields (docs/operations.md, "Request limits"): a
known kind, exact integers in their ranges, a finite temperature in its range, text no longer
than its cap. A row that breaks one is refused with HTTP 400 naming the field. What only the
loaded model can say (an unknown movie, genre or title) is an error entry in the answer; what
needs a field's *content* parsed (the `ratings` JSON) `RecommenderService` checks, also naming
the field.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, ValidationError
from pydantic_core import PydanticCustomError

__all__ = [
    "KINDS",
    "MAX_ID",
    "MAX_K",
    "MAX_RATINGS_CHARS",
    "MAX_TEXT_CHARS",
    "Request",
    "RequestError",
    "parse_request",
    "request_row",
    "request_rows",
]

KINDS = ("recommend", "similar", "predict", "spin", "search", "explain")
MAX_K = 100
MAX_ID = 2**63 - 1  # ids, seeds: what a numpy int64 holds
MAX_TEXT_CHARS = 200  # title, genre
MAX_RATINGS_CHARS = 20_000  # the ratings JSON (at most 500 entries: ~15 characters each)
MIN_TEMPERATURE, MAX_TEMPERATURE = 0.001, 1000.0
_EXACT_FLOAT = 2**53  # above it a JSON float is no longer an exact integer


class RequestError(ValueError):
    """A request is malformed; the message names the field and what is allowed."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


def _whole_number(value: Any) -> Any:
    """5.0 -> 5 (JSON writers differ on whole numbers); 1.5, true or "5" stay and are refused,
    and so is a float too large to be an exact integer (1e308 is no user id)."""
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        if abs(value) > _EXACT_FLOAT:
            raise PydanticCustomError(
                "exact_int",
                "{value} is a float above 2^53, not an exact integer; send it as an integer",
                {"value": value},
            )
        return int(value)
    return value


def _zero_one(value: Any) -> Any:
    """1 / 0 -> true / false (documented since the first release); 2 or "no" are refused."""
    if not isinstance(value, bool) and isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    return value


def _within(low: float, high: float) -> AfterValidator:
    def check(value: Any) -> Any:
        if value is not None and not low <= value <= high:
            raise PydanticCustomError(
                "range",
                "{value} is outside {low}..{high}",
                {"value": value, "low": low, "high": high},
            )
        return value

    return AfterValidator(check)


def _known_kind(value: str) -> str:
    if value not in KINDS:
        raise PydanticCustomError(
            "kind", "'{value}' is not one of " + ", ".join(KINDS), {"value": value[:40]}
        )
    return value


def _integer(low: int, high: int) -> Any:
    return Annotated[int | None, BeforeValidator(_whole_number), _within(low, high)]


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        raise PydanticCustomError(
            "finite_number", "{value} is not a finite number", {"value": str(value)}
        )
    return value


def _at_most(chars: int) -> AfterValidator:
    def check(value: str | None) -> str | None:
        if value is not None and len(value) > chars:
            raise PydanticCustomError(
                "too_long",
                "has {length} characters; at most {limit}",
                {"length": len(value), "limit": chars},
            )
        return value

    return AfterValidator(check)


# (Annotated outermost: MLflow derives the signature from these and knows no other nesting)
Id = _integer(0, MAX_ID)
Flag = Annotated[bool | None, BeforeValidator(_zero_one)]
Text = Annotated[str | None, _at_most(MAX_TEXT_CHARS)]
Temperature = Annotated[
    float | None, BeforeValidator(_finite), _within(MIN_TEMPERATURE, MAX_TEMPERATURE)
]


class Request(BaseModel):
    """One request row. MLflow validates it strictly: no "5" for 5, no true for a number."""

    model_config = ConfigDict(extra="forbid")

    # a closed set (MLflow's signature inference has no Literal, so a checked str)
    kind: Annotated[str, AfterValidator(_known_kind)]
    user_id: Id = None  # type: ignore[valid-type]
    movie_id: Id = None  # type: ignore[valid-type]
    title: Text = None
    k: _integer(1, MAX_K) = None  # type: ignore[valid-type]
    genre: Text = None
    exclude_seen: Flag = None
    temperature: Temperature = None
    seed: Id = None  # type: ignore[valid-type]
    # a newcomer's profile for recommend/spin without a user_id: JSON {"movie_id": rating, ...}
    ratings: Annotated[str | None, _at_most(MAX_RATINGS_CHARS)] = None


def parse_request(row: Request | Mapping[str, Any]) -> Request:
    """A row as a validated `Request` (MLflow's strict mode), else `RequestError` naming the
    first field that is wrong. Rows the scoring server hands over are validated already."""
    if isinstance(row, Request):
        return row
    if not isinstance(row, Mapping):
        raise RequestError("request", f"expected an object with a 'kind', got {type(row).__name__}")
    try:
        return Request.model_validate(dict(row), strict=True)
    except ValidationError as err:
        first = err.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or "request"
        raise RequestError(field, first["msg"]) from None


def request_row(request: Request) -> dict[str, Any]:
    """A validated request as a mapping of its set fields (what the request log records)."""
    return {name: value for name, value in vars(request).items() if value is not None}


def request_rows(requests: list[Request]) -> list[dict[str, Any]]:
    return [request_row(r) for r in requests]
