"""Time and peak memory of the synthetic MovieLens generator at given sizes.

    python benchmarks/synthetic_data.py --sizes 1000000,5000000,25000000 --out /tmp/synthetic

Each size runs `python -m movie_roulette.data.synthetic` in its own process with MovieLens 25M's
users/movies per rating (162k users and 62k movies at 25M ratings) and prints one JSON object:
{"sizes": [{"ratings", "users", "movies", "wall_s", "cpu_s", "peak_rss_mb", "output_mb"}]}.
Peak RSS is the child's ru_maxrss (Linux: KiB); cpu_s its user + system CPU time (on a shared
machine, wall time also counts waiting for a core).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

from movie_roulette.data.synthetic import ml25m_shape


def measure(ratings: int, out: Path, seed: int) -> dict:
    spec = ml25m_shape(ratings, seed)
    folder = out / f"synthetic-{ratings}"
    cmd = [
        sys.executable, "-m", "movie_roulette.data.synthetic", "--users", str(spec.users),
        "--movies", str(spec.movies), "--ratings", str(spec.ratings), "--seed", str(seed),
        "--out", str(folder), "--quiet",
    ]  # fmt: skip
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(cmd, check=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    peak_kib = after.ru_maxrss  # max over the children so far
    size = sum(f.stat().st_size for f in folder.iterdir())
    return {
        "ratings": ratings,
        "users": spec.users,
        "movies": spec.movies,
        "wall_s": round(wall, 1),
        "cpu_s": round(cpu, 1),
        "peak_rss_mb": round(peak_kib / 1024, 1),
        "output_mb": round(size / 2**20, 1),
        "command": " ".join(cmd[1:]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000000,5000000")
    parser.add_argument("--out", type=Path, default=Path("/tmp/movie-roulette-synthetic"))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    sizes = sorted(int(s) for s in args.sizes.split(","))  # ascending: ru_maxrss is a running max
    print(json.dumps({"sizes": [measure(n, args.out, args.seed) for n in sizes]}, indent=2))


if __name__ == "__main__":
    main()
