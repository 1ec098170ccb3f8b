"""The app the model server's `uvicorn` serves: MLflow's scoring server behind `RequestGuard`,
which answers checked POST /invocations bodies with MLflow's own `invocations` in the event loop
(serving/direct.py), keeping the keep-alive clients spread over the workers (serving/balance.py),
and passes every other request to MLflow's app.

Started by `GuardedMLFlowDeploymentService.run` (serving/zenml_deployer.py) as
`uvicorn ... serving.asgi:app`; every process that imports it (each worker) records itself
first (serving/processes.py), so that stop/list/deploy find it even if its master dies.
"""

from __future__ import annotations

import os

from serving.guard import (
    DEFAULT_MAX_BODY_BYTES,
    DEFAULT_MAX_ROWS,
    MAX_BODY_BYTES_ENV,
    MAX_ROWS_ENV,
    RequestGuard,
)
from serving.processes import record_this_process

record_this_process()

from mlflow.pyfunc import scoring_server  # noqa: E402  (after the record: loading takes a while)

from serving.balance import WORKERS_ENV, ConnectionBalancer  # noqa: E402
from serving.direct import DIRECT_ENV, invocations_answerer  # noqa: E402

model = scoring_server.load_model_with_mlflow_config(os.environ[scoring_server._SERVER_MODEL_PATH])
app = RequestGuard(
    scoring_server.init(model),
    max_body_bytes=int(os.environ.get(MAX_BODY_BYTES_ENV, DEFAULT_MAX_BODY_BYTES)),
    max_rows=int(os.environ.get(MAX_ROWS_ENV, DEFAULT_MAX_ROWS)),
    answer=None if os.environ.get(DIRECT_ENV) == "0" else invocations_answerer(model),
    balancer=ConnectionBalancer.for_this_worker(int(os.environ.get(WORKERS_ENV, "1"))),
)
