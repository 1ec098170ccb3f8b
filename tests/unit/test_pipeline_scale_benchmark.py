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


STEPS_LOG = "\n".join(
    [
        "[     1.0s] Initiating a new run",
        "[    10.0s] Step split_ratings has finished in 9s.",
        "[    20.0s] Step \x1b[38;5;105mevaluate_models\x1b[37m has finished in 10s.",
        "[    21.0s] Step promote_model has finished in 0.5s.",
    ]
)


def test_each_steps_peak_is_the_largest_sample_between_the_previous_step_and_its_own() -> None:
    bench = load_benchmark("pipeline_scale")
    assert bench.step_windows(STEPS_LOG) == [
        ("split_ratings", 0.0, 10.0),
        ("evaluate_models", 10.0, 20.0),
        ("promote_model", 20.0, 21.0),
    ]
    mb = 1024
    samples = [
        (2.0, {"python": 500 * mb}),
        (8.0, {"python": 900 * mb, "java": 100 * mb}),
        (12.0, {"python": 700 * mb}),
        (18.0, {"python": 600 * mb}),
        (20.5, {"python": 650 * mb}),
    ]
    assert bench.step_peak_pss_mb(STEPS_LOG, samples) == {
        "split_ratings": {"python": 900, "java": 100},
        "evaluate_models": {"python": 700},
        "promote_model": {"python": 650},
    }
    # a step too short to hold a sample is left out, not reported as 0 MB
    assert "promote_model" not in bench.step_peak_pss_mb(STEPS_LOG, samples[:4])


@pytest.mark.parametrize("keep", [False, True])
def test_the_benchmark_stops_the_servers_its_runs_deployed_unless_told_to_keep_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], keep: bool
) -> None:
    import json

    bench = load_benchmark("pipeline_scale")
    stopped: list[str] = []

    def fake_run(cmd: list[str], log_path: Path, interval: float):  # noqa: ANN202
        log_path.write_text(STEPS_LOG + "\n")
        return bench.MeasuredRun(
            0, 21.0, 900 * 1024, {"python": 900 * 1024}, [(8.0, {"python": 900 * 1024})]
        )

    monkeypatch.setattr(bench, "run_measured", fake_run)
    monkeypatch.setattr(bench, "stop_servers", lambda config: stopped.append(config) or True)
    argv = ["pipeline_scale.py", "--config", "configs/x.yaml", "--data-dir", str(tmp_path)]
    argv += ["--log", str(tmp_path / "run.log"), "--runs", "2", "--json"]
    monkeypatch.setattr(sys, "argv", argv + (["--keep-servers"] if keep else []))
    with pytest.raises(SystemExit) as exit_:
        bench.main()
    assert exit_.value.code == 0
    result = json.loads(capsys.readouterr().out)
    assert stopped == ([] if keep else ["configs/x.yaml"])  # once, after both runs
    assert result["servers_stopped"] is (not keep)
    assert result["step_peak_pss_mb"] == {"split_ratings": {"python": 900}}
    assert [r["step_peak_pss_mb"] for r in result["runs"]] == [
        {"split_ratings": {"python": 900}}
    ] * 2
