"""Memory of the model card audit's per-user histories at scale (the card step's 25M peak).

    python benchmarks/audit_memory.py --ratings 25000000 --data-root /tmp/scale-base-bench --json

`evaluation.audit.audit_model` used to build every seen user's history as Python lists and to
concatenate the seen and test frames for its data summary; it now builds the audited users'
histories only (the card audits a seeded sample of `evaluation.max_users` test users) and
summarises the two frames without joining them. This script loads the synthetic ratings and
their split as the pipeline does (seen = train + valid), then in a fresh process for each way
measures the peak RSS above the loaded frames of that work:
{"ratings", "seen_rows", "audited_users", "ways": {"every_user": {...}, "audited_users": {...}}}
with "peak_above_frames_mb" and "seconds" each.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

WAYS = ("every_user", "audited_users")


def _child(args: argparse.Namespace) -> dict:
    import numpy as np
    import pandas as pd

    from benchmarks.scale import reset_peak_mb, status_mb, synthetic_config
    from movie_roulette import columns as C
    from movie_roulette.data import sources
    from movie_roulette.data.split import train_valid_test
    from movie_roulette.evaluation.audit import _data_summary
    from movie_roulette.evaluation.seen import SeenRatings

    cfg = synthetic_config(args, args.ratings)
    ratings = sources.load_ratings(cfg.data, seed=cfg.seed)
    train, valid, test = train_valid_test(ratings, cfg.split, seed=cfg.seed)
    del ratings
    seen = pd.concat([train, valid], ignore_index=True)  # the card step's seen_ratings
    del train, valid
    users = test[C.USER_ID].unique()
    audited = np.sort(np.random.default_rng(0).choice(users, args.users, replace=False))
    base = reset_peak_mb()
    start = time.perf_counter()
    if args.child == "every_user":  # the code before
        history = seen.groupby(C.USER_ID)[C.MOVIE_ID].apply(lambda s: [int(m) for m in s])
        both = pd.concat([seen, test], ignore_index=True)
        summary = (both[C.USER_ID].nunique(), both[C.TIMESTAMP].min(), both[C.TIMESTAMP].max())
        del both
    else:  # evaluation.audit now
        mine = seen[seen[C.USER_ID].isin(audited.tolist())]
        history = mine.groupby(C.USER_ID)[C.MOVIE_ID].apply(lambda s: [int(m) for m in s])
        summary = _data_summary(SeenRatings.of(seen), test, pd.DataFrame({C.MOVIE_ID: [1]}), 1)
    seconds = time.perf_counter() - start
    held = sum(len(history.get(int(u), [])) for u in audited)
    return {
        "peak_above_frames_mb": round(status_mb("VmHWM") - base, 1),
        "seconds": round(seconds, 2),
        "audited_history_ratings": held,
        "seen_rows": len(seen),
        "summary_ok": summary is not None,
    }


def main() -> None:
    from benchmarks.scale import add_synthetic_arguments

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_synthetic_arguments(parser, config=ROOT / "configs" / "ml-25m.yaml")
    parser.add_argument("--ratings", type=int, default=25_000_000)
    parser.add_argument("--users", type=int, default=10_000, help="audited users (max_users)")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--child", choices=WAYS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_child(args)))
        return
    out: dict = {"ratings": args.ratings, "audited_users": args.users, "ways": {}}
    for way in WAYS:
        cmd = [sys.executable, __file__, "--ratings", str(args.ratings), "--seed", str(args.seed)]
        cmd += ["--config", str(args.config), "--data-root", str(args.data_root)]
        cmd += ["--users", str(args.users), "--child", way]
        done = subprocess.run(cmd, capture_output=True, text=True, check=True)
        out["ways"][way] = json.loads(done.stdout.strip().splitlines()[-1])
        if not args.json:
            print(way, out["ways"][way], file=sys.stderr)
    a, b = (out["ways"][w] for w in WAYS)
    if a["audited_history_ratings"] != b["audited_history_ratings"]:
        raise SystemExit("the two ways hold different histories for the audited users")
    out["seen_rows"] = a["seen_rows"]
    print(json.dumps(out, indent=None if args.json else 2))


if __name__ == "__main__":
    main()
