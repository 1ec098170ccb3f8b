"""The model server's command line: MLflow's scoring server command, serving the guarded app.

ZenML's deployer daemon (serving/zenml_deployer.py) and the serving benchmarks start the server
with it, so a benchmark measures the server users deploy (`RequestGuard` and its direct
answers included), not `mlflow models serve`'s bare app.

The command names uvicorn's event loop and HTTP parser, `uvloop` and `httptools`, instead of
leaving them to uvicorn's automatic choice. With several workers on asyncio, each worker's
listening socket is a copy whose protocol reads 0, and asyncio turns Nagle's algorithm off only
for sockets whose protocol reads TCP. So each answer's body waited for the client's delayed
ACK: 44 ms per request for a lone client, even for a trivial app (docs/scale.md 6l). uvloop
sets TCP_NODELAY either way (0.3 ms), and httptools cut the server's CPU per request by ~25 %.
"""

from __future__ import annotations

import importlib.util
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
    return [sys.executable, "-m", "uvicorn", *argv[1:-1], *fast_stack(), GUARDED_APP], env


def fast_stack() -> list[str]:
    """uvicorn's options for uvloop and httptools (see the module doc); a clear error when the
    installation lacks them (both are dependencies of the project)."""
    missing = [name for name in ("uvloop", "httptools") if importlib.util.find_spec(name) is None]
    if missing:
        raise RuntimeError(
            f"the model server needs {' and '.join(missing)} (uvicorn's event loop and HTTP "
            "parser; without them each answer can wait 40 ms): reinstall the project with "
            "`make install` or `pip install -e .`"
        )
    return ["--loop", "uvloop", "--http", "httptools"]
