"""MLflow pyfunc model, logged from code: loads the bundle once, answers request rows.

mlflow.pyfunc.log_model(python_model="serving/pyfunc_model.py", artifacts={"bundle": ...}).
"""

from __future__ import annotations

import os
from typing import Any

import pandas as pd
from mlflow.exceptions import MlflowException
from mlflow.models import set_model
from mlflow.protos.databricks_pb2 import INVALID_PARAMETER_VALUE
from mlflow.pyfunc import PythonModel, PythonModelContext

BLAS_THREADS_ENV = "MOVIE_ROULETTE_BLAS_THREADS"


class MovieRouletteModel(PythonModel):
    def load_context(self, context: PythonModelContext) -> None:
        from threadpoolctl import threadpool_limits

        from movie_roulette import bundle
        from movie_roulette.service import RecommenderService

        # One BLAS thread per request: requests are tiny (a 100x100 solve, one row of scores),
        # and multi-threaded OpenBLAS under concurrent requests spin-waits: the SVD fold-in of
        # `similar` took 90 ms instead of 2 ms on a busy 2-core machine.
        threadpool_limits(limits=int(os.environ.get(BLAS_THREADS_ENV, "1")))

        self._service = RecommenderService(bundle.load(context.artifacts["bundle"]))

    def predict(
        self,
        context: PythonModelContext,
        model_input: pd.DataFrame,
        params: dict[str, Any] | None = None,
    ) -> list[dict[str, Any]]:
        from movie_roulette.service import RequestError

        try:
            return self._service.handle_frame(model_input)
        except RequestError as err:  # malformed request -> HTTP 400 naming the field
            raise MlflowException(str(err), error_code=INVALID_PARAMETER_VALUE) from err


set_model(MovieRouletteModel())
