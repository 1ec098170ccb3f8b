"""Run a benchmark's ways (e.g. frames vs files) each in a fresh process and compare them.

The script re-runs itself with `--child WAY` and the given arguments; the child prints one JSON
object (its last stdout line) holding its measurements and a "figures" entry: what both ways
must agree on. Used by catalogue_memory.py and judging_memory.py.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def run_ways(script: str, ways: tuple[str, ...], argv: list[str]) -> tuple[dict, list, bool]:
    """({way: measurements}, [figures per way], same_figures) from one child process per way."""
    results: dict = {}
    for way in ways:
        log(f"way {way}")
        done = subprocess.run(
            [sys.executable, script, *argv, "--child", way], capture_output=True, text=True
        )
        if done.returncode:
            raise SystemExit(f"{way} failed:\n{done.stderr[-3000:]}")
        results[way] = json.loads(done.stdout.strip().splitlines()[-1])
    figures = [results[w].pop("figures") for w in ways]
    texts = {json.dumps(f, sort_keys=True) for f in figures}
    return results, figures, len(texts) == 1
