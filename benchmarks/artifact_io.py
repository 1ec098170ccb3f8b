"""Writing and reading a rating frame as a ZenML artifact: ZenML's pandas materializer (gzip
Parquet) against the project's `FrameMaterializer` (zstd Parquet).

    python benchmarks/artifact_io.py --ratings 25000000 --data-root /tmp/scale-base-bench --json

Loads the synthetic ratings of benchmarks/scale.py as `load_ratings` does, then saves and loads
them through each materializer into a temporary folder (the local artifact store's own file
operations), and times the dashboard's visualizations (describe, sample) once: they are the same
for both. Prints one JSON object: {"rows", "materializers": {name: {"write_s", "read_s", "mb"}},
"visualizations_s", "write_ratio", "read_ratio"}; the frames read back must equal the original
(checked).
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


def main() -> None:
    from benchmarks.scale import add_synthetic_arguments, folder_mb, synthetic_config

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_synthetic_arguments(parser)
    parser.add_argument("--ratings", type=int, default=25_000_000)
    parser.add_argument("--json", action="store_true", help="only the JSON object on stdout")
    args = parser.parse_args()

    import pandas as pd
    from zenml.integrations.pandas.materializers.pandas_materializer import PandasMaterializer

    from materializers.frame_materializer import FrameMaterializer
    from materializers.local_files import LocalFiles
    from movie_roulette.data import sources

    cfg = synthetic_config(args, args.ratings)
    ratings = sources.load_ratings(cfg.data, seed=cfg.seed)
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
