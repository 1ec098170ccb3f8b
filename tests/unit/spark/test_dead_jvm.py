"""A Spark driver JVM that dies (the out-of-memory killer, a kill by hand) is forgotten: MLflow
clients in the same process work again, a job that was running fails with one line naming the
exit, and the next session starts a new JVM.

Run in a child process: the test kills its JVMs, and the test session's shared SparkSession
(tests/unit/spark/conftest.py) must not be one of them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.spark_support import require_java

pytestmark = pytest.mark.spark

ROOT = Path(__file__).resolve().parents[3]

CHILD = r"""
import json, os, signal, time
import mlflow
from mlflow import MlflowClient
from pyspark import SparkContext
from movie_roulette.spark.session import SparkEngineError, get_session, spark_errors
from tests.spark_support import spark_test_config

out = {}
cfg = spark_test_config()

def kill_driver():
    proc = SparkContext._gateway.proc
    os.kill(proc.pid, signal.SIGKILL)
    return proc.pid

def mlflow_works():
    try:
        MlflowClient()  # resolves the registry URI: asks the active Spark session, if any
        return mlflow.get_registry_uri()
    except Exception as err:
        return f"FAILED {type(err).__name__}: {err}"

# 1. the JVM dies between steps: a watcher forgets it
spark = get_session(cfg)
out["first_count"] = spark.range(7).count()
out["first_pid"] = kill_driver()
deadline = time.monotonic() + 10
while SparkContext._gateway is not None and time.monotonic() < deadline:
    time.sleep(0.1)
out["forgotten_s"] = round(10 - (deadline - time.monotonic()), 2)
out["mlflow_after_idle_death"] = mlflow_works()
spark = get_session(cfg)
out["second_pid"] = SparkContext._gateway.proc.pid
out["second_count"] = spark.range(5).count()

# 2. the JVM dies under a running job: the job fails with one line, the next session works
df = spark.range(1_000_000).selectExpr("id % 97 AS k").groupBy("k").count()
out["second_pid_killed"] = kill_driver()
try:
    with spark_errors("counting the test rows"):
        df.collect()
    out["error"] = None
except SparkEngineError as err:
    out["error"] = str(err)
out["mlflow_after_job_death"] = mlflow_works()
spark = get_session(cfg)
out["third_count"] = spark.range(3).count()
print("RESULT " + json.dumps(out))
"""


def test_a_driver_jvm_that_died_is_forgotten(tmp_path: Path) -> None:
    require_java()
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_REGISTRY_URI"}
    env.update(
        MLFLOW_TRACKING_URI=f"sqlite:///{tmp_path / 'mlflow.db'}",
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")])),
    )
    done = subprocess.run(
        [sys.executable, "-c", CHILD],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith("RESULT ")]
    assert done.returncode == 0 and lines, done.stderr[-3000:]
    out = json.loads(lines[-1][len("RESULT ") :])

    assert out["first_count"] == 7
    assert out["forgotten_s"] < 5  # the watcher polls every 0.5 s
    # MLflow no longer reaches the dead gateway (a raw ConnectionRefusedError before)
    assert out["mlflow_after_idle_death"] == env["MLFLOW_TRACKING_URI"]
    assert out["second_pid"] != out["first_pid"] and out["second_count"] == 5

    # py4j's own traceback of the dead connection (root logger) is not printed above our line
    assert "Traceback" not in done.stderr and "Exception while sending" not in done.stderr, (
        done.stderr[-3000:]
    )
    error = out["error"]
    assert error is not None and "\n" not in error and "at org.apache" not in error
    assert "Spark driver JVM exited while counting the test rows" in error
    assert "SIGKILL" in error and "spark.driver_memory" in error
    assert out["mlflow_after_job_death"] == env["MLFLOW_TRACKING_URI"]
    assert out["third_count"] == 3
