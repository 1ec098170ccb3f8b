"""The Spark engine's data preparation at scale: time and the driver's memory.

    python benchmarks/spark_prep.py --ratings 25000000 --data-root /tmp/scale-base-bench --json

Runs what the pipeline's `prepare_ratings_spark` step runs (`spark.training.prepare_ratings`:
read the ratings CSV on Spark, type checks and deduplication, Great Expectations on the Spark
DataFrame, the train / valid / test split (--strategy; the config's per-user one by default))
on a synthetic MovieLens-shaped folder, with `spark.master` --master (default local[2]) and
--driver-memory, then writes its four outputs as ZenML does (`SparkRatingsMaterializer`: Spark
writes each as sorted Parquet, then the files are read back a batch at a time for the
artifact's facts and checksum) into a temporary folder. Nothing is collected to the driver.
Prints one JSON object: the step's own timings, `write_s` per output, the rows, `artifacts_mb`,
the Python driver's peak RSS (ru_maxrss) and its RSS at the end, and the driver JVM's peak RSS
(VmHWM; in local mode the JVM also runs the tasks). With --read, the train output is then loaded
as a later step loads it (`pd.DataFrame`): `read_train_s` and the driver's peak after it.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
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


def _write_artifacts(prepared: Any, folder: str) -> dict:
    """Each output through the step's materializer, as ZenML writes it: the data, then its
    visualizations and metadata (the local artifact store's own file operations)."""
    from materializers.local_files import LocalFiles
    from materializers.spark_ratings_materializer import SparkRatingsMaterializer

    seconds, rows = {}, {}
    for name, part in prepared.parts().items():
        materializer = SparkRatingsMaterializer(f"{folder}/{name}", artifact_store=LocalFiles())
        start = time.perf_counter()
        materializer.save(part)
        materializer.save_visualizations(part)
        rows[name] = materializer.extract_metadata(part)["rows"]
        seconds[name] = round(time.perf_counter() - start, 1)
    return {"write_s": seconds, "rows": rows}


def _peak_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def main() -> None:
    from benchmarks.scale import add_synthetic_arguments, synthetic_config

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ratings", type=int, default=25_000_000)
    add_synthetic_arguments(parser, config=ROOT / "configs" / "ml-25m-spark.yaml")
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--driver-memory", default="4g")
    parser.add_argument(
        "--read", action="store_true", help="then load the train output as a pandas frame"
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
    import tempfile

    from benchmarks.scale import folder_mb

    start = time.perf_counter()
    prepared = prepare_ratings(cfg)
    wall = time.perf_counter() - start
    jvm = get_session(cfg.spark).sparkContext._gateway.proc.pid  # type: ignore[union-attr]
    out: dict[str, Any] = {
        "ratings": args.ratings,
        "master": args.master,
        "strategy": cfg.split.strategy,
        "driver_memory": args.driver_memory,
        "prepare_s": round(wall, 1),
        "seconds": prepared.seconds,
        "validation_success": bool(prepared.validation.success),
    }
    with tempfile.TemporaryDirectory(prefix="spark-prep-artifacts-") as tmp:
        start = time.perf_counter()
        out.update(_write_artifacts(prepared, tmp))
        out["wall_s"] = round(wall + time.perf_counter() - start, 1)
        out["artifacts_mb"] = folder_mb(Path(tmp))
        out["driver_python_peak_rss_mb"] = _peak_mb()
        out["driver_python_rss_mb"] = _status_mb(os.getpid(), "VmRSS")
        out["driver_jvm_peak_rss_mb"] = _status_mb(jvm, "VmHWM")
        stop_session()
        if args.read:
            import pandas as pd

            from materializers.local_files import LocalFiles
            from materializers.spark_ratings_materializer import SparkRatingsMaterializer

            start = time.perf_counter()
            train = SparkRatingsMaterializer(f"{tmp}/train", artifact_store=LocalFiles()).load(
                pd.DataFrame
            )
            out["read_train_s"] = round(time.perf_counter() - start, 1)
            out["read_train_rows"] = len(train)
            out["driver_python_peak_rss_mb_after_read"] = _peak_mb()
    print(json.dumps(out) if args.json else json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
