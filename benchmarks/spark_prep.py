"""The Spark engine's data preparation at scale: time and the driver's memory.

    python benchmarks/spark_prep.py --ratings 25000000 --data-root /tmp/scale-base-bench --json

Runs what the pipeline's `prepare_ratings_spark` step runs (`spark.training.prepare_ratings`:
read the ratings CSV on Spark, type checks and deduplication, Great Expectations on the Spark
DataFrame, the train / valid / test split (--strategy; the config's per-user one by default),
then the frames the hybrid needs collected to pandas through Arrow) on a synthetic
MovieLens-shaped folder, with
`spark.master` --master (default local[2]) and --driver-memory. Prints one JSON object: the
step's own timings, the rows, the Python driver's peak RSS (ru_maxrss) and its RSS at the end
(what it holds: the four pandas frames), the driver JVM's peak RSS (VmHWM; in local mode the
JVM also runs the tasks), and the pandas frames' size (`frames_mb`: each frame counted on its
own; `frames_distinct_mb`: each buffer once, since the splits are slices of the ratings frame).
With --artifacts, the four frames are then written as the step's ZenML outputs are
(`FrameMaterializer`: zstd Parquet, its metadata and visualizations) into a temporary folder:
`artifacts_s` per frame, `artifacts_mb` and `driver_python_peak_rss_mb_with_artifacts` (the
peak over the preparation and the writes: the step holds its four frames while ZenML writes
them).
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _status_mb(pid: int, key: str) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(f"{key}:"):
                return round(int(line.split()[1]) / 1024, 1)
    except (OSError, ValueError):
        return None
    return None


def _write_artifacts(frames: dict) -> dict:
    """Each frame through the step's materializer, as ZenML writes an output: the data, then
    its metadata and visualizations (the local artifact store's own file operations)."""
    import tempfile

    from benchmarks.scale import folder_mb
    from materializers.frame_materializer import FrameMaterializer
    from materializers.local_files import LocalFiles

    seconds = {}
    with tempfile.TemporaryDirectory(prefix="spark-prep-artifacts-") as tmp:
        for name, frame in frames.items():
            materializer = FrameMaterializer(f"{tmp}/{name}", artifact_store=LocalFiles())
            start = time.perf_counter()
            materializer.save(frame)
            materializer.extract_metadata(frame)
            materializer.save_visualizations(frame)
            seconds[name] = round(time.perf_counter() - start, 1)
        size_mb = folder_mb(Path(tmp))
    return {"artifacts_s": seconds, "artifacts_mb": size_mb}


def _distinct_mb(frames: Iterable[Any]) -> float:
    """The frames' column buffers, each counted once (the splits can be views of the ratings)."""
    import numpy as np

    held: list[Any] = []
    for frame in frames:
        for column in frame.columns:
            values = frame[column].to_numpy()
            if not any(np.shares_memory(values, other) for other in held):
                held.append(values)
    return round(sum(v.nbytes for v in held) / 2**20, 1)


def main() -> None:
    from benchmarks.scale import add_synthetic_arguments, synthetic_config

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ratings", type=int, default=25_000_000)
    add_synthetic_arguments(parser, config=ROOT / "configs" / "ml-25m-spark.yaml")
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--driver-memory", default="4g")
    parser.add_argument(
        "--artifacts", action="store_true", help="also write the frames as the step's artifacts"
    )
    parser.add_argument(
        "--strategy",
        choices=["per_user", "per_user_time", "time"],
        help="split.strategy (default: the config's)",
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    import os

    from movie_roulette.spark.session import get_session, stop_session
    from movie_roulette.spark.training import prepare_ratings

    cfg = synthetic_config(args, args.ratings)
    spark = cfg.spark.model_copy(
        update=dict(master=args.master, driver_memory=args.driver_memory, ui=False)
    )
    cfg = cfg.model_copy(update=dict(spark=spark))
    if args.strategy:
        cfg = cfg.model_copy(
            update=dict(split=cfg.split.model_copy(update={"strategy": args.strategy}))
        )
    start = time.perf_counter()
    prepared = prepare_ratings(cfg)
    wall = time.perf_counter() - start
    jvm = get_session(cfg.spark).sparkContext._gateway.proc.pid  # type: ignore[union-attr]
    frames = {
        "ratings": prepared.ratings,
        "train": prepared.train,
        "valid": prepared.valid,
        "test": prepared.test,
    }
    out = {
        "ratings": args.ratings,
        "master": args.master,
        "strategy": cfg.split.strategy,
        "driver_memory": args.driver_memory,
        "wall_s": round(wall, 1),
        "seconds": prepared.seconds,
        "rows": {name: len(frame) for name, frame in frames.items()},
        "validation_success": bool(prepared.validation.success),
        "frames_mb": round(
            sum(f.memory_usage(deep=True).sum() for f in frames.values()) / 2**20, 1
        ),
        "frames_distinct_mb": _distinct_mb(frames.values()),
        "driver_python_peak_rss_mb": round(
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1
        ),
        "driver_python_rss_mb": _status_mb(os.getpid(), "VmRSS"),
        "driver_jvm_peak_rss_mb": _status_mb(jvm, "VmHWM"),
    }
    stop_session()
    if args.artifacts:
        out.update(_write_artifacts(frames))
        out["driver_python_peak_rss_mb_with_artifacts"] = round(
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1
        )
    print(json.dumps(out) if args.json else json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
