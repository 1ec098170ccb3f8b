"""Memory of the catalogue steps with the ratings as a frame vs read a batch at a time.

    python benchmarks/catalogue_memory.py --ratings 25000000 \
        --data-root /tmp/scale-base-bench --json

`merge_catalogue` (popularity = each movie's number of ratings, and the join coverage it logs)
and `validate_catalogue` (the join-coverage suite) need only per-movie counts of the ratings.
They used to take the ratings as a `pd.DataFrame` input; they now take a `RatingsSource` (the
ratings artifact's Parquet file, read a batch at a time; docs/spark.md section 26).

The script loads the synthetic ratings as `load_ratings` does and writes them once through the
pipeline's `FrameMaterializer` (under --work). Then, in a fresh process for each way, it loads
the catalogue sources, loads the ratings artifact as that way's step input does (`frames`:
`pd.DataFrame`; `files`: `RatingsSource`) and runs both steps' library calls
(`merge_catalogue`, `join_coverage`, `validate_catalogue`, `validate_join_coverage`). It prints
{"ratings", "movies", "ways": {"frames": {...}, "files": {...}}, "same_figures"} with, per way,
"peak_rss_mb" (VmHWM of the process), "peak_above_sources_mb" (above the RSS once the catalogue
sources are loaded) and "seconds" per call; `same_figures` says both ways gave the same
catalogue (checksum), coverage and validation statistics.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

WAYS = ("frames", "files")


def _log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def _prepare(args: argparse.Namespace, cfg) -> Path:
    """The ratings artifact as `load_ratings` writes it, under --work (once)."""
    from materializers.frame_materializer import FrameMaterializer
    from materializers.local_files import LocalFiles
    from movie_roulette.data import sources

    folder = args.work / "ratings"
    done = args.work / "ratings.done"
    if not done.exists():
        _log("loading the ratings as load_ratings does and writing the artifact")
        ratings = sources.load_ratings(cfg.data, seed=cfg.seed)
        folder.mkdir(parents=True, exist_ok=True)
        FrameMaterializer(str(folder), artifact_store=LocalFiles()).save(ratings)
        done.write_text(str(len(ratings)))
    return folder


def _child(args: argparse.Namespace) -> dict:
    import pandas as pd

    from benchmarks.scale import reset_peak_mb, status_mb, synthetic_config
    from materializers.frame_materializer import FrameMaterializer
    from materializers.local_files import LocalFiles
    from movie_roulette.data import sources
    from movie_roulette.data.catalogue import join_coverage, merge_catalogue
    from movie_roulette.fingerprint import frame_checksum
    from movie_roulette.ratings_source import RatingsSource
    from movie_roulette.validation import validate_catalogue, validate_join_coverage

    cfg = synthetic_config(args, args.ratings)
    catalogue_sources = sources.load_catalogue_sources(cfg.data, seed=cfg.seed)
    base = reset_peak_mb()
    seconds: dict[str, float] = {}

    def timed(name: str, call):
        start = time.perf_counter()
        out = call()
        seconds[name] = round(time.perf_counter() - start, 2)
        return out

    kind = pd.DataFrame if args.child == "frames" else RatingsSource
    artifact = FrameMaterializer(str(args.work / "ratings"), artifact_store=LocalFiles())
    ratings = timed("load", lambda: artifact.load(kind))
    catalogue = timed("merge", lambda: merge_catalogue(catalogue_sources, ratings=ratings))
    coverage = timed("coverage", lambda: join_coverage(ratings, catalogue))
    suite = timed("catalogue_suite", lambda: validate_catalogue(catalogue))
    join = timed(
        "join_suite",
        lambda: validate_join_coverage(
            ratings, catalogue, cfg.data.min_join_coverage, sources.content_columns(cfg.data)
        ),
    )
    keep = ("rows", "rated_movies", "unknown_movie_ids", "ratings_with_unknown_movie")
    return {
        "peak_rss_mb": round(status_mb("VmHWM"), 1),
        "peak_above_sources_mb": round(status_mb("VmHWM") - base, 1),
        "seconds": seconds,
        "movies": len(catalogue),
        "figures": {
            "catalogue_sha256": frame_checksum(catalogue),
            "coverage": coverage,
            "catalogue_suite": suite.success,
            "join_suite": join.success,
            "join": {k: join.statistics[k] for k in (*keep, "join_coverage")},
        },
    }


def main() -> None:
    from benchmarks.ways import child_argv, parse, run_ways, way_parser

    args, cfg = parse(way_parser(__doc__, WAYS), "-catalogue")
    if args.child:
        print(json.dumps(_child(args), default=str))
        return
    _prepare(args, cfg)
    ways, figures, same = run_ways(__file__, WAYS, child_argv(args))
    out: dict = {"ratings": args.ratings, "ways": ways, "same_figures": same}
    out["movies"] = out["ways"]["files"]["movies"]
    out["coverage"] = figures[1]["coverage"]
    print(json.dumps(out, indent=None if args.json else 2))
    if not out["same_figures"]:
        raise SystemExit(f"the two ways gave different figures: {figures}")


if __name__ == "__main__":
    main()
