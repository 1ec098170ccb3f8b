"""The CLI's console (console.py): one handler, library chatter hidden by default, each line once,
a watchdog line when a step is silent; `-v` shows everything. The CLI run itself, with its line
budget, is tests/integration/test_console_output.py."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from zenml.logger import ZenMLConsoleHandler

import console
from console import ConsoleFilter, setup_console


def record(name: str, message: str, level: int = logging.INFO) -> logging.LogRecord:
    return logging.LogRecord(name, level, __file__, 1, message, (), None)


@pytest.fixture()
def restore_root() -> Iterator[logging.Logger]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield root
    setup_console(verbose=True)  # no filter, no watchdog left behind
    root.handlers[:] = handlers
    root.setLevel(level)


def test_default_console_shows_milestones_own_lines_and_warnings_once() -> None:
    shown = ConsoleFilter().filter
    gx = "great_expectations._docs_decorators"
    assert not shown(record(gx, "Skipping registering function foo because it is a closure"))
    assert not shown(record("great_expectations.data_context.types.base", "Created temporary"))
    launcher = "zenml.orchestrators.step_launcher"
    assert not shown(record(launcher, "Step `load_ratings` has started."))
    assert shown(record(launcher, "Step `load_ratings` has finished in `2.9s`."))
    assert shown(record(launcher, "Using cached version of step `load_ratings`."))
    assert shown(
        record("zenml.pipelines.pipeline_definition", "Initiating a new run for the pipeline: x.")
    )
    assert not shown(record("zenml.pipelines.pipeline_definition", "Using stack: default"))
    assert shown(record("movie_roulette.progress", "train_hybrid: fitting svd (30 s so far)"))
    assert not shown(record("movie_roulette.progress", "train_hybrid: fitting svd (30 s so far)"))
    assert not shown(record("py.warnings", "UserWarning: regex", logging.WARNING))
    tracker = "zenml.integrations.mlflow.experiment_trackers.mlflow_experiment_tracker"
    assert not shown(record(tracker, "Failed to disable MLflow autologging for", logging.WARNING))
    assert shown(record(tracker, "Something else went wrong", logging.WARNING))
    assert shown(record("mlflow.store", "database is locked", logging.ERROR))


def test_the_watchdog_speaks_when_a_running_step_was_silent() -> None:
    now = [100.0]
    console_filter = ConsoleFilter(clock=lambda: now[0])
    launcher = "zenml.orchestrators.step_launcher"
    console_filter.filter(record(launcher, "Step `build_model_card` has started."))
    now[0] += console.HEARTBEAT_S - 1
    assert console_filter.silence() is None
    now[0] += 2
    assert console_filter.silence() == ("build_model_card", console.HEARTBEAT_S + 1)
    console_filter.filter(record("console", "build_model_card: still running (31 s)"))
    assert console_filter.silence() is None  # a line was just shown
    console_filter.filter(record(launcher, "Step `build_model_card` has finished in `1m`."))
    now[0] += 100
    assert console_filter.silence() is None  # no step runs


def test_one_console_handler_filtered_by_default_and_not_with_verbose(
    restore_root: logging.Logger,
) -> None:
    """Issue 16 #6: run_pipeline.py's basicConfig handler printed every line a second time."""
    logging.basicConfig(level=logging.WARNING, force=False)
    extra = logging.StreamHandler()
    restore_root.addHandler(extra)  # what basicConfig adds when it runs first
    setup_console(verbose=False)
    assert extra not in restore_root.handlers
    consoles = [h for h in restore_root.handlers if isinstance(h, ZenMLConsoleHandler)]
    assert len(consoles) == 1
    assert sum(isinstance(f, ConsoleFilter) for f in consoles[0].filters) == 1
    setup_console(verbose=False)  # idempotent
    assert sum(isinstance(f, ConsoleFilter) for f in consoles[0].filters) == 1
    setup_console(verbose=True)
    assert not any(isinstance(f, ConsoleFilter) for f in consoles[0].filters)


def test_run_pipeline_has_no_basic_config() -> None:
    from pathlib import Path

    source = (Path(__file__).resolve().parents[2] / "run_pipeline.py").read_text()
    assert "basicConfig" not in source and "setup_console(verbose)" in source


def test_library_telemetry_is_off_whatever_imports_it_first() -> None:
    """whylogs decides at import (WHYLOGS_NO_ANALYTICS); the library set it only in
    monitoring/profiles.py, too late when whylogs came in through another module first."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    env = {k: v for k, v in os.environ.items() if k != "WHYLOGS_NO_ANALYTICS"}
    code = (
        "import console; console.setup_console()\n"
        "import whylogs.api.usage_stats as u, os\n"
        "print(u._TELEMETRY_DISABLED, os.environ['GX_ANALYTICS_ENABLED'],"
        " os.environ['ZENML_ANALYTICS_OPT_IN'])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    ).stdout.split()
    assert out[-3:] == ["True", "False", "false"]
