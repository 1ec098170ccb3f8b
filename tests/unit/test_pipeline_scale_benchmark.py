"""benchmarks/pipeline_scale.py: the stamped log and the per-program memory timeline."""

from __future__ import annotations

import sys
from pathlib import Path

from tests.benchmarks_support import load_benchmark

CHILD = """
import time
print("first", flush=True)
block = bytearray(64 * 1024 * 1024)  # touched: 64 MB resident
for i in range(0, len(block), 4096):
    block[i] = 1
time.sleep(0.6)
print("second", flush=True)
"""


def test_a_measured_run_stamps_its_log_and_samples_the_memory_it_holds(tmp_path: Path) -> None:
    bench = load_benchmark("pipeline_scale")
    log = tmp_path / "run.log"
    run = bench.run_measured([sys.executable, "-c", CHILD], log, 0.1)

    assert run.exit_code == 0
    lines = log.read_text().splitlines()
    assert [line.split("] ", 1)[1] for line in lines] == ["first", "second"]
    stamps = [float(line[1:].split("s]", 1)[0]) for line in lines]
    assert stamps[0] <= stamps[1] and stamps[1] - stamps[0] >= 0.5
    assert run.samples, "no memory sample in a 0.6 s run sampled every 0.1 s"
    assert max(run.peak_pss_kb_by_program.values()) >= 60 * 1024  # the 64 MB block

    timeline = tmp_path / "timeline.csv"
    bench._write_timeline(timeline, run.samples)
    header, *rows = timeline.read_text().splitlines()
    programs = header.split(",")[1:]
    assert header.startswith("seconds,") and programs
    assert len(rows) == len(run.samples)
    assert max(int(v) for row in rows for v in row.split(",")[1:]) >= 60


def test_a_failing_run_reports_its_exit_code(tmp_path: Path) -> None:
    bench = load_benchmark("pipeline_scale")
    run = bench.run_measured([sys.executable, "-c", "raise SystemExit(3)"], tmp_path / "l", 0.1)
    assert run.exit_code == 3
