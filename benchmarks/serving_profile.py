"""Where a computed request's CPU goes: one recommend split into its parts, in-process.

    python benchmarks/serving_profile.py                  # the bundle benchmarks/serving.py built
    python benchmarks/serving_profile.py --bundle DIR --users 200 --json

Loads the bundle like the server (one BLAS thread, answer cache off) and, for a sample of known
users, times with `time.process_time` (CPU, not wall: the machine is shared) each component's
scores, the blend (aligned to the blend's movies, z-statistics, weighted sum: `fused`), the top-k,
the reasons (profile and per-movie), and the whole `RecommenderService.handle` for recommend and
similar. Prints ms of CPU per request for each part.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def profile(bundle_dir: Path, n_users: int, seed: int) -> dict[str, float]:
    import numpy as np
    import scipy.linalg  # noqa: F401  (loads the BLAS that threadpool_limits then limits)
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1)  # as the server (serving/pyfunc_model.py)
    os.environ["MOVIE_ROULETTE_ANSWER_CACHE"] = "0"
    from movie_roulette import bundle
    from movie_roulette.service import RecommenderService

    loaded = bundle.load(bundle_dir)
    service = RecommenderService(loaded)
    model = service.model
    rng = np.random.default_rng(seed)
    users = [int(u) for u in rng.choice(model.user_ids, n_users)]
    movies = [int(m) for m in rng.choice(loaded.catalogue["movie_id"].to_numpy(), n_users)]
    spent: dict[str, float] = {}

    def timed(name: str, work: Callable[..., Any], *args: Any) -> Any:
        started = time.process_time()
        out = work(*args)
        spent[name] = spent.get(name, 0.0) + time.process_time() - started
        return out

    explainer = service.explainer
    for user in users:
        seen = model.seen(model.user_index(user))[0]
        own = {}
        for name, comp in model.components.items():
            if model.weights.get(name, 0.0) == 0.0 or not comp.knows_user(user):
                continue
            own[name] = timed(f"score {name}", comp._score_all, comp.user_index(user))
        mixed = timed("blend", model._fused, own, seen)
        items = timed("top-k", model._items, mixed, seen, None, 20)
        person = timed("reasons: profile", explainer.user_profile, user)
        ids = [it.movie_id for it in items]
        parts = [it.components for it in items]
        timed("reasons: per movie", explainer.for_people, ids, person, parts)
        timed("recommend: whole request", service.handle, {"kind": "recommend", "user_id": user})
    for movie in movies:
        timed("similar: whole request", service.handle, {"kind": "similar", "movie_id": movie})
    return {name: round(1000 * value / n_users, 3) for name, value in spent.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    default = Path(
        os.environ.get("MOVIE_ROULETTE_CACHE_DIR", "~/.cache/movie_roulette")
    ).expanduser()
    parser.add_argument(
        "--bundle",
        type=Path,
        default=default / "serving-model-ml-latest-small" / "artifacts" / "bundle",
        help="a saved bundle (default: the one benchmarks/serving.py packaged)",
    )
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if not args.bundle.is_dir():
        parser.error(f"no bundle at {args.bundle}: run benchmarks/serving.py once, or --bundle")
    result = profile(args.bundle, args.users, args.seed)
    result["load_average"] = round(os.getloadavg()[0], 1)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for name, ms in result.items():
            print(f"{name:28s} {ms}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
