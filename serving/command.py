"""The model server's command line: MLflow's scoring server command, serving the guarded app.

ZenML's deployer daemon (serving/zenml_deployer.py) and the serving benchmarks start the server
with it, so a benchmark measures the server users deploy (`RequestGuard` and its direct
answers included), not `mlflow models serve`'s bare app.
"""

from __future__ import annotations

import shlex
import sys

from serving.balance import WORKERS_ENV

GUARDED_APP = "serving.asgi:app"
MLFLOW_APP = "mlflow.pyfunc.scoring_server.app:app"


def guarded_command(
    model_path: str, port: int, host: str = "localhost", workers: int = 1
) -> tuple[list[str], dict[str, str]]:
    """(argv, environment) of `uvicorn` serving `model_path` (a local pyfunc model folder) as
    MLflow's backend would start it (same options and environment), with `GUARDED_APP`."""
    from mlflow.pyfunc import scoring_server

    command, env = scoring_server.get_cmd(
        model_path, port=port, host=host, timeout=None, nworkers=workers
    )
    argv = shlex.split(command)
    if argv[-1] != MLFLOW_APP:
        raise RuntimeError(f"unexpected scoring server command from MLflow: {command}")
    env = {**env, WORKERS_ENV: str(workers)}  # the guard balances connections over them
    return [sys.executable, "-m", "uvicorn", *argv[1:-1], GUARDED_APP], env
