"""POST /invocations answered by MLflow's own `invocations`, in the worker's event loop.

MLflow's scoring server app (FastAPI) reads the body, runs `scoring_server.invocations` in a
thread of its own (`asyncio.to_thread`) under an HTTP middleware (its request timeout), and
writes a `Response`. `RequestGuard` has already read and checked the body, so it can call the
same `invocations` function directly: the same parsing, schema check, `predict` and JSON writer,
so the same answers and error bodies to the byte (tests/unit/test_direct_invocations.py), without
the thread hand-off and the middleware. On 2 cores that hand-off was ~0.9 ms of server CPU per
request with 8 concurrent clients (docs/serving.md): every request of a worker ran in its own
thread, and they passed the GIL and the model's lock between them. Here a worker computes one
request at a time; the others wait in its socket buffers. MLflow's request timeout
(MLFLOW_SCORING_SERVER_REQUEST_TIMEOUT, a 504 while the thread goes on) does not apply to these
requests: a request is at most `serving.max_rows` rows of a few milliseconds each. Set
MOVIE_ROULETTE_DIRECT_INVOCATIONS=0 in the server's environment for MLflow's own path.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mlflow.exceptions import MlflowException
from mlflow.pyfunc import scoring_server

from serving.guard import JSON_TYPE

Answer = tuple[int, str, bytes]  # HTTP status, media type, body
# "0": pass POST /invocations on to MLflow's app, as before (its thread and request timeout)
DIRECT_ENV = "MOVIE_ROULETTE_DIRECT_INVOCATIONS"


def invocations_answerer(model: Any) -> Callable[[bytes], Answer]:
    """A function of a checked JSON body answering as MLflow's app answers POST /invocations
    for `model` (a loaded `PyFuncModel`)."""
    input_schema = model.metadata.get_input_schema()

    def answer(body: bytes) -> Answer:
        try:
            result = scoring_server.invocations(body, JSON_TYPE, model, input_schema)
        except MlflowException as err:  # what MLflow's `_async_catch_mlflow_exception` answers
            return err.get_http_status_code(), JSON_TYPE, err.serialize_as_json().encode()
        return result.status, result.mimetype, result.response.encode()

    return answer
