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

MLflow writes the answer with `json.dump` into a string buffer: the standard library's
pure-Python encoder, 0.15 ms for a 2.7 kB recommend answer. `json.dumps` uses the C encoder for
the same bytes in 0.03-0.07 ms. The direct path installs `c_json_writer` as MLflow's
`predictions_to_json` (tests/unit/test_direct_invocations.py checks the bytes against MLflow's
own writer); answers with metadata, which this server never gives, still go to MLflow's.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import IO, Any

from mlflow.exceptions import MlflowException
from mlflow.pyfunc import scoring_server
from mlflow.utils.proto_json_utils import NumpyEncoder

from serving.guard import JSON_TYPE

Answer = tuple[int, str, bytes]  # HTTP status, media type, body
# "0": pass POST /invocations on to MLflow's app, as before (its thread and request timeout)
DIRECT_ENV = "MOVIE_ROULETTE_DIRECT_INVOCATIONS"


# MLflow's writer (kept when this module is loaded again after installing its own)
MLFLOW_WRITER = getattr(
    scoring_server.predictions_to_json, "mlflow_writer", scoring_server.predictions_to_json
)


def c_json_writer(raw_predictions: Any, output: IO[str], metadata: Any = None) -> None:
    """MLflow's `predictions_to_json` (same arguments, same bytes) through the C encoder."""
    if metadata:
        MLFLOW_WRITER(raw_predictions, output, metadata)
        return
    predictions = scoring_server._get_jsonable_obj(raw_predictions, pandas_orient="records")
    output.write(json.dumps({"predictions": predictions}, cls=NumpyEncoder))


c_json_writer.mlflow_writer = MLFLOW_WRITER  # type: ignore[attr-defined]


def invocations_answerer(model: Any) -> Callable[[bytes], Answer]:
    """A function of a checked JSON body answering as MLflow's app answers POST /invocations
    for `model` (a loaded `PyFuncModel`); installs `c_json_writer` (see the module doc)."""
    input_schema = model.metadata.get_input_schema()
    if hasattr(scoring_server, "_get_jsonable_obj"):  # MLflow's own writer otherwise
        scoring_server.predictions_to_json = c_json_writer

    def answer(body: bytes) -> Answer:
        try:
            result = scoring_server.invocations(body, JSON_TYPE, model, input_schema)
        except MlflowException as err:  # what MLflow's `_async_catch_mlflow_exception` answers
            return err.get_http_status_code(), JSON_TYPE, err.serialize_as_json().encode()
        return result.status, result.mimetype, result.response.encode()

    return answer
