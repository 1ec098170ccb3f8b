"""The SparkSession of a run, built from the `spark` config section, with one-line errors.

Java missing or too old, a malformed `spark.master`, a cluster that is unreachable or gives no
executor within `spark.connect_timeout_s`, and a job that fails (a worker lost mid-job) each
raise `SparkEngineError` whose message names the problem and the fix; the Java stack trace is
only logged at DEBUG level. One session per process is reused while the settings are the same.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import py4j
from py4j.protocol import Py4JError, Py4JJavaError, Py4JNetworkError
from pyspark.errors import PySparkException
from pyspark.sql import SparkSession

from movie_roulette.config import SparkConfig
from movie_roulette.exceptions import MovieRouletteError

logger = logging.getLogger(__name__)

MIN_JAVA = 17
_MASTER = re.compile(
    r"^(local(\[(\*|[1-9]\d*)(,[1-9]\d*)?\])?"
    r"|spark://[A-Za-z0-9.\-]+:\d{1,5}(,[A-Za-z0-9.\-]+:\d{1,5})*"
    r"|k8s://\S+|yarn)$"
)
_LOST = re.compile(
    r"ExecutorLostFailure|[Ll]ost executor|Executor heartbeat timed out|worker lost|"
    r"Remote RPC client disassociated|SparkContext was shut down|"
    r"cancelled because SparkContext was shut down|Master removed our application",
)
_RAISED = re.compile(r"^[A-Za-z_.]*(Error|Exception): ")
_session: SparkSession | None = None
_session_key: tuple | None = None
_last_cfg: SparkConfig | None = None
_lost: list[str] = []  # set by the watchdog when it cancels the jobs of a cluster without workers
_jvm_exits: list[int] = []  # exit codes of driver JVMs that died under this process (newest last)


class SparkEngineError(MovieRouletteError):
    """Spark cannot run this job; the message names the problem and the fix."""


def java_version(java: str) -> int | None:
    """The major version of a `java` binary (None when it does not answer)."""
    try:
        out = subprocess.run(
            [java, "-version"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.search(r'version "(\d+)(?:\.(\d+))?', out.stderr + out.stdout)
    if not match:
        return None
    major = int(match.group(1))
    return int(match.group(2) or 0) if major == 1 else major


def check_java() -> str:
    """Path of a Java >= 17 (JAVA_HOME first, then PATH), or a one-line error."""
    home = os.environ.get("JAVA_HOME")
    java = str(Path(home) / "bin" / "java") if home else shutil.which("java")
    fix = "install it (apt-get install -y openjdk-17-jre-headless) or point JAVA_HOME at a JDK 17+"
    if not java or not Path(java).exists():
        raise SparkEngineError(f"Java is missing: engine: spark needs Java {MIN_JAVA}+; {fix}.")
    version = java_version(java)
    if version is None or version < MIN_JAVA:
        raise SparkEngineError(
            f"Java at {java} is version {version or 'unknown'}: Spark 4 needs Java {MIN_JAVA}+; "
            f"{fix}."
        )
    return java


def check_master(master: str) -> None:
    if not _MASTER.match(master):
        raise SparkEngineError(
            f"spark.master: {master!r} is not a Spark master URL; use local[*], local[N] or "
            "spark://HOST:7077 (a standalone cluster: make spark-cluster prints its URL)."
        )


def _endpoints(master: str) -> list[tuple[str, int]]:
    if not master.startswith("spark://"):
        return []
    out = []
    for part in master[len("spark://") :].split(","):
        host, _, port = part.rpartition(":")
        out.append((host, int(port)))
    return out


def check_reachable(master: str, timeout_s: float) -> None:
    """A standalone master must accept a TCP connection before Spark tries (and retries) it."""
    endpoints = _endpoints(master)
    errors = []
    for host, port in endpoints:
        try:
            with socket.create_connection((host, port), timeout=min(timeout_s, 10.0)):
                return
        except OSError as err:
            errors.append(f"{host}:{port}: {err.strerror or err}")
    if endpoints:
        raise SparkEngineError(
            f"Spark master {master} is unreachable ({'; '.join(errors)}): start the cluster "
            "(make spark-cluster) or fix spark.master."
        )


def _key(cfg: SparkConfig) -> tuple:
    return (
        cfg.master,
        cfg.app_name,
        cfg.driver_memory,
        cfg.executor_memory,
        cfg.executor_cores,
        cfg.ui,
        cfg.shuffle_partitions,
        cfg.driver_host,
    )


def _builder(cfg: SparkConfig) -> SparkSession.Builder:
    builder = (
        SparkSession.builder.master(cfg.master)
        .appName(cfg.app_name)
        .config("spark.driver.memory", cfg.driver_memory)
        .config("spark.executor.memory", cfg.executor_memory)
        .config("spark.ui.enabled", "true" if cfg.ui else "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", str(cfg.shuffle_partitions))
        .config("spark.default.parallelism", str(cfg.shuffle_partitions))
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        # toPandas frees each Arrow buffer as pandas takes it: the collected ratings are held
        # once, not twice (prep.to_pandas)
        .config("spark.sql.execution.arrow.pyspark.selfDestruct.enabled", "true")
        # Python workers run this interpreter (its venv has the project installed)
        .config("spark.pyspark.python", sys.executable)
        .config("spark.pyspark.driver.python", sys.executable)
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.task.maxFailures", "2")
        .config("spark.network.timeout", "60s")
        .config("spark.executor.heartbeatInterval", "10s")
    )
    log4j = _log4j_file(cfg.log_level)
    # a deep stack: ALS iterations build long task lineages (deserialised recursively)
    java_opts = f"-Dlog4j.configurationFile=file:{log4j} -Xss16m"
    builder = builder.config("spark.driver.extraJavaOptions", java_opts).config(
        "spark.executor.extraJavaOptions", java_opts
    )
    if cfg.executor_cores is not None:
        builder = builder.config("spark.executor.cores", str(cfg.executor_cores))
    if cfg.driver_host:
        builder = builder.config("spark.driver.host", cfg.driver_host).config(
            "spark.driver.bindAddress", cfg.driver_host
        )
    return builder


_LOG4J = """\
rootLogger.level = {level}
rootLogger.appenderRef.stdout.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{{yy/MM/dd HH:mm:ss}} %p %c{{1}}: %m%n%ex
# start-up and linear-algebra notices that say nothing about the run
logger.native.name = org.apache.hadoop.util.NativeCodeLoader
logger.native.level = error
logger.blas.name = dev.ludovic.netlib
logger.blas.level = error
logger.utils.name = org.apache.spark.util.Utils
logger.utils.level = error
"""


def _log4j_file(level: str) -> Path:
    """Spark's log4j2 settings at `level` (default WARN), written once per level."""
    path = Path(tempfile.gettempdir()) / f"movie-roulette-spark-log4j2-{level.lower()}.properties"
    text = _LOG4J.format(level=level.lower())
    if not path.exists() or path.read_text() != text:
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(text)
        tmp.replace(path)
    return path


def _wait_for_executors(spark: SparkSession, cfg: SparkConfig) -> None:
    """A cluster application without executors would wait forever for its first task."""
    if not cfg.master.startswith("spark://"):
        return
    deadline = time.monotonic() + cfg.connect_timeout_s
    status = spark.sparkContext._jsc.sc().getExecutorMemoryStatus()  # type: ignore[union-attr]
    while status.size() < 2:  # the driver counts as one
        if time.monotonic() > deadline:
            raise SparkEngineError(
                f"Spark master {cfg.master} gave this application no executor within "
                f"{cfg.connect_timeout_s:g} s (spark.connect_timeout_s): check that the workers "
                "are up (make spark-cluster) and have spark.executor_memory "
                f"({cfg.executor_memory}) free."
            )
        time.sleep(0.5)
        status = spark.sparkContext._jsc.sc().getExecutorMemoryStatus()  # type: ignore[union-attr]


class _Py4JNetworkTraceback(logging.Filter):
    """py4j logs the traceback of every command that found its JVM gone on the *root* logger
    (`logging.exception` in `GatewayClient.send_command`) before pyspark raises: a dead driver
    JVM printed ~20 lines of py4j internals above the one-line error `spark_errors` gives.
    This filter, on the root logger, passes such a record to this module's DEBUG log instead
    (`logging.getLogger("movie_roulette.spark.session").setLevel(logging.DEBUG)` shows it)."""

    _package = os.path.dirname(py4j.__file__) + os.sep

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if (
            record.levelno >= logging.ERROR
            and isinstance(error, (Py4JNetworkError, ConnectionError))
            and record.pathname.startswith(self._package)
        ):
            logger.debug("py4j: %s", record.getMessage(), exc_info=record.exc_info)
            return False
        return True


_PY4J_FILTER = _Py4JNetworkTraceback()


def quiet_py4j_network_tracebacks() -> None:
    """Install `_Py4JNetworkTraceback` on the root logger (once; `get_session` calls it)."""
    root = logging.getLogger()
    if _PY4J_FILTER not in root.filters:
        root.addFilter(_PY4J_FILTER)


def get_session(cfg: SparkConfig) -> SparkSession:
    """The process's SparkSession for these settings (started, or reused when unchanged)."""
    global _session, _session_key, _last_cfg
    key = _key(cfg)
    if _session is not None and _session_key == key and _alive(_session):
        _last_cfg = cfg
        return _session
    check_master(cfg.master)
    check_java()
    check_reachable(cfg.master, cfg.connect_timeout_s)
    quiet_py4j_network_tracebacks()
    forget_exited_jvm()
    stop_session()
    # pyspark reads the workers' interpreter from the environment (SparkContext.pythonExec)
    os.environ["PYSPARK_PYTHON"] = sys.executable
    if cfg.master.startswith("local") and not cfg.driver_host:
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")  # local mode: loopback only
    try:
        spark = _builder(cfg).getOrCreate()
    except (PySparkException, Py4JError, RuntimeError, ConnectionError) as err:
        logger.debug("SparkSession failed to start", exc_info=True)
        raise SparkEngineError(
            f"Spark did not start with master {cfg.master} ({first_line(err)}): check "
            "spark.master, spark.driver_memory and that Java 17 runs (java -version)."
        ) from None
    spark.sparkContext.setLogLevel(cfg.log_level)
    # ALS checkpoints every 10 iterations (checkpointInterval) only when a folder is set;
    # without it the lineage grows with the iterations until a task overflows the stack.
    # The folder is on this machine's file system, which the namespace cluster's workers share.
    spark.sparkContext.setCheckpointDir(str(_checkpoint_dir()))
    try:
        _wait_for_executors(spark, cfg)
    except SparkEngineError:
        spark.stop()
        raise
    # (the settings `active_session` reopens: a call that failed leaves the last good ones)
    _session, _session_key, _last_cfg = spark, key, cfg
    _jvm_exits.clear()  # an earlier JVM's exit says nothing about this one's jobs
    _watch_jvm()
    if cfg.master.startswith("spark://"):
        threading.Thread(
            target=_watch_executors, args=(spark, cfg), name="spark-executor-watchdog", daemon=True
        ).start()
    return spark


def _executor_count(spark: SparkSession) -> int:
    return spark.sparkContext._jsc.sc().getExecutorMemoryStatus().size() - 1  # type: ignore


def _watch_executors(spark: SparkSession, cfg: SparkConfig) -> None:
    """A standalone application whose workers all died waits for new executors forever: after
    `connect_timeout_s` without any, cancel its jobs so the run fails with a clear message.

    The timeout is the latest `get_session` call's: a session is reused across settings that
    do not need a new one (`_key` leaves the timeout out), and it used to keep the timeout of
    the call that started it (a 120 s watchdog where the caller had asked for 10 s)."""
    since: float | None = None
    while _session is spark and _alive(spark):
        timeout = (_last_cfg or cfg).connect_timeout_s
        try:
            count = _executor_count(spark)
        except Exception:  # noqa: BLE001  (the gateway is going away)
            return
        if count > 0:
            since = None
        elif since is None:
            since = time.monotonic()
        elif time.monotonic() - since > timeout:
            _lost.append(f"no executor for {timeout:g} s")
            spark.sparkContext.cancelAllJobs()
            since = time.monotonic()
        time.sleep(1.0)


def _driver_process() -> tuple[object, subprocess.Popen | None]:
    """(pyspark's gateway, the driver JVM process it launched; None when it connected to one
    it did not start, PYSPARK_GATEWAY_PORT)."""
    from pyspark import SparkContext

    gateway = SparkContext._gateway
    return gateway, getattr(gateway, "proc", None)


_watched: set[int] = set()


def _watch_jvm() -> None:
    """Forget the driver JVM as soon as it exits (`forget_exited_jvm`), once per JVM."""
    _, proc = _driver_process()
    if proc is None or proc.pid in _watched:
        return
    _watched.add(proc.pid)

    def watch() -> None:
        # poll, not wait(): wait() holds the Popen's lock and poll() elsewhere would read None
        while proc.poll() is None:
            time.sleep(0.5)
        forget_exited_jvm()

    threading.Thread(target=watch, name="spark-jvm-watch", daemon=True).start()


def forget_exited_jvm() -> int | None:
    """When this process's Spark driver JVM has exited (the out-of-memory killer, a kill by
    hand), make pyspark forget it and return its exit code; None while it runs.

    pyspark keeps a dead gateway: every later session in the process fails to start with a raw
    `ConnectionRefusedError`, and so does every MLflow client, local-engine steps included,
    because `MlflowClient()` asks the active Spark session for `spark.mlflow.modelRegistryUri`
    (ZenML's experiment tracker, the registry steps). Forgotten, the next Spark step starts a
    new JVM and MLflow sees no session. Called by a watcher thread started with each JVM, by
    `get_session` and by `spark_errors`. (pyspark has no public call for this: its `stop()`
    needs the JVM alive; these are the class fields its own start and stop set.)"""
    from pyspark import SparkContext
    from pyspark.sql import SQLContext

    global _session, _session_key
    gateway, proc = _driver_process()
    if proc is None:
        return None
    code = proc.poll()
    if code is None:
        return None
    with SparkContext._lock:
        if SparkContext._gateway is not gateway:
            return code  # forgotten already (another thread)
        SparkContext._active_spark_context = None
        SparkContext._gateway = None
        SparkContext._jvm = None
    SparkSession._instantiatedSession = None
    SparkSession._activeSession = None
    SQLContext._instantiatedContext = None
    _session, _session_key = None, None
    _jvm_exits.append(code)
    try:  # the Python side's callback server and sockets (the Java side is gone)
        gateway.shutdown()  # type: ignore[attr-defined]
    except Exception:  # noqa: BLE001
        logger.debug("closing the dead gateway failed", exc_info=True)
    logger.warning(
        "The Spark driver JVM exited (%s); the next Spark step starts a new one.",
        _exit_meaning(code),
    )
    return code


def _exit_meaning(code: int) -> str:
    if code in (-9, 137):
        return f"code {code}: killed with SIGKILL, which is what the out-of-memory killer sends"
    if code < 0:
        return f"code {code}: killed by signal {-code}"
    return f"code {code}"


def _checkpoint_dir() -> Path:
    return Path(tempfile.gettempdir()) / f"movie-roulette-spark-checkpoints-{os.getpid()}"


def use_settings(cfg: SparkConfig) -> None:
    """The settings the next Spark fit opens its session with (`active_session`), without
    starting one. A step that may refit a Spark-fitted model (the served refit, production's
    refit for the comparison) names the config's: without them a step run on its own (cached
    predecessors, another process) fitted on a default `local[*]` session, not on
    `spark.master`. No JVM starts unless a fit needs one."""
    global _last_cfg
    _last_cfg = cfg


def active_session() -> SparkSession:
    """The session of the last `get_session` / `use_settings` call's settings (started, or
    restarted with them if it was stopped or had other settings; a default local one when
    neither was called in this process)."""
    if _session is not None and _alive(_session):
        if _last_cfg is None or _session_key == _key(_last_cfg):
            return _session
    return get_session(_last_cfg or SparkConfig())


def _alive(spark: SparkSession) -> bool:
    try:
        return not spark.sparkContext._jsc.sc().isStopped()  # type: ignore[union-attr]
    except Exception:  # noqa: BLE001  (a dead gateway raises anything)
        return False


def stop_session() -> None:
    global _session, _session_key
    if _session is not None:
        try:
            _session.stop()
        except Exception:  # noqa: BLE001
            logger.debug("stopping the SparkSession failed", exc_info=True)
        shutil.rmtree(_checkpoint_dir(), ignore_errors=True)
    _session, _session_key = None, None


def first_line(err: BaseException) -> str:
    """The Java (or Python) exception's own message, without the stack trace."""
    if isinstance(err, Py4JJavaError):
        try:
            text = str(err.java_exception.toString())
        except Exception:  # noqa: BLE001
            text = str(err)
    else:
        text = str(err)
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    line = lines[0] if lines else type(err).__name__
    if "Python worker" in line:  # the worker's own exception is the last "XError: ..." line
        raised = [ln for ln in lines if _RAISED.match(ln)]
        line = raised[-1] if raised else line
    return line if len(line) <= 300 else line[:297] + "..."


def describe_failure(err: BaseException, what: str) -> str:
    if _jvm_exits:
        code = _jvm_exits[-1]
        _jvm_exits.clear()
        return (
            f"The Spark driver JVM exited while {what} ({_exit_meaning(code)}): give Spark more "
            "memory (spark.driver_memory, and free memory on this machine) and rerun; the next "
            "run starts a new JVM."
        )
    if _lost:
        reason = _lost.pop()
        return (
            f"Spark lost every worker while {what} ({reason}, spark.connect_timeout_s): check "
            "the workers (make spark-cluster; their logs are in the cluster's folder) and rerun."
        )
    text = str(err)
    if isinstance(err, Py4JJavaError):
        try:
            text = str(err.java_exception.toString()) + "\n" + str(err)
        except Exception:  # noqa: BLE001
            pass
    if _LOST.search(text):
        return (
            f"Spark lost a worker while {what} ({first_line(err)}): check the workers "
            "(make spark-cluster; their logs are in the cluster's work folder) and rerun."
        )
    return f"Spark failed while {what}: {first_line(err)}."


@contextmanager
def spark_errors(what: str) -> Iterator[None]:
    """Turn a failing Spark job into one `SparkEngineError` line (trace at DEBUG)."""
    try:
        yield
    except SparkEngineError:
        raise
    except (Py4JError, PySparkException, ConnectionError) as err:
        logger.debug("Spark failure while %s", what, exc_info=True)
        if not isinstance(err, Py4JJavaError):  # the JVM raised it: it is alive
            _await_jvm_exit()  # (a dead JVM shows as a Py4JError or a ConnectionError)
        raise SparkEngineError(describe_failure(err, what)) from None


def _await_jvm_exit(seconds: float = 2.0) -> None:
    """A job that failed without a Java exception, maybe because the driver JVM died: wait
    briefly for it to exit, so the message says so (the connection drops a moment before the
    process is gone)."""
    deadline = time.monotonic() + seconds
    while not _jvm_exits and forget_exited_jvm() is None and time.monotonic() < deadline:
        if _driver_process()[1] is None:
            return
        time.sleep(0.1)


def release_arrow_memory() -> None:
    """Hand the memory Arrow freed back to the OS. pyarrow's allocator (mimalloc) keeps freed
    pages for reuse: after collecting 25M ratings the driver held 3.4 GB instead of 1.8 GB
    without this (benchmarks/spark_prep.py; docs/spark.md section 11)."""
    import pyarrow as pa

    pa.default_memory_pool().release_unused()
