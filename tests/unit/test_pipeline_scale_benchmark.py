"""benchmarks/pipeline_scale.py: the stamped log and the per-program memory timeline."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

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


def test_step_times_are_read_from_zenmls_console_lines() -> None:
    bench = load_benchmark("pipeline_scale")
    log = "\n".join(
        [
            "[    11.4s] \x1b[37mStep \x1b[0m\x1b[38;5;105mfingerprint_data\x1b[37m has "
            "finished in \x1b[0m\x1b[38;5;105m1.738s\x1b[37m.\x1b[0m",
            "[   447.4s] Step prepare_ratings_spark has finished in 7m15s.",
            "[  5000.0s] Step `train_hybrid_spark` has finished in `1h02m03s`.",
            "[  5001.0s] Step promote_model has started.",
            "[  5002.0s] Step promote_model has finished in 4.5s.",
            "[  5003.0s] Step promote_model has finished in 0.5s.",
        ]
    )
    assert bench.step_seconds(log) == {
        "fingerprint_data": 1.738,
        "prepare_ratings_spark": 435.0,
        "train_hybrid_spark": 3723.0,
        "promote_model": 5.0,
    }
    for bad in ("soon", "7m15", "1.5x"):
        with pytest.raises(ValueError, match="not a ZenML duration"):
            bench.duration_s(bad)
