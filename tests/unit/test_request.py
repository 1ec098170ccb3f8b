"""The typed request row (movie_roulette.request) and the served model's signature from it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from movie_roulette.request import Request, request_rows
from serving.client import clean_message


def _valid(row: dict[str, Any]) -> dict[str, Any]:
    # MLflow validates a `list[Request]` input strictly, like this
    return request_rows([Request.model_validate(row, strict=True)])[0]


def test_whole_numbers_and_zero_one_flags_are_accepted_and_unset_fields_dropped() -> None:
    row = _valid({"kind": "recommend", "user_id": 5.0, "k": 3, "exclude_seen": 0, "genre": None})
    assert row == {"kind": "recommend", "user_id": 5, "k": 3, "exclude_seen": False}
    assert type(row["user_id"]) is int
    assert _valid({"kind": "spin", "temperature": 1, "seed": 7})["temperature"] == 1.0


@pytest.mark.parametrize(
    ("row", "field"),
    [
        ({"kind": "recommend", "user_id": 1.5}, "user_id"),
        ({"kind": "recommend", "user_id": "5"}, "user_id"),
        ({"kind": "recommend", "user_id": True}, "user_id"),
        ({"kind": "recommend", "user_id": float("nan")}, "user_id"),
        ({"kind": "recommend", "k": "10"}, "k"),
        ({"kind": "recommend", "exclude_seen": "no"}, "exclude_seen"),
        ({"kind": "recommend", "exclude_seen": 2}, "exclude_seen"),
        ({"kind": "spin", "temperature": "hot"}, "temperature"),
        ({"kind": "similar", "title": 42}, "title"),
        ({"kind": "recommend", "usr_id": 1}, "usr_id"),  # a typo is refused, not ignored
        ({"user_id": 1}, "kind"),
    ],
)
def test_mistyped_unknown_or_missing_fields_are_refused_by_name(
    row: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationError) as err:
        Request.model_validate(row, strict=True)
    assert [e["loc"] for e in err.value.errors()] == [(field,)]


def test_mlflow_messages_for_refused_rows_become_field_lines() -> None:
    from mlflow.exceptions import MlflowException
    from mlflow.types.type_hints import _validate_data_against_type_hint

    rows = [{"kind": "recommend", "user_id": "x", "k": True}, {"user_id": 1}]
    with pytest.raises(MlflowException) as err:
        _validate_data_against_type_hint(rows, list[Request])
    # the scoring server's wrapping, then a JSON round trip as the client receives it
    served = json.loads(
        json.dumps(f"Failed to predict data '{rows}'. \nError: {err.value.message}")
    )
    assert clean_message(served) == (
        "user_id: Input should be a valid integer (got 'x'); "
        "k: Input should be a valid integer (got True); kind: Field required"
    )


def test_the_packaged_model_signature_is_the_typed_request(packaged: Path) -> None:
    import mlflow

    meta = mlflow.models.Model.load(str(packaged / "MLmodel"))
    assert meta.signature is not None and meta._is_signature_from_type_hint()
    [column] = meta.signature.inputs.inputs
    types = {prop.name: prop.dtype.name for prop in column.type.properties}
    assert types == {
        "kind": "string", "user_id": "long", "movie_id": "long", "title": "string", "k": "long",
        "genre": "string", "exclude_seen": "boolean", "temperature": "double", "seed": "long",
        "ratings": "string",
    }  # fmt: skip
    assert set(types) == set(Request.model_fields)
    required = {prop.name for prop in column.type.properties if prop.required}
    assert required == {"kind"}


def test_the_packaged_model_answers_rows_and_refuses_bad_ones(
    packaged: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mlflow
    from mlflow.exceptions import MlflowException

    monkeypatch.setenv("MOVIE_ROULETTE_WARM_SECONDS", "0")
    model = mlflow.pyfunc.load_model(str(packaged))
    answers = model.predict(
        [
            {"kind": "recommend", "user_id": 1, "k": 3.0, "exclude_seen": 1},
            {"kind": "recommend", "user_id": 10**9, "k": 2},
            {"kind": "similar", "movie_id": 10**9},
        ]
    )
    assert len(answers[0]["items"]) == 3 and answers[0]["fallback"] is None
    assert answers[1]["fallback"] == "cold_start:popularity+content"
    assert answers[2]["error"] == f"unknown movie_id {10**9}"
    with pytest.raises(MlflowException) as refused:
        model.predict([{"kind": "recommend", "user_id": 1, "k": 0}])
    assert clean_message(refused.value.message) == "k: 0 is outside 1..100 (got 0)"
    with pytest.raises(MlflowException, match="usr"):
        model.predict([{"kind": "recommend", "usr": 1}])


@pytest.mark.parametrize(
    ("row", "field", "message"),
    [
        # NaN / inf were replaced by 1.0 or passed the type check (issue 15, item 10)
        ({"kind": "spin", "temperature": float("nan")}, "temperature", "nan is not a finite"),
        ({"kind": "spin", "temperature": float("inf")}, "temperature", "inf is not a finite"),
        ({"kind": "spin", "temperature": 0.0}, "temperature", "0.0 is outside 0.001..1000.0"),
        ({"kind": "spin", "temperature": -2}, "temperature", "-2.0 is outside"),
        # a float whole number too large to be exact was accepted as a 309-digit integer
        ({"kind": "recommend", "user_id": 1e308}, "user_id", "not an exact integer"),
        ({"kind": "recommend", "user_id": 2.0**60}, "user_id", "not an exact integer"),
        # an exact integer out of range names the range, not "expected an integer"
        ({"kind": "recommend", "k": 10**40}, "k", f"{10**40} is outside 1..100"),
        ({"kind": "recommend", "k": 0}, "k", "0 is outside 1..100"),
        ({"kind": "recommend", "user_id": 2**63}, "user_id", "is outside 0..9223372036854775807"),
        ({"kind": "recommend", "user_id": -1}, "user_id", "-1 is outside"),
        ({"kind": "spin", "seed": -5}, "seed", "-5 is outside"),
        ({"kind": "dance"}, "kind", "'dance' is not one of recommend, similar, predict, spin"),
        # free text is capped (a 10 MB title held a worker for seconds)
        ({"kind": "similar", "title": "x" * 10_000_000}, "title", "at most 200"),
        ({"kind": "similar", "title": " " * 201}, "title", "201 characters; at most 200"),
        ({"kind": "recommend", "genre": "g" * 201}, "genre", "at most 200"),
        ({"kind": "recommend", "ratings": "{" * 20_001}, "ratings", "at most 20000"),
    ],
)
def test_out_of_range_values_are_refused_naming_the_field_and_the_limit(
    row: dict[str, Any], field: str, message: str
) -> None:
    from movie_roulette.request import RequestError, parse_request

    with pytest.raises(RequestError) as err:
        parse_request(row)
    assert err.value.field == field
    assert message in str(err.value), str(err.value)


def test_integers_are_exact_above_2_to_the_53() -> None:
    from movie_roulette.request import parse_request

    # 2^53 + 1 has no float: it must arrive as itself (was "expected an integer")
    assert parse_request({"kind": "recommend", "user_id": 2**53 + 1}).user_id == 2**53 + 1
    assert parse_request({"kind": "recommend", "user_id": 2**63 - 1}).user_id == 2**63 - 1
    assert parse_request({"kind": "recommend", "user_id": 2.0**53}).user_id == 2**53
    assert parse_request({"kind": "spin", "temperature": 1}).temperature == 1.0


def test_pydantic_range_errors_become_short_field_lines() -> None:
    from mlflow.exceptions import MlflowException
    from mlflow.types.type_hints import _validate_data_against_type_hint

    with pytest.raises(MlflowException) as err:
        _validate_data_against_type_hint([{"kind": "recommend", "k": 10**40}], list[Request])
    assert clean_message(err.value.message) == f"k: {10**40} is outside 1..100 (got {10**40})"


def test_a_fault_of_the_model_is_a_500_naming_the_kind_not_a_client_error(
    packaged: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """MLflow wraps any other exception as 400 "unexpected error ... serialized input
    Dataframe" (issue 15, item 9): the client is told it sent something wrong."""
    import mlflow
    from mlflow.exceptions import MlflowException

    monkeypatch.setenv("MOVIE_ROULETTE_WARM_SECONDS", "0")
    model = mlflow.pyfunc.load_model(str(packaged))
    service = model.unwrap_python_model()._service

    def broken(request: Any) -> Any:
        raise ValueError("zero-size array to reduction operation maximum")

    monkeypatch.setattr(service, "handle", broken)
    with pytest.raises(MlflowException) as err:
        model.predict([{"kind": "spin", "user_id": 1}])
    assert err.value.get_http_status_code() == 500
    assert err.value.message == (
        "spin: the model failed (ValueError: zero-size array to reduction operation maximum)"
    )
