"""Time and memory of one whole `run_pipeline.py` run (issue 13: the 25M pipeline target).

    python benchmarks/pipeline_scale.py --config configs/ml-25m.yaml \
        --data-dir /tmp/scale-base-bench/synthetic-25000000 --no-cache --json

Runs the pipeline as a user would (a subprocess), samples the memory of its whole process
tree every `--interval` seconds (the pipeline process, the model servers it starts are
separate: they are detached and are measured by benchmarks/scale.py), and prints one JSON
object: wall seconds, exit code, peak RSS of the pipeline process (the kernel's own high-water
mark), peak PSS of the tree (shared pages counted once) and of each program in it (python,
java: the Spark engine's JVM). The console output is kept in `--log`, each line prefixed with
the seconds since the start; `--timeline FILE` writes every sample (seconds, then each
program's PSS in MB) as CSV, so a peak can be matched to the step the log shows running then.
`step_s` gives each step's time as ZenML reported it, and `step_peak_pss_mb` each step's peak
PSS per program: the largest sample between the previous step's "finished" line and its own
(the PSS of one process carries what earlier steps left in its heap, so read a step's figure
against the same step in another run, not as the step's own need).

The pipeline deploys a model server, which outlives it and holds `serving.port`: at the end the
benchmark stops the config's model servers (`run_pipeline.py --stop-servers`), so a second
benchmark (another library, another ZenML store) can deploy on the same port. `--keep-servers`
leaves them running (to benchmark serving next).

`--runs 2` runs the pipeline twice in a row and reports both (`runs`; the top level is the last
run's): the second run is a rerun with the first run's version in production, so it shows what
comparing with production costs (`load_comparable_production`, `build_model_card`,
`promote_model`). Use a fresh ZenML store (`ZENML_CONFIG_PATH=DIR`) for a first run.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(p) for p in text.split()]


def _tree(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(_children(p))
    return out


def _pss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _comm(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return "?"


@dataclass
class MeasuredRun:
    exit_code: int
    wall_s: float
    peak_tree_pss_kb: int
    peak_pss_kb_by_program: dict[str, int]  # per program (python, java, ...): its processes' PSS
    samples: list[tuple[float, dict[str, int]]]  # (seconds since the start, PSS kB per program)


def run_measured(cmd: list[str], log_path: Path, interval: float) -> MeasuredRun:
    """Run `cmd`, copy its output to `log_path` (each line stamped with the seconds since the
    start) and sample its process tree's PSS every `interval` seconds."""
    peak_pss_kb = 0
    peak_by_comm: dict[str, int] = {}
    samples: list[tuple[float, dict[str, int]]] = []
    start = time.monotonic()
    with (
        open(log_path, "w") as log,
        subprocess.Popen(
            cmd,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
            env=os.environ.copy(),
            text=True,
            errors="replace",
        ) as proc,
    ):
        done = threading.Event()

        def copy_log() -> None:
            assert proc.stdout is not None
            for line in proc.stdout:
                log.write(f"[{time.monotonic() - start:8.1f}s] {line}")
                log.flush()

        def sample() -> None:
            nonlocal peak_pss_kb
            while not done.wait(interval):
                by_comm: dict[str, int] = {}
                for p in _tree(proc.pid):
                    c = _comm(p)
                    by_comm[c] = by_comm.get(c, 0) + _pss_kb(p)
                kb = sum(by_comm.values())
                for c, v in by_comm.items():
                    peak_by_comm[c] = max(peak_by_comm.get(c, 0), v)
                samples.append((time.monotonic() - start, by_comm))
                peak_pss_kb = max(peak_pss_kb, kb)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        copier = threading.Thread(target=copy_log, daemon=True)
        copier.start()
        rc = proc.wait()
        copier.join()
        done.set()
        sampler.join()
    return MeasuredRun(rc, time.monotonic() - start, peak_pss_kb, peak_by_comm, samples)


_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_FINISHED = re.compile(r"Step (\S+) has finished in (\S+?)\.?$")
_UNIT_S = {"h": 3600.0, "m": 60.0, "s": 1.0}


def duration_s(text: str) -> float:
    """ZenML's step durations ("1.738s", "7m15s", "1h02m03s") in seconds."""
    parts = re.findall(r"([0-9.]+)([hms])", text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise ValueError(f"not a ZenML duration: {text!r}")
    return sum(float(n) * _UNIT_S[u] for n, u in parts)


def _finished(line: str) -> re.Match[str] | None:
    """ZenML's "Step X has finished in D." in a console line (colours and backticks dropped)."""
    return _FINISHED.search(_ANSI.sub("", line).replace("`", "").rstrip())


def step_seconds(log_text: str) -> dict[str, float]:
    """Each finished step's time, from the console output ("Step X has finished in 7m15s.";
    a step run twice keeps the sum)."""
    out: dict[str, float] = {}
    for line in log_text.splitlines():
        match = _finished(line)
        if match:
            out[match[1]] = round(out.get(match[1], 0.0) + duration_s(match[2]), 3)
    return out


_STAMP = re.compile(r"^\[\s*([0-9.]+)s\] ")


def step_windows(log_text: str) -> list[tuple[str, float, float]]:
    """(step, start s, end s) for each finished step, in log order: a step's window runs from
    the previous step's "finished" line (or the start) to its own."""
    out: list[tuple[str, float, float]] = []
    previous = 0.0
    for line in log_text.splitlines():
        stamp = _STAMP.match(line)
        match = _finished(line)
        if stamp and match:
            end = float(stamp[1])
            out.append((match[1], previous, end))
            previous = end
    return out


def step_peak_pss_mb(
    log_text: str, samples: list[tuple[float, dict[str, int]]]
) -> dict[str, dict[str, int]]:
    """Each finished step's peak PSS per program (MB) over the samples in its window; a step
    run twice keeps the larger peak; a step whose window holds no sample is left out."""
    out: dict[str, dict[str, int]] = {}
    for step, start, end in step_windows(log_text):
        peaks = out.setdefault(step, {})
        for t, by_comm in samples:
            if start <= t <= end:
                for program, kb in by_comm.items():
                    peaks[program] = max(peaks.get(program, 0), round(kb / 1024))
        if not peaks:
            del out[step]
    return out


def stop_servers(config: str) -> bool:
    """Stop the config's model servers (`run_pipeline.py --stop-servers`); True when it worked."""
    cmd = [sys.executable, str(ROOT / "run_pipeline.py"), "--config", config, "--stop-servers"]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, errors="replace")
    if done.returncode != 0:
        print(f"stopping the model servers failed: {done.stdout}{done.stderr}", file=sys.stderr)
    return done.returncode == 0


def _write_timeline(path: Path, samples: list[tuple[float, dict[str, int]]]) -> None:
    """One row a sample: seconds since the start, then each program's PSS in MB."""
    programs = sorted({c for _, by_comm in samples for c in by_comm})
    lines = [",".join(["seconds", *programs])]
    for t, by_comm in samples:
        row = [f"{t:.1f}", *(str(round(by_comm.get(c, 0) / 1024)) for c in programs)]
        lines.append(",".join(row))
    path.write_text("\n".join(lines) + "\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--config", required=True)
    ap.add_argument("--data-dir", required=True)
    ap.add_argument("--no-cache", action="store_true")
    ap.add_argument("--interval", type=float, default=2.0)
    ap.add_argument("--log", default="/tmp/pipeline-scale.log")
    ap.add_argument("--timeline", default=None, help="CSV of every memory sample")
    ap.add_argument("--runs", type=int, default=1, help="run the pipeline this many times")
    ap.add_argument(
        "--keep-servers", action="store_true", help="leave the deployed model servers running"
    )
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    if args.runs < 1:
        ap.error("--runs must be at least 1")

    cmd = [
        sys.executable,
        str(ROOT / "run_pipeline.py"),
        "--config",
        args.config,
        "--data-dir",
        args.data_dir,
    ]
    if args.no_cache:
        cmd.append("--no-cache")
    runs = []
    for number in range(1, args.runs + 1):
        log = Path(args.log if args.runs == 1 else f"{args.log}.{number}")
        run = run_measured(cmd, log, args.interval)
        if args.timeline:
            timeline = args.timeline if args.runs == 1 else f"{args.timeline}.{number}"
            _write_timeline(Path(timeline), run.samples)
        log_text = log.read_text(errors="replace")
        runs.append(
            {
                "exit_code": run.exit_code,
                "wall_s": round(run.wall_s, 1),
                "peak_tree_pss_mb": round(run.peak_tree_pss_kb / 1024),
                # e.g. python (the pipeline, the Spark driver's Python side), java (Spark's JVM)
                "peak_pss_mb_by_program": {
                    c: round(v / 1024) for c, v in sorted(run.peak_pss_kb_by_program.items())
                },
                "step_s": step_seconds(log_text),
                "step_peak_pss_mb": step_peak_pss_mb(log_text, run.samples),
                "log": str(log),
            }
        )
        if run.exit_code != 0:
            break
    # the kernel's high-water mark over every run (the largest child process), read before the
    # servers are stopped (that command is a child too)
    peak_rss_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    servers_stopped = False if args.keep_servers else stop_servers(args.config)
    result = {
        "config": args.config,
        "data_dir": args.data_dir,
        **runs[-1],
        "peak_rss_mb": round(peak_rss_mb),
        "servers_stopped": servers_stopped,
        "cpu_count": os.cpu_count(),
        "load_avg_at_end": os.getloadavg(),
    }
    if args.runs > 1:
        result["runs"] = runs
    if args.json:
        print(json.dumps(result))
    else:
        for k, v in result.items():
            print(f"{k}: {v}")
    sys.exit(0 if run.exit_code == 0 else 1)


if __name__ == "__main__":
    main()
