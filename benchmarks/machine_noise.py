"""How steady this machine is at the work a served request does: the spread of a fixed task.

    python benchmarks/machine_noise.py --seconds 8 --json

A served request is a few milliseconds of reads spread over arrays of tens of megabytes (a
user's history rows of EASE and item-kNN, the pool's heads). On a shared machine such reads
sometimes take several times as long, with no page fault, no context switch and no steal time
reported: the same request repeated takes its usual time. The serving benchmarks' p99 then
measures the machine as much as the server. This script times one fixed task again and again
in one process, for both kinds of work:

* `gather`: 200,000 random reads from a 16 MB float32 array (memory-bound, like a request);
* `cached`: the sum of a 1.6 MB array (it stays in the core's cache);

and prints each one's p50, p99 and max (ms) and how many repetitions took over 5x the median.
On an idle dedicated core both spreads are narrow; run it next to a latency benchmark to read
that benchmark's tail (docs/scale.md 6l).
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable

import numpy as np


def spread(task: Callable[[], object], seconds: float) -> dict[str, float]:
    """Times of `task` repeated for `seconds`: p50, p99, max (ms) and the slow repetitions."""
    times = []
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        start = time.perf_counter()
        task()
        times.append(time.perf_counter() - start)
    ms = np.array(times) * 1000
    median = float(np.median(ms))
    return {
        "repetitions": len(ms),
        "p50_ms": round(median, 3),
        "p99_ms": round(float(np.percentile(ms, 99)), 3),
        "max_ms": round(float(ms.max()), 3),
        "over_5x_median": int((ms > 5 * median).sum()),
    }


def measure(seconds: float, seed: int = 0) -> dict[str, dict[str, float]]:
    rng = np.random.default_rng(seed)
    big = rng.random(4_000_000, dtype=np.float32)
    reads = rng.integers(0, len(big), 200_000)
    small = rng.random(200_000)
    return {
        "gather": spread(lambda: big[reads].sum(), seconds),
        "cached": spread(small.sum, seconds),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0, help="per task")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if args.seconds <= 0:
        parser.error("--seconds must be positive")
    result = measure(args.seconds)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for name, r in result.items():
            print(
                f"{name}: p50 {r['p50_ms']} ms, p99 {r['p99_ms']} ms, max {r['max_ms']} ms, "
                f"{r['over_5x_median']} of {r['repetitions']} over 5x the median"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
