"""The CLI's console: every line once, a short default output, the details with `-v`.

    from console import setup_console
    setup_console(verbose=False)      # run_pipeline.py, before a pipeline is imported

What a run prints by default (a real-data training run: about 40 lines):

* ZenML's milestones: the run starting, each step finishing (with its time), the run finishing,
  and every failure;
* this project's own log lines (`movie_roulette.*`, `serving.*`, `steps.*`, ...), among them the
  progress reporter's lines of a long training (`movie_roulette.progress`);
* while a step runs and nothing was shown for 30 s, a watchdog line ("build_model_card: still
  running (1 min 00 s)"), so the console is never silent longer than that;
* every warning and error, except the few known to be noise (`HIDDEN_WARNINGS`);
* what steps print, and the run summary (`reports.run_summary`).

Hidden by default, shown with `-v`: the INFO chatter of the libraries (Great Expectations logs
hundreds of "Skipping registering function" lines at import; its data context, MLflow's database
set-up, ZenML's stack listing and step starts), Python warnings from library code (`py.warnings`),
and repeats of a line already shown. Progress bars (tqdm, MLflow's artifact downloads) are off
by default. Usage telemetry of ZenML, Great Expectations and whylogs is always off.

There is exactly one console handler: ZenML's, which it puts on the root logger when it is
imported (it also stores each step's logs for the dashboard, unfiltered). A handler added
earlier with `logging.basicConfig` printed every line a second time; `setup_console` removes
any other stream handler from the root logger.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
from collections.abc import Callable

from movie_roulette.progress import format_seconds, reporting

# Usage telemetry off, always (set before the libraries are imported; they read it once).
TELEMETRY_OFF = {
    "ZENML_ANALYTICS_OPT_IN": "false",
    "GX_ANALYTICS_ENABLED": "False",
    "WHYLOGS_NO_ANALYTICS": "True",  # whylogs.api.usage_stats: any value opts out
}
# Progress bars off by default (one bar redraw is hundreds of characters on one line).
# Progress bars and MLflow's INFO lines off by default (read when those libraries are imported;
# one bar's redraws are hundreds of characters on one line).
QUIET_BY_DEFAULT = {
    "TQDM_DISABLE": "1",  # tqdm >= 4.66 reads TQDM_* defaults at import
    "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false",
    "MLFLOW_LOGGING_LEVEL": "WARNING",  # MLflow's loggers print through their own handler
}
OWN_LOGGERS = (
    "movie_roulette",
    "serving",
    "steps",
    "pipelines",
    "materializers",
    "webapp",
    "stack_setup",
    "run_pipeline",
    "reports",
    "dashboards",
    "console",
    "__main__",
)
log = logging.getLogger("console")
HEARTBEAT_S = 30.0  # the longest silence while a step runs (the watchdog's line)
STEP_STARTED = re.compile(r"^Step `?([^`\s]+)`? has started")
STEP_ENDED = re.compile(r"^(Step \S+ (has finished|failed)|Pipeline run )")
# The INFO lines of ZenML shown by default: a run's milestones.
ZENML_MILESTONES = re.compile(
    r"^(Initiating a new run for the pipeline|Step .+ has finished in"
    r"|Pipeline run .+ (failed|stopped)|Step .+ failed|Using cached version of step|Skipping step)"
)
# (logger, message pattern): warnings that tell a user nothing they can act on; shown with -v.
HIDDEN_WARNINGS = (
    ("py.warnings", re.compile("")),  # library code's deprecation/usage warnings
    # the MLflow tracker asks every MLflow flavour to stop autologging; fastai is not installed
    (
        "zenml.integrations.mlflow.experiment_trackers.mlflow_experiment_tracker",
        re.compile(r"^Failed to disable MLflow autologging"),
    ),
    # a fresh ZenML store picks its default stack (the project's stack is activated next)
    ("zenml.zen_stores.base_zen_store", re.compile(r"^Setting the (global|repo) active stack")),
)


def _own(name: str) -> bool:
    return any(name == own or name.startswith(own + ".") for own in OWN_LOGGERS)


class ConsoleFilter(logging.Filter):
    """The default console: milestones, own lines, warnings; each (logger, message) once.

    It also follows which step runs (ZenML's "Step X has started" lines, hidden) and when a line
    was last shown, for the watchdog."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self._seen: set[tuple[str, int, str]] = set()
        self.clock = clock
        self.last_shown = clock()
        self.step: str | None = None
        self.step_started = 0.0

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.name.startswith("zenml"):
            self._follow_steps(message)
        if not self._shown(record, message):
            return False
        key = (record.name, record.levelno, message)
        if key in self._seen:
            return False
        self._seen.add(key)
        self.last_shown = self.clock()
        return True

    def _follow_steps(self, message: str) -> None:
        started = STEP_STARTED.match(message)
        if started:
            self.step, self.step_started = started.group(1), self.clock()
        elif STEP_ENDED.match(message):
            self.step = None

    def silence(self) -> tuple[str, float] | None:
        """(running step, seconds in it) when nothing was shown for HEARTBEAT_S, else None."""
        step = self.step
        if step is None or self.clock() - self.last_shown < HEARTBEAT_S:
            return None
        return step, self.clock() - self.step_started

    @staticmethod
    def _shown(record: logging.LogRecord, message: str) -> bool:
        if record.levelno >= logging.ERROR:
            return True
        if record.levelno >= logging.WARNING:
            return not any(
                (record.name == name or record.name.startswith(name + "."))
                and pattern.search(message)
                for name, pattern in HIDDEN_WARNINGS
            )
        if _own(record.name):
            return True
        return record.name.startswith("zenml") and bool(ZENML_MILESTONES.match(message))


def _watch(console: ConsoleFilter, stop: threading.Event) -> None:
    """While a step runs, one line whenever the console was silent for HEARTBEAT_S: a long step
    without progress lines of its own (the model card, an evaluation) still shows it is alive."""
    while not stop.wait(1.0):
        quiet = console.silence()
        if quiet is not None and not reporting():  # a progress reporter speaks for itself
            log.info("%s: still running (%s)", quiet[0], format_seconds(quiet[1]))


_WATCHDOG: tuple[threading.Thread, threading.Event] | None = None


def _restart_watchdog(console: ConsoleFilter | None) -> None:
    global _WATCHDOG
    if _WATCHDOG is not None:
        _WATCHDOG[1].set()
        _WATCHDOG[0].join()
        _WATCHDOG = None
    if console is not None:
        stop = threading.Event()
        thread = threading.Thread(target=_watch, args=(console, stop), name="console-watchdog")
        thread.daemon = True
        thread.start()
        _WATCHDOG = (thread, stop)


def _console_handlers(root: logging.Logger) -> list[logging.Handler]:
    from zenml.logger import ZenMLConsoleHandler

    return [h for h in root.handlers if isinstance(h, ZenMLConsoleHandler)]


def setup_console(verbose: bool = False) -> None:
    """Configure the console for one CLI invocation (idempotent; see the module docstring)."""
    for name, value in TELEMETRY_OFF.items():
        os.environ.setdefault(name, value)
    if not verbose:
        for name, value in QUIET_BY_DEFAULT.items():
            os.environ.setdefault(name, value)
        if logging.getLogger("mlflow").handlers:  # MLflow was imported already
            logging.getLogger("mlflow").setLevel(logging.WARNING)
    import zenml  # noqa: F401  (importing it installs its console handler on the root logger)

    root = logging.getLogger()
    consoles = _console_handlers(root)
    for handler in list(root.handlers):
        if (
            type(handler) is logging.StreamHandler  # logging.basicConfig's, a second copy
            and handler not in consoles
        ):
            root.removeHandler(handler)
    console = None if verbose else ConsoleFilter()
    for handler in consoles:
        for old in [f for f in handler.filters if isinstance(f, ConsoleFilter)]:
            handler.removeFilter(old)
        if console is not None:
            handler.addFilter(console)
    _restart_watchdog(console if consoles else None)
