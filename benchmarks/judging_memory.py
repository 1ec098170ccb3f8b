"""Memory of the judging steps with train and valid as frames vs read a batch at a time.

    python benchmarks/judging_memory.py --ratings 25000000 --data-root /tmp/scale-base-bench \
        --bundle DIR --json

The evaluation, the behavioural checks and the model card (and the production comparison and
the promotion) need the ratings the model was fitted on (seen = train + valid) for counts,
distinct ids, the sampled users' rows and a checksum. They used to load train and valid as
frames (`pd.DataFrame` inputs); they now take them as `RatingsSource` (the artifact's Parquet
file, read a batch at a time by `evaluation.seen.SeenRatings`).

The script splits the synthetic ratings as the pipeline does and writes train, valid and the
test rows of a seeded sample of `--users` test users (`evaluation.max_users`) through the
pipeline's `FrameMaterializer` (once, under --work). Then, in a fresh process for each way, it
loads the model bundle (--bundle, e.g. the one a 25M run registered; without it the hybrid is
fitted on the split and saved under --work first, ~40 min at 25M), loads train and valid as
that way's step input does and runs the three steps' library calls: `evaluate_bundle`,
`run_behavioural_checks`, `audit_model`. It prints
{"ratings", "seen_rows", "users", "ways": {"frames": {...}, "files": {...}}, "same_figures"}
with, per way, "peak_rss_mb" (VmHWM of the process), "peak_above_bundle_mb" (above the RSS once
the bundle is loaded) and "seconds" per call; `same_figures` says both ways gave equal metrics,
behaviour report and audit.
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
PARTS = ("train", "valid", "judged")


def _log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def _prepare(args: argparse.Namespace, cfg) -> Path:
    """Write the split parts (and fit a bundle when none is given) under --work, once."""
    from benchmarks.scale import load_catalogue, load_split
    from materializers.frame_materializer import FrameMaterializer
    from materializers.local_files import LocalFiles
    from movie_roulette import bundle
    from movie_roulette.evaluation.sampling import sample_user_rows

    parts = args.work / "parts"
    done = parts / "done.json"
    fit = args.bundle is None and not (args.work / "bundle" / "manifest.json").exists()
    if done.exists() and not fit:
        return parts
    _log("splitting the ratings as the pipeline does")
    ratings, train, valid, test = load_split(cfg)
    catalogue = load_catalogue(cfg, ratings) if fit else None
    del ratings
    judged = sample_user_rows(test, args.users, cfg.seed)
    del test
    for name, frame in zip(PARTS, (train, valid, judged), strict=True):
        FrameMaterializer(str(parts / name), artifact_store=LocalFiles()).save(frame)
    if fit:
        from movie_roulette.models.hybrid import train_hybrid

        _log("no --bundle: fitting the hybrid on the split")
        model = train_hybrid(train, valid, catalogue, cfg.model, seed=cfg.seed)
        bundle.save(args.work / "bundle", model, catalogue, {"benchmark": "judging_memory"})
    sizes = {"train": len(train), "valid": len(valid), "judged": len(judged)}
    done.write_text(json.dumps(sizes))
    return parts


def _child(args: argparse.Namespace) -> dict:
    import pandas as pd

    from benchmarks.scale import reset_peak_mb, status_mb, synthetic_config
    from materializers.frame_materializer import FrameMaterializer
    from materializers.local_files import LocalFiles
    from movie_roulette import bundle
    from movie_roulette.evaluation.audit import audit_model
    from movie_roulette.evaluation.behaviour import run_behavioural_checks
    from movie_roulette.evaluation.compare import evaluate_bundle
    from movie_roulette.evaluation.model_card import settings_from_config
    from movie_roulette.evaluation.seen import seen_ratings
    from movie_roulette.ratings_source import RatingsSource

    cfg = synthetic_config(args, args.ratings)
    loaded = bundle.load(args.bundle or args.work / "bundle")
    model, catalogue = loaded.model, loaded.catalogue
    base = reset_peak_mb()

    def part(name: str, as_type: type) -> object:
        path = str(args.work / "parts" / name)
        return FrameMaterializer(path, artifact_store=LocalFiles()).load(as_type)

    seconds: dict[str, float] = {}
    start = time.perf_counter()
    kind = pd.DataFrame if args.child == "frames" else RatingsSource
    train, valid = part("train", kind), part("valid", kind)
    judged = part("judged", pd.DataFrame)  # (the sampled test rows: a frame either way)
    seconds["load"] = round(time.perf_counter() - start, 2)
    refit_all = cfg.model.refit_on_train_and_valid
    k, threshold = cfg.evaluation.k, cfg.evaluation.relevance_threshold
    start = time.perf_counter()
    metrics = evaluate_bundle(model, train, valid, judged, k, threshold, refit_all)
    seconds["evaluate"] = round(time.perf_counter() - start, 2)
    seen = seen_ratings(train, valid, refit_all)
    start = time.perf_counter()
    report = run_behavioural_checks(model, seen, catalogue, k=k, seed=cfg.seed)
    seconds["behaviour"] = round(time.perf_counter() - start, 2)
    start = time.perf_counter()
    audit = audit_model(model, seen, judged, catalogue, settings_from_config(cfg))
    seconds["audit"] = round(time.perf_counter() - start, 2)
    return {
        "peak_rss_mb": round(status_mb("VmHWM"), 1),
        "peak_above_bundle_mb": round(status_mb("VmHWM") - base, 1),
        "seconds": seconds,
        "seen_rows": len(seen),
        "users": int(judged["user_id"].nunique()),
        "figures": {
            "metrics": metrics,
            "behaviour": report.to_dict(),
            "audit": audit.figures(),
            "seen_sha256": audit.data.seen_sha256,
        },
    }


def main() -> None:
    from benchmarks.ways import child_argv, parse, run_ways, way_parser

    parser = way_parser(__doc__, WAYS)
    parser.add_argument("--users", type=int, default=10_000, help="judged test users")
    parser.add_argument("--bundle", type=Path, help="a bundle fitted on this data and split")
    args, cfg = parse(parser, "-judging")
    if args.child:
        print(json.dumps(_child(args), default=str))
        return
    _prepare(args, cfg)
    argv = child_argv(args) + ["--users", str(args.users)]
    if args.bundle:
        argv += ["--bundle", str(args.bundle)]
    ways, figures, same = run_ways(__file__, WAYS, argv)
    out: dict = {"ratings": args.ratings, "ways": ways, "same_figures": same}
    out["seen_rows"] = out["ways"]["files"]["seen_rows"]
    out["users"] = out["ways"]["files"]["users"]
    out["ndcg@10"] = figures[1]["metrics"]["hybrid"].get("ndcg@10")
    print(json.dumps(out, indent=None if args.json else 2))
    if not out["same_figures"]:
        raise SystemExit("the two ways gave different figures")


if __name__ == "__main__":
    main()
