"""Autocomplete benchmark: latency and hit rate of the web app's title search on real titles.

    python benchmarks/autocomplete.py                 # MovieLens ml-latest-small (9,742 titles)
    python benchmarks/autocomplete.py --titles tmdb   # TMDB top 10k (10,000 titles)
    python benchmarks/autocomplete.py --json

Queries are made from randomly drawn catalogue titles (seeded): what someone types part-way
(the first 3, 5 and 8 characters, lower case), the whole title in upper case, and the whole title
with one typo (two neighbouring letters swapped, or one letter dropped). A hit@k means the drawn
movie is among the first k suggestions (8 are shown). Latency is the wall time of one
`TitleIndex.suggest(query, limit=8)` call in this process, which is what /api/suggest adds on top
of Flask. Titles shared by several movies count as a hit for any of them.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from movie_roulette.search import TitleIndex  # noqa: E402


def load_rows(kind: str, data_dir: Path) -> list[tuple[int, str, int | None, float]]:
    import pandas as pd

    if kind == "movielens":
        from movie_roulette.data.movielens import load_movies, load_ratings

        ml = data_dir / "ml-latest-small"
        movies = load_movies(ml)
        counts = load_ratings(ml).groupby("movie_id").size()
        pop = movies["movie_id"].map(counts).fillna(0)
        years = movies["year"]
    else:
        from movie_roulette.data.tmdb_csv import load_tmdb

        movies = load_tmdb(data_dir / "tmdb-top10k" / "top10K-TMDB-movies.csv")
        movies = movies.rename(columns={"tmdb_id": "movie_id"}) if "tmdb_id" in movies else movies
        pop = movies.get("popularity", pd.Series(0.0, index=movies.index))
        years = movies.get("year", pd.Series([None] * len(movies), index=movies.index))
    return [
        (int(m), str(t), None if pd.isna(y) else int(y), float(p))
        for m, t, y, p in zip(movies["movie_id"], movies["title"], years, pop, strict=True)
    ]


def typo(rng: random.Random, title: str) -> str:
    letters = [i for i, ch in enumerate(title) if ch.isalpha()]
    if len(letters) < 4:
        return title
    i = rng.choice(letters[1:-1])
    if rng.random() < 0.5 and i + 1 < len(title):
        return title[:i] + title[i + 1] + title[i] + title[i + 2 :]
    return title[:i] + title[i + 1 :]


def run(kind: str, data_dir: Path, n: int, seed: int) -> dict[str, Any]:
    rows = load_rows(kind, data_dir)
    started = time.perf_counter()
    index = TitleIndex(rows)
    build_s = time.perf_counter() - started
    by_title: dict[str, set[int]] = {}
    for movie_id, title, _, _ in rows:
        by_title.setdefault(title, set()).add(movie_id)
    rng = random.Random(seed)
    sample = rng.sample(rows, min(n, len(rows)))
    makers = {
        "prefix3": lambda t: t[:3].lower(),
        "prefix5": lambda t: t[:5].lower(),
        "prefix8": lambda t: t[:8].lower(),
        "upper": lambda t: t.upper(),
        "typo": lambda t: typo(rng, t),
    }
    for _ in range(20):  # warm-up
        index.suggest("the", limit=8)
    results: dict[str, Any] = {}
    for name, make in makers.items():
        times, hit1, hit8 = [], 0, 0
        for _, title, _, _ in sample:
            query = make(title)
            t0 = time.perf_counter()
            matches = index.suggest(query, limit=8)
            times.append(time.perf_counter() - t0)
            wanted = by_title[title]
            got = [m.movie_id for m in matches]
            hit1 += bool(got[:1] and got[0] in wanted)
            hit8 += bool(set(got) & wanted)
        times.sort()
        results[name] = {
            "queries": len(times),
            "p50_ms": round(1000 * statistics.median(times), 3),
            "p95_ms": round(1000 * times[int(0.95 * (len(times) - 1))], 3),
            "p99_ms": round(1000 * times[int(0.99 * (len(times) - 1))], 3),
            "max_ms": round(1000 * times[-1], 3),
            "hit@1": round(hit1 / len(times), 4),
            "hit@8": round(hit8 / len(times), 4),
        }
    return {
        "titles": len(rows),
        "source": kind,
        "build_index_s": round(build_s, 3),
        "seed": seed,
        "python": platform.python_version(),
        "load_avg_1m": round(os.getloadavg()[0], 2),
        "cpus": os.cpu_count(),
        "by_query": results,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--titles", choices=["movielens", "tmdb"], default="movielens")
    parser.add_argument("--data-dir", default=os.environ.get("MOVIE_ROULETTE_DATA_DIR"))
    parser.add_argument("--queries", type=int, default=1000, help="titles drawn per query kind")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    data_dir = Path(args.data_dir) if args.data_dir else REPO.parent / "shared" / "data"
    if not data_dir.is_dir():
        parser.error(f"--data-dir: {data_dir} does not exist (laid out like shared/data)")
    result = run(args.titles, data_dir, args.queries, args.seed)
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(
        f"{result['titles']} {result['source']} titles, index built in "
        f"{result['build_index_s']} s (load {result['load_avg_1m']} on {result['cpus']} CPUs)"
    )
    print("| query | n | p50 ms | p95 ms | p99 ms | max ms | hit@1 | hit@8 |")
    print("|---|---|---|---|---|---|---|---|")
    for name, r in result["by_query"].items():
        print(
            f"| {name} | {r['queries']} | {r['p50_ms']} | {r['p95_ms']} | {r['p99_ms']} | "
            f"{r['max_ms']} | {r['hit@1']} | {r['hit@8']} |"
        )


if __name__ == "__main__":
    main()
