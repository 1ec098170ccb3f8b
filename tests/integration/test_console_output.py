"""Issue 16 #6: the CLI's default output on the demo data, as a user sees it (a subprocess with
ZenML's default verbosity): within the line budget, no line twice, no silence longer than the
heartbeat while a step runs, a summary at the end; then `--reports` lists the run's HTML reports
and the model version's pages."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from tests.integration.conftest import REPO_ROOT, write_config

pytestmark = [pytest.mark.integration, pytest.mark.slow]

LINE_BUDGET = 60
MAX_SILENCE_S = 45.0  # console.HEARTBEAT_S (30 s) + the watchdog's poll + a loaded machine
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _cli(*args: str) -> tuple[int, list[tuple[float, str]]]:
    """Run run_pipeline.py; every output line (stdout and stderr) with the time it arrived."""
    env = {k: v for k, v in os.environ.items() if k != "ZENML_LOGGING_VERBOSITY"}
    env["PYTHONUNBUFFERED"] = "1"
    start = time.monotonic()
    lines = []
    with subprocess.Popen(
        [sys.executable, str(REPO_ROOT / "run_pipeline.py"), *args],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    ) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append((time.monotonic() - start, ANSI.sub("", line.rstrip("\n"))))
        return proc.wait(timeout=60), lines


def test_demo_run_prints_a_short_summary_once_and_reports_lists_the_reports(
    tmp_path: Path, stack: str
) -> None:
    name = "mr_console_it"
    config = write_config(tmp_path, "quickstart", model_name=name, experiment_name=name)
    code, timed = _cli("--config", str(config))
    text = "\n".join(line for _, line in timed)
    assert code == 0, text
    lines = [line for _, line in timed if line.strip()]
    assert len(lines) <= LINE_BUDGET, f"{len(lines)} lines:\n{text}"
    repeated = {line: n for line, n in Counter(lines).items() if n > 1}
    assert not repeated, f"printed more than once: {repeated}"
    assert "Skipping registering function" not in text
    started = next(t for t, line in timed if line.startswith("Initiating a new run"))
    stamps = [t for t, line in timed if t >= started]
    gaps = [b - a for a, b in zip(stamps, stamps[1:], strict=False)]
    assert max(gaps) <= MAX_SILENCE_S, f"silent for {max(gaps):.0f} s:\n{text}"
    for expected in ("Summary", "Hybrid on the test split: ndcg@10", "Decision: promoted"):
        assert expected in text, text
    assert "Great Expectations, ratings:" in text and "Model card:" in text

    code, timed = _cli("--config", str(config), "--reports")
    view = "\n".join(line for _, line in timed)
    assert code == 0, view
    paths = re.findall(r"(/\S+/output\.html)", view)
    assert len(paths) >= 3 and all(Path(p).is_file() for p in paths), view
    assert "Great Expectations, ratings:" in view and "Model card:" in view
    assert f"/#/models/{name}/versions/1" in view, view
    assert re.search(r"ZenML run page: +http://127\.0\.0\.1:8237/projects/\S+/runs/\S+", view)
