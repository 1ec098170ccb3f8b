"""MLflow pyfunc model, logged from code: loads the bundle once, answers request rows.

mlflow.pyfunc.log_model(python_model="serving/pyfunc_model.py", artifacts={"bundle": ...}).
"""

from __future__ import annotations

import gc
import os
import sys
import time
from typing import Any

from mlflow.exceptions import MlflowException
from mlflow.models import set_model
from mlflow.protos.databricks_pb2 import INTERNAL_ERROR, INVALID_PARAMETER_VALUE
from mlflow.pyfunc import PythonModel, PythonModelContext

from movie_roulette import bundle
from movie_roulette.request import Request, request_row
from movie_roulette.service import RecommenderService, RequestError

BLAS_THREADS_ENV = "MOVIE_ROULETTE_BLAS_THREADS"
EVENT_LOG_ENV = "MOVIE_ROULETTE_EVENT_LOG"
# Seconds spent at load filling the answer cache for the most active users (0 = none);
# set by the deployment from `serving.warm_seconds`.
WARM_SECONDS_ENV = "MOVIE_ROULETTE_WARM_SECONDS"
DEFAULT_WARM_SECONDS = 30.0


class MovieRouletteModel(PythonModel):
    def load_context(self, context: PythonModelContext) -> None:
        from threadpoolctl import threadpool_limits

        # One BLAS thread per request: requests are tiny (a 100x100 solve, one row of scores),
        # and multi-threaded OpenBLAS under concurrent requests spin-waits: the SVD fold-in of
        # `similar` took 90 ms instead of 2 ms on a busy 2-core machine.
        threadpool_limits(limits=int(os.environ.get(BLAS_THREADS_ENV, "1")))

        # the web app logs a user's ratings and accepted spins to the same event log: they are
        # left out of that user's answers until the model is retrained on them
        self._service = RecommenderService(
            bundle.load(context.artifacts["bundle"]),
            feedback_log=os.environ.get(EVENT_LOG_ENV) or None,
        )
        self._warm()
        # Live traffic for the drift check: set by the deployment from the config
        # (continuous.event_log, else <state_dir>/events.jsonl); unset = no request log.
        self._log = None
        if os.environ.get(EVENT_LOG_ENV):
            from movie_roulette.monitoring.request_log import RequestLogger

            self._log = RequestLogger(os.environ[EVENT_LOG_ENV])

    def _warm(self) -> None:
        """Known users' default answers computed before the server answers its first request,
        then the most-rated movies' `similar` answers with the time left (`warm_seconds` in all);
        then the loaded model and warmed cache are frozen out of the garbage collector's scans
        (a full collection over ~10^6 cached objects would pause a request for tens of ms)."""
        raw = os.environ.get(WARM_SECONDS_ENV, str(DEFAULT_WARM_SECONDS))
        try:
            seconds = float(raw)
        except ValueError:
            raise MlflowException(
                f"{WARM_SECONDS_ENV}={raw!r} is not a number of seconds",
                error_code=INVALID_PARAMETER_VALUE,
            ) from None
        stats = self._service.warm(budget_seconds=seconds, max_movies=None)
        print(  # in the server log; benchmarks/serving.py reports it
            f"movie_roulette: answer cache warmed for {stats['users']} users in "
            f"{stats['seconds']} s (all known users: {stats['complete']}); "
            f"similar movies of the {stats['movies']} most rated movies",
            file=sys.stderr,
            flush=True,
        )
        gc.collect()
        gc.freeze()

    def predict(
        self,
        context: PythonModelContext,
        model_input: list[Request],
        params: dict[str, Any] | None = None,
    ) -> list[dict[str, Any]]:
        # The annotation is the model's signature: MLflow checks every JSON row of
        # {"inputs": [...]} against `Request` (HTTP 400 naming a mistyped or unknown field) and
        # passes the rows on as they are, with no pandas frame per request.
        # A server worker answers its requests one at a time, in its event loop
        # (serving/direct.py); MLflow's own app would answer each in a thread of its own. The
        # service computes one answer at a time (its own lock) either way; a cached answer is
        # returned without waiting for it.
        answers = []
        try:
            for request in model_input:
                row = request_row(request)
                started = time.perf_counter()
                try:
                    answer = self._service.handle(request)
                except RequestError as err:
                    self._record(row, {"error": str(err)}, started, status=400)
                    raise
                except Exception as err:  # a fault of ours, not the client's: HTTP 500 saying so
                    failure = f"{request.kind}: the model failed ({type(err).__name__}: {err})"
                    self._record(row, {"error": failure[:300]}, started, status=500)
                    print(f"movie_roulette: {failure}", file=sys.stderr, flush=True)
                    raise MlflowException(failure[:300], error_code=INTERNAL_ERROR) from err
                self._record(row, answer, started, status=200)
                answers.append(answer)
        except RequestError as err:  # a malformed request -> HTTP 400 naming the field
            raise MlflowException(str(err), error_code=INVALID_PARAMETER_VALUE) from err
        return answers

    def _record(
        self, row: dict[str, Any], answer: dict[str, Any], started: float, status: int
    ) -> None:
        if self._log is not None:
            latency_ms = round(1000 * (time.perf_counter() - started), 3)
            self._log.record(row, answer, latency_ms=latency_ms, status=status)


set_model(MovieRouletteModel())
