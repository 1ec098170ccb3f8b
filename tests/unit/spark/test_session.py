"""One-line errors instead of Java stack traces (no SparkSession is started here)."""

from __future__ import annotations

import logging
import os
import socket

import py4j
import pytest
from py4j.protocol import Py4JNetworkError

from movie_roulette.config import SparkConfig, config_from_dict
from movie_roulette.exceptions import ConfigError
from movie_roulette.spark import session
from movie_roulette.spark.session import SparkEngineError, get_session

pytestmark = pytest.mark.spark


def _one_line(err: pytest.ExceptionInfo) -> str:
    text = str(err.value)
    assert "\n" not in text and "at org.apache" not in text
    return text


@pytest.mark.parametrize("master", ["localhost", "spark://", "spark://h", "local[0]", "mesos://x"])
def test_a_bad_master_url_is_named(master: str) -> None:
    with pytest.raises(
        SparkEngineError, match="spark.master.*local\\[\\*\\].*spark://HOST:7077"
    ) as err:
        get_session(SparkConfig(master=master))
    assert master in _one_line(err)


def test_missing_java_is_named_with_the_fix(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("JAVA_HOME", str(tmp_path / "no-jdk"))
    with pytest.raises(SparkEngineError, match="Java is missing.*openjdk-17-jre-headless") as err:
        get_session(SparkConfig(master="local[1]"))
    _one_line(err)


def test_old_java_is_refused(monkeypatch, tmp_path) -> None:
    java = tmp_path / "jdk" / "bin" / "java"
    java.parent.mkdir(parents=True)
    java.write_text("#!/bin/sh\necho 'openjdk version \"11.0.2\" 2019-01-15' >&2\n")
    java.chmod(0o755)
    monkeypatch.setenv("JAVA_HOME", str(tmp_path / "jdk"))
    with pytest.raises(SparkEngineError, match="version 11: Spark 4 needs Java 17"):
        session.check_java()


def test_an_unreachable_cluster_is_named_quickly() -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    cfg = SparkConfig(master=f"spark://127.0.0.1:{port}", connect_timeout_s=5)
    with pytest.raises(SparkEngineError, match="unreachable.*make spark-cluster") as err:
        get_session(cfg)
    _one_line(err)


def test_a_lost_worker_is_described_as_such() -> None:
    err = RuntimeError(
        "Job aborted due to stage failure: Task 3 in stage 7.0 failed 2 times, most recent "
        "failure: Lost task 3.1 in stage 7.0 (TID 40) (10.77.0.3 executor 1): "
        "ExecutorLostFailure (executor 1 exited caused by one of the running tasks)\n"
        "\tat org.apache.spark.scheduler.DAGScheduler.failJobAndIndependentStages(...)"
    )
    text = session.describe_failure(err, "fitting als_implicit")
    assert "lost a worker while fitting als_implicit" in text and "make spark-cluster" in text
    assert "\n" not in text and "at org.apache" not in text


def _record(path: str, level: int, error: BaseException | None) -> logging.LogRecord:
    exc_info = (type(error), error, None) if error is not None else None
    return logging.LogRecord(
        "root", level, path, 1, "Exception while sending command.", (), exc_info
    )


def test_py4j_network_tracebacks_go_to_the_debug_log(caplog) -> None:
    """py4j's `logging.exception` on the root logger for a JVM that went away is passed to the
    session module's DEBUG log; other records, and other libraries' network errors, pass."""
    session.quiet_py4j_network_tracebacks()
    session.quiet_py4j_network_tracebacks()  # idempotent
    root = logging.getLogger()
    assert root.filters.count(session._PY4J_FILTER) == 1
    in_py4j = os.path.join(os.path.dirname(py4j.__file__), "java_gateway.py")
    gone = Py4JNetworkError("Error while sending or receiving")
    with caplog.at_level(logging.DEBUG, logger="movie_roulette.spark.session"):
        assert not root.filter(_record(in_py4j, logging.ERROR, gone))
        assert not root.filter(_record(in_py4j, logging.ERROR, ConnectionResetError(104, "reset")))
    assert [r.getMessage() for r in caplog.records] == [
        "py4j: Exception while sending command."
    ] * 2
    assert caplog.records[0].exc_info[1] is gone
    assert root.filter(_record(in_py4j, logging.ERROR, ValueError("not a network error")))
    assert root.filter(_record(in_py4j, logging.INFO, None))
    assert root.filter(_record("/elsewhere/client.py", logging.ERROR, gone))


def test_engine_keys_are_checked() -> None:
    assert config_from_dict({}).engine == "local"
    assert config_from_dict({}).spark.master == "local[*]"
    with pytest.raises(ConfigError, match="engine"):
        config_from_dict({"engine": "dask"})
    with pytest.raises(ConfigError, match="spark.als_implicit.alpha"):
        config_from_dict({"spark": {"als_implicit": {"alpha": 0}}})
    # every split strategy runs on Spark (the time cut-off since 2026-12-04: test_split.py)
    assert config_from_dict({"engine": "spark", "split": {"strategy": "time"}}).split.strategy
    # review sentiment is a hybrid component on either engine
    assert config_from_dict({"engine": "spark", "sentiment": {"enabled": True}}).sentiment.enabled
