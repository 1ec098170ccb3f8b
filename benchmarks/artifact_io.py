"""Writing and reading a rating frame as a ZenML artifact: ZenML's pandas materializer (gzip
Parquet) against the project's `FrameMaterializer` (zstd Parquet).

    python benchmarks/artifact_io.py --ratings 25000000 --data-root /tmp/scale-base-bench --json

Loads the synthetic ratings of benchmarks/scale.py as `load_ratings` does, then saves and loads
them through each materializer into a temporary folder (the local artifact store's own file
operations), and times the dashboard's visualizations (describe, sample) once: they are the same
for both. Prints one JSON object: {"rows", "materializers": {name: {"write_s", "read_s", "mb"}},
"visualizations_s", "write_ratio", "read_ratio"}; the frames read back must equal the original
(checked).

With --statistics, it measures instead the memory of the artifact's statistics and `describe`
visualization (`extract_metadata` + `save_visualizations`), ZenML's whole-frame way against the
`FrameMaterializer`'s column at a time, each in a fresh process that loads the ratings first:
{"rows", "frame_mb", "statistics": {name: {"peak_above_frame_mb", "seconds"}}}. Measure at a
large size (25M): small arrays reuse memory the loading freed, which hides part of the peak.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


STATISTICS = ("zenml", "frame")


def _statistics_child(args: argparse.Namespace) -> dict:
    """Load the ratings, reset the high-water mark, then compute the artifact's statistics and
    visualizations one way; the peak above the loaded frame."""
    from zenml.integrations.pandas.materializers.pandas_materializer import PandasMaterializer

    from benchmarks.scale import reset_peak_mb, status_mb, synthetic_config
    from materializers.frame_materializer import FrameMaterializer
    from materializers.local_files import LocalFiles
    from movie_roulette.data import sources

    cfg = synthetic_config(args, args.ratings)
    ratings = sources.load_ratings(cfg.data, seed=cfg.seed)
    base = reset_peak_mb()
    with tempfile.TemporaryDirectory(prefix="artifact-stats-") as tmp:
        cls = PandasMaterializer if args.statistics_child == "zenml" else FrameMaterializer
        materializer = cls(tmp, artifact_store=LocalFiles())
        start = time.perf_counter()
        materializer.extract_metadata(ratings)
        materializer.save_visualizations(ratings)
        seconds = time.perf_counter() - start
    return {
        "peak_above_frame_mb": round(status_mb("VmHWM") - base, 1),
        "seconds": round(seconds, 2),
    }


def _statistics(args: argparse.Namespace) -> dict:
    import subprocess

    out: dict = {}
    for name in STATISTICS:
        cmd = [sys.executable, __file__, "--ratings", str(args.ratings), "--seed", str(args.seed)]
        cmd += ["--config", str(args.config), "--data-root", str(args.data_root)]
        done = subprocess.run(
            [*cmd, "--statistics-child", name], capture_output=True, text=True, check=True
        )
        out[name] = json.loads(done.stdout.strip().splitlines()[-1])
        if not args.json:
            print(f"statistics {name}", out[name], file=sys.stderr)
    return out


def main() -> None:
    from benchmarks.scale import add_synthetic_arguments, folder_mb, synthetic_config

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_synthetic_arguments(parser)
    parser.add_argument("--ratings", type=int, default=25_000_000)
    parser.add_argument("--json", action="store_true", help="only the JSON object on stdout")
    parser.add_argument(
        "--statistics", action="store_true", help="only the statistics' memory, both ways"
    )
    parser.add_argument("--statistics-child", choices=STATISTICS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.statistics_child:
        print(json.dumps(_statistics_child(args)))
        return

    import pandas as pd
    from zenml.integrations.pandas.materializers.pandas_materializer import PandasMaterializer

    from materializers.frame_materializer import FrameMaterializer
    from materializers.local_files import LocalFiles
    from movie_roulette.data import sources

    cfg = synthetic_config(args, args.ratings)
    ratings = sources.load_ratings(cfg.data, seed=cfg.seed)
    if args.statistics:
        frame_mb = round(ratings.memory_usage(deep=True).sum() / 2**20, 1)
        stats = {"rows": len(ratings), "frame_mb": frame_mb, "statistics": _statistics(args)}
        print(json.dumps(stats, indent=None if args.json else 2))
        return
    out: dict = {"rows": len(ratings), "materializers": {}}
    with tempfile.TemporaryDirectory(prefix="artifact-io-") as tmp:
        for name, cls in (("zenml_gzip", PandasMaterializer), ("frame_zstd", FrameMaterializer)):
            uri = os.path.join(tmp, name)
            materializer = cls(uri, artifact_store=LocalFiles())
            start = time.perf_counter()
            materializer.save(ratings)
            write_s = time.perf_counter() - start
            start = time.perf_counter()
            back = cls(uri, artifact_store=LocalFiles()).load(pd.DataFrame)
            read_s = time.perf_counter() - start
            pd.testing.assert_frame_equal(back, ratings)
            del back
            out["materializers"][name] = {
                "write_s": round(write_s, 2),
                "read_s": round(read_s, 2),
                "mb": folder_mb(Path(uri)),
            }
            if not args.json:
                print(name, out["materializers"][name], file=sys.stderr)
        start = time.perf_counter()
        viz = FrameMaterializer(os.path.join(tmp, "viz"), artifact_store=LocalFiles())
        viz.save_visualizations(ratings)
        out["visualizations_s"] = round(time.perf_counter() - start, 2)
    gzip, zstd = out["materializers"]["zenml_gzip"], out["materializers"]["frame_zstd"]
    out["write_ratio"] = round(gzip["write_s"] / zstd["write_s"], 1)
    out["read_ratio"] = round(gzip["read_s"] / zstd["read_s"], 1)
    print(json.dumps(out, indent=None if args.json else 2))


if __name__ == "__main__":
    main()
