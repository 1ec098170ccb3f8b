"""Newcomer fold-in benchmark: how good are the picks from a few ratings, on ml-latest-small.

    python benchmarks/fold_in.py                          # train, then evaluate (~2-8 min)
    python benchmarks/fold_in.py --save-bundle /tmp/b     # keep the trained model
    python benchmarks/fold_in.py --bundle /tmp/b          # evaluate a saved model (no training)

The hybrid is trained as the pipeline trains it (`train_hybrid` on the pipeline's train/valid
split, components refitted on train+valid). For each sampled user with a relevant test rating
(>= 4), a newcomer profile of `--profile-size` of their train+valid ratings (drawn at random, so
it holds low ratings as often as their history does) is folded in with
`recommend_from_ratings`; the top 10 over the movies outside the user's train+valid history is
scored against their relevant test movies (NDCG@10, recall@10). Reported separately for the
profiles that hold a disliked rating (<= 2.5 stars), the ones the negative evidence changes.
Only public APIs are used, so the same script measures any checkout (before/after a change).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd

from movie_roulette import bundle
from movie_roulette import columns as C
from movie_roulette.config import DataConfig, PipelineConfig
from movie_roulette.data import sources
from movie_roulette.data.catalogue import merge_catalogue
from movie_roulette.data.split import train_valid_test
from movie_roulette.evaluation.metrics import ndcg_at_k, recall_at_k
from movie_roulette.features.text import add_content_text
from movie_roulette.models.hybrid import train_hybrid

K = 10
DISLIKED = 2.5


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", default=os.environ.get("MOVIE_ROULETTE_DATA_DIR"))
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--users", type=int, default=300)
    parser.add_argument("--profile-size", type=int, default=10)
    parser.add_argument("--bundle", help="evaluate this saved model instead of training one")
    parser.add_argument("--save-bundle", help="save the trained model here")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    started = time.perf_counter()
    pcfg = PipelineConfig()
    data = DataConfig(source="movielens", data_dir=args.data_dir)
    ratings = sources.load_ratings(data, seed=args.seed)
    train, valid, test = train_valid_test(ratings, pcfg.split, seed=args.seed)
    if args.bundle:
        model = bundle.load(args.bundle).model
    else:
        catalogue = add_content_text(
            merge_catalogue(sources.load_catalogue_sources(data, seed=args.seed), ratings=ratings)
        )
        model = train_hybrid(train, valid, catalogue, pcfg.model, seed=args.seed)
        if args.save_bundle:
            bundle.save(args.save_bundle, model, catalogue, {"purpose": "fold-in benchmark"})
    fit_s = time.perf_counter() - started

    cols = [C.USER_ID, C.MOVIE_ID, C.RATING]
    history = pd.concat([train[cols], valid[cols]], ignore_index=True).groupby(C.USER_ID)
    relevant = test[test[C.RATING] >= 4.0].groupby(C.USER_ID)[C.MOVIE_ID].apply(set)
    users = [u for u in relevant.index if len(history.get_group(u)) >= args.profile_size]
    rng = np.random.default_rng(args.seed)
    users = sorted(rng.choice(users, min(args.users, len(users)), replace=False).tolist())
    rows = {"all": [], "with_disliked": [], "without_disliked": []}
    for user in users:
        past = history.get_group(user)
        pick = rng.choice(len(past), args.profile_size, replace=False)
        profile = dict(
            zip(
                past[C.MOVIE_ID].to_numpy()[pick].tolist(),
                past[C.RATING].to_numpy()[pick].tolist(),
                strict=True,
            )
        )
        seen = set(past[C.MOVIE_ID].tolist())
        recs = model.recommend_from_ratings(profile, k=K + len(seen))
        top = [m for m in recs.movie_ids if m not in seen][:K]
        scores = (ndcg_at_k(top, relevant[user], K), recall_at_k(top, relevant[user], K))
        rows["all"].append(scores)
        group = "with_disliked" if min(profile.values()) <= DISLIKED else "without_disliked"
        rows[group].append(scores)
    result = {
        "dataset": "ml-latest-small",
        "users": len(users),
        "profile_size": args.profile_size,
        "fit_or_load_seconds": round(fit_s, 1),
        **{
            name: {
                "users": len(values),
                f"ndcg@{K}": round(float(np.mean([v[0] for v in values])), 4) if values else None,
                f"recall@{K}": round(float(np.mean([v[1] for v in values])), 4) if values else None,
            }
            for name, values in rows.items()
        },
    }
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for name in rows:
            print(f"{name}: {result[name]}")
    if args.save_bundle:
        print(f"model saved to {Path(args.save_bundle)}")


if __name__ == "__main__":
    main()
