"""Blend variants on synthetic data: can another blend beat the hybrid's linear z-score blend?

    python benchmarks/blend_variants.py --ratings 1000000 --data-root /tmp/scale-base-bench --json

Fits the hybrid as `train_hybrid` does (configs/ml-25m.yaml model settings, no refit, so the
validation users stay unseen), builds the weight search's candidate sets (`tuning.
build_search_set`: each component's z-scores on the union of every component's top-100) for
--users seeded validation users (to fit a variant) and as many test users (to judge it), and
compares NDCG@10 on the test sets of:

* `linear`: the hybrid's own weights (coordinate search on validation, as trained);
* `single_<component>`: each component alone;
* `searched`: one coordinate search on these validation users (the control for the next two);
* `tercile`: one coordinate search per tercile of users' history length;
* `with_ratings`: the coordinate search over the components plus two signals the ranking
  components do not use directly: item-kNN's predicted rating of each candidate and the movie's
  rating baseline (its quality, item-kNN's `bi`), each z-scored over the user's candidates (the
  generator draws relevance from P(rated) and P(rating >= 4 | rated): does the second add?);
* `gbdt`: a pointwise gradient-boosted classifier (scikit-learn) over each component's z-score
  and rank, the movie's log popularity and the user's log history length;
* `lambdarank`: LightGBM's listwise LambdaMART on the same features, one group per user (only
  when `lightgbm` is importable: it is not a project dependency).

NDCG here is over the candidate sets (a movie outside every component's top-100 counts as a
miss for every variant), so it is lower than scale.py's; the ratios between variants are the
point. --als takes JSON overrides of the config's ALS section.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    from benchmarks.scale import (
        add_synthetic_arguments,
        load_catalogue,
        load_split,
        synthetic_config,
    )

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ratings", type=int, default=1_000_000)
    add_synthetic_arguments(parser)
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--als", default="{}", help="e.g. '{\"regularization\": 0.05}'")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    from sklearn.ensemble import HistGradientBoostingClassifier

    from movie_roulette.evaluation import metrics as M
    from movie_roulette.models.hybrid import train_hybrid, tuning

    cfg = synthetic_config(args, args.ratings)
    als = cfg.model.als.model_copy(update=json.loads(args.als))
    model_cfg = cfg.model.model_copy(update=dict(refit_on_train_and_valid=False, als=als))
    ratings, train, valid, test = load_split(cfg)
    catalogue = load_catalogue(cfg, ratings)
    model = train_hybrid(train, valid, catalogue, model_cfg, seed=cfg.seed)
    names = list(model.components)

    def search_set(rows, seed):
        liked = rows[rows["rating"] >= 4.0]
        relevant = {int(u): g["movie_id"].to_numpy(np.int64) for u, g in liked.groupby("user_id")}
        users = tuning.sample_users(np.fromiter(relevant, np.int64), args.users, seed)
        users = np.array([u for u in users if model.knows_user(int(u))], np.int64)
        s = tuning.build_search_set(names, model._z_rows, users)
        n_rel = np.array([len(relevant[int(u)]) for u in users])
        rel = tuning.relevance_mask(s, [model.movie_positions(relevant[int(u)]) for u in users])
        hist = np.array([len(model.seen(model.user_index(int(u)))[0]) for u in users])
        return s, rel, n_rel, hist, users

    knn = model.components["itemknn"]
    knn_pos = np.full(model.n_movies, -1, np.int64)
    knn_pos[model.movie_positions(knn.movie_ids)] = np.arange(len(knn.movie_ids))

    def with_ratings(s, users):
        """`s` with two more rows of z-scores: item-kNN's predicted rating and the movie's
        baseline (0 where item-kNN does not know it), over each user's candidates."""
        extra = np.zeros((2, *s.cols.shape), np.float32)
        for r, u in enumerate(users):
            ok = s.cols[r] >= 0
            cols = s.cols[r][ok]
            pos = knn_pos[cols]
            signals = (
                knn.predict_rating(int(u), model.movie_ids[cols]),
                np.where(pos >= 0, knn.bi[np.maximum(pos, 0)], 0.0),
            )
            for row, v in enumerate(signals):
                v = np.asarray(v, np.float64)
                extra[row, r, ok] = (v - v.mean()) / (v.std() or 1.0)
        z = np.concatenate([s.z, extra])
        return tuning.SearchSet([*names, "predicted_rating", "quality"], z, s.cols, s.top_z)

    def ndcg(s, scores, rel, n_rel) -> float:
        scores = np.where(s.cols < 0, -np.inf, scores)
        top = np.argsort(-scores, axis=1, kind="stable")[:, :10]
        real = np.isfinite(np.take_along_axis(scores, top, axis=1))
        hits = np.take_along_axis(rel, top, axis=1) & real
        return float(np.mean(M.ndcg_from_hits(hits, n_rel, 10)))

    def blend(s, w):
        return np.tensordot(np.asarray(w, np.float32), s.z, axes=1)

    def subset(s, rows):
        return tuning.SearchSet(names, s.z[:, rows], s.cols[rows], s.top_z)

    sv, rv, nv, hv, uv = search_set(valid, args.seed + 1)
    st, rt, nt, ht, ut = search_set(test, args.seed + 2)
    out: dict = {"ratings": len(ratings), "als": als.model_dump(), "users": args.users}
    w = np.array([model.weights.get(n, 0.0) for n in names])
    out["weights"] = dict(zip(names, w.tolist(), strict=True))
    out["linear"] = ndcg(st, blend(st, w), rt, nt)
    for c, name in enumerate(names):
        out[f"single_{name}"] = ndcg(st, blend(st, np.eye(len(names))[c]), rt, nt)
    edges = np.quantile(hv, [1 / 3, 2 / 3])
    bv, bt = np.digitize(hv, edges), np.digitize(ht, edges)
    scores = np.zeros(st.cols.shape, np.float32)
    for b in range(3):
        iv, it = bv == b, bt == b
        sub = subset(sv, iv)
        wb, _, _ = tuning.coordinate_search(
            lambda x, sub=sub, iv=iv: tuning.mean_ndcg(sub, x, rv[iv], nv[iv], 10), len(names)
        )
        scores[it] = blend(subset(st, it), wb)
    out["tercile"] = ndcg(st, scores, rt, nt)
    # the control for `with_ratings`: the same search over the components alone
    ws, _, _ = tuning.coordinate_search(lambda x: tuning.mean_ndcg(sv, x, rv, nv, 10), len(names))
    out["searched"] = ndcg(st, blend(st, ws), rt, nt)
    xv, xt = with_ratings(sv, uv), with_ratings(st, ut)
    wx, _, _ = tuning.coordinate_search(
        lambda x: tuning.mean_ndcg(xv, x, rv, nv, 10), len(xv.names)
    )
    out["with_ratings"] = ndcg(st, blend(xt, wx), rt, nt)
    out["with_ratings_weights"] = dict(zip(xv.names, np.round(wx, 3).tolist(), strict=True))
    pop = np.log1p(np.bincount(model._ui_indices, minlength=model.n_movies)).astype(np.float32)

    def features(s, hist):
        n_users, width = s.cols.shape
        z = np.moveaxis(s.z, 0, -1)
        ranks = np.moveaxis(np.argsort(np.argsort(-s.z, axis=2), axis=2), 0, -1)
        extra = [
            pop[np.maximum(s.cols, 0)][..., None],
            np.broadcast_to(np.log1p(hist)[:, None, None], (n_users, width, 1)),
        ]
        x = np.concatenate([z, np.log1p(ranks).astype(np.float32), *extra], axis=2)
        return x.reshape(n_users * width, -1)

    fit_rows = (sv.cols >= 0).reshape(-1)
    clf = HistGradientBoostingClassifier(max_iter=200, early_stopping=True, random_state=0)
    clf.fit(features(sv, hv)[fit_rows], rv.reshape(-1)[fit_rows])
    proba = clf.predict_proba(features(st, ht))[:, 1].reshape(st.cols.shape)
    out["gbdt"] = ndcg(st, proba, rt, nt)
    variants = ["linear", "searched", "tercile", "with_ratings", "gbdt"]
    try:  # a listwise re-ranker when LightGBM is importable (not a project dependency)
        import lightgbm
    except ImportError:
        out["lambdarank"] = None
    else:
        ranker = lightgbm.LGBMRanker(
            objective="lambdarank",
            n_estimators=300,
            learning_rate=0.05,
            num_leaves=31,
            min_child_samples=50,
            lambdarank_truncation_level=20,
            random_state=0,
            verbose=-1,
        )
        keep = sv.cols >= 0
        ranker.fit(
            features(sv, hv)[fit_rows],
            rv.reshape(-1)[fit_rows].astype(int),
            group=keep.sum(axis=1)[keep.sum(axis=1) > 0],
        )
        ranked = ranker.predict(features(st, ht)).reshape(st.cols.shape)
        out["lambdarank"] = ndcg(st, ranked, rt, nt)
        variants.append("lambdarank")
    best = max(out[f"single_{n}"] for n in names if n != "popularity")
    out["vs_best_component"] = {k: round(out[k] / best, 3) for k in variants}
    print(json.dumps(out) if args.json else json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
