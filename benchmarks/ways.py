"""Run a benchmark's ways (e.g. frames vs files) each in a fresh process and compare them.

The script re-runs itself with `--child WAY` and the given arguments; the child prints one JSON
object (its last stdout line) holding its measurements and a "figures" entry: what both ways
must agree on. Used by catalogue_memory.py and judging_memory.py.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


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


def way_parser(doc: str, ways: tuple[str, ...]) -> argparse.ArgumentParser:
    """The arguments both benchmarks share: the synthetic data, --ratings, --work, --json and
    the hidden --child WAY; a script adds its own before `parse`."""
    from benchmarks.scale import add_synthetic_arguments

    parser = argparse.ArgumentParser(description=doc.split("\n")[0])
    add_synthetic_arguments(parser, config=ROOT / "configs" / "ml-25m.yaml")
    parser.add_argument("--ratings", type=int, default=25_000_000)
    parser.add_argument("--work", type=Path, help="where the inputs go (default: beside data)")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--child", choices=ways, help=argparse.SUPPRESS)
    return parser


def parse(parser: argparse.ArgumentParser, work_suffix: str) -> tuple[argparse.Namespace, Any]:
    """(args, the synthetic data's config); --work defaults to the data folder + suffix."""
    from benchmarks.scale import synthetic_config

    args = parser.parse_args()
    cfg = synthetic_config(args, args.ratings)
    if args.work is None:
        data = Path(cfg.data.data_dir)
        args.work = data.with_name(data.name + work_suffix)
    return args, cfg


def child_argv(args: argparse.Namespace) -> list[str]:
    """The shared arguments, as a child process is given them."""
    argv = ["--ratings", str(args.ratings), "--seed", str(args.seed)]
    argv += ["--config", str(args.config), "--data-root", str(args.data_root)]
    return argv + ["--work", str(args.work)]
