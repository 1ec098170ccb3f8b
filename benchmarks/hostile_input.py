"""Hostile-input benchmark: the costs issue 15 measured, before and after, in one process.

    python benchmarks/hostile_input.py            # prints a table
    python benchmarks/hostile_input.py --json

1. The title-year pattern `\\s*\\((\\d{4})\\)\\s*$` the service used (quadratic in a run of
   spaces) against its replacement `_normalise_title`, on titles of 10k / 20k / 80k spaces;
2. what the request guard (serving/guard.py) adds to a request: `check_body` on a typical
   one-row body, on 100 rows, and on a 1 MiB body;
3. the one typed validation of a row (`parse_request`).
Each figure is the median of `--repeat` runs (the old pattern: one run, it is slow).
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # `serving` the package, not benchmarks/serving.py

from movie_roulette.request import parse_request  # noqa: E402
from movie_roulette.service import _normalise_title  # noqa: E402
from serving.guard import check_body  # noqa: E402

OLD_YEAR_SUFFIX = re.compile(r"\s*\((\d{4})\)\s*$")


def _old_normalise(title: str) -> str:
    return re.sub(r"\s+", " ", OLD_YEAR_SUFFIX.sub("", title)).strip().casefold()


def seconds(fn: Callable[[], Any], repeat: int) -> float:
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - started)
    return statistics.median(runs)


def run(repeat: int) -> dict[str, float]:
    out: dict[str, float] = {}
    for n in (10_000, 20_000, 80_000):
        title = "x" + " " * n + "y"
        if n <= 20_000:
            out[f"old title pattern, {n} spaces (s)"] = seconds(
                lambda t=title: _old_normalise(t), 1
            )
        out[f"new title parsing, {n} spaces (us)"] = 1e6 * seconds(
            lambda t=title: _normalise_title(t), repeat
        )
    row = {"kind": "recommend", "user_id": 42, "k": 10, "genre": "Comedy"}
    one = json.dumps({"inputs": [row]}).encode()
    hundred = json.dumps({"inputs": [row] * 100}).encode()
    big = json.dumps({"inputs": [{"kind": "similar", "title": "x" * 1_048_000}]}).encode()[
        :1_048_576
    ]
    big = big[: big.rfind(b"x")] + b'"}]}'
    out["guard check, 1 row (us)"] = 1e6 * seconds(lambda: check_body(one, 100), repeat)
    out["guard check, 100 rows (us)"] = 1e6 * seconds(lambda: check_body(hundred, 100), repeat)
    out["guard check, 1 MiB body (ms)"] = 1e3 * seconds(lambda: check_body(big, 100), repeat)
    out["parse_request, 1 row (us)"] = 1e6 * seconds(lambda: parse_request(row), repeat)
    return {k: round(v, 4) for k, v in out.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = run(args.repeat)
    if args.json:
        print(json.dumps(result, indent=2))
        return
    for name, value in result.items():
        print(f"{name:<40} {value:>12}")


if __name__ == "__main__":
    main()
