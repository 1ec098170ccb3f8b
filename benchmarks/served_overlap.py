"""Already-rated movies among the answers: the holdout model vs the served (refitted) model.

python benchmarks/served_overlap.py [--data-dir DIR] [--users N]

On MovieLens ml-latest-small with configs/movielens.yaml: split, train_hybrid (the pipeline's
recipe), then for each user the top-10 `recommend` and one `spin` of (a) the holdout model the
pipeline evaluates (train + valid) and (b) that recipe refitted on every rating (what is now
registered and served). Counts the answers that are already in the user's ratings.csv.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from movie_roulette.bundle import ModelBundle
from movie_roulette.config import load_config
from movie_roulette.data import sources
from movie_roulette.data.catalogue import merge_catalogue
from movie_roulette.data.split import train_valid_test
from movie_roulette.features.text import add_content_text
from movie_roulette.final_fit import refit_for_serving
from movie_roulette.models.hybrid import train_hybrid
from movie_roulette.service import RecommenderService

ROOT = Path(__file__).resolve().parents[1]


def overlap(
    service: RecommenderService, rated: dict[int, set[int]], k: int
) -> tuple[int, int, int]:
    shown = hits = users_hit = 0
    for user, movies in rated.items():
        recs = service.handle({"kind": "recommend", "user_id": user, "k": k})["items"]
        spin = service.handle({"kind": "spin", "user_id": user, "seed": user})["item"]
        ids = [it["movie_id"] for it in recs] + [spin["movie_id"]]
        found = sum(m in movies for m in ids)
        shown, hits, users_hit = shown + len(ids), hits + found, users_hit + (found > 0)
    return hits, shown, users_hit


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--users", type=int, default=0, help="first N users only (0 = all)")
    args = parser.parse_args()
    cfg = load_config(ROOT / "configs" / "movielens.yaml")
    data = cfg.data
    if args.data_dir is not None:
        data = data.model_copy(update={"data_dir": args.data_dir})
    ratings = sources.load_ratings(data, cfg.seed)
    features = add_content_text(
        merge_catalogue(sources.load_catalogue_sources(data, cfg.seed), ratings)
    )
    train, valid, test = train_valid_test(ratings, cfg.split, cfg.seed)
    rated = {int(u): set(g) for u, g in ratings.groupby("user_id")["movie_id"]}
    if args.users:
        rated = dict(list(rated.items())[: args.users])
    k = cfg.evaluation.k
    t0 = time.perf_counter()
    model = train_hybrid(train, valid, features, cfg.model, seed=cfg.seed, k=k)
    fit_s = time.perf_counter() - t0
    holdout = overlap(RecommenderService(ModelBundle(model, features, {})), rated, k)
    t0 = time.perf_counter()
    model, fits = refit_for_serving(model, train, valid, test, features)
    refit_s = time.perf_counter() - t0
    served = overlap(RecommenderService(ModelBundle(model, features, {})), rated, k)
    print(f"users: {len(rated)}; answers per user: top-{k} recommend + 1 spin")
    for name, (hits, shown, users_hit), rows in (
        ("holdout model (train+valid)", holdout, fits["holdout"].rows),
        ("served model (all ratings)", served, fits["served"].rows),
    ):
        print(
            f"{name}: fitted on {rows} ratings; {hits} of {shown} answers already rated "
            f"({hits / shown:.1%}), {users_hit} users affected"
        )
    print(f"hybrid fit {fit_s:.1f} s; refit on all ratings {refit_s:.1f} s")


if __name__ == "__main__":
    main()
