"""A trivial pyfunc (answers each request row with itself): the scoring server's own ceiling.

Logged from code by benchmarks/serving.py exactly as the real model is (serving/registry.py's
`pyfunc_kwargs`), with the same `list[Request]` annotation and so the same signature and the same
per-request validation by MLflow.
"""

from __future__ import annotations

from typing import Any

from mlflow.models import set_model
from mlflow.pyfunc import PythonModel, PythonModelContext

from movie_roulette.request import Request, request_rows


class IdentityModel(PythonModel):
    def predict(
        self,
        context: PythonModelContext,
        model_input: list[Request],
        params: dict[str, Any] | None = None,
    ) -> list[dict[str, Any]]:
        return request_rows(model_input)


set_model(IdentityModel())
