"""A trivial pyfunc (answers each request row with itself): the scoring server's own ceiling.

Logged from code with the same signature as the real model by benchmarks/serving.py.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from mlflow.models import set_model
from mlflow.pyfunc import PythonModel, PythonModelContext


class IdentityModel(PythonModel):
    def predict(
        self,
        context: PythonModelContext,
        model_input: pd.DataFrame,
        params: dict[str, Any] | None = None,
    ) -> list[dict[str, Any]]:
        return model_input.to_dict(orient="records")


set_model(IdentityModel())
