"""Drift check on the demo data: held-back batches (training distribution) vs shifted batches.

python benchmarks/drift.py [--json]

For each batch: share of drifted feature columns (Evidently DataDriftPreset), the drifted
columns, and the seconds the features + report take. The reference is the demo data minus a
seeded 20 % hold-out; "held-back" batches are drawn from that hold-out, "shifted" batches are
generated with tastes moved towards the rarest genres and a share of new users.
"""

from __future__ import annotations

import json
import sys
import time

from movie_roulette.config import DataConfig, DemoConfig
from movie_roulette.data import sources
from movie_roulette.data.demo import generate_batch
from movie_roulette.monitoring.drift import drift_features, run_drift_report

SEED = 42


def main() -> None:
    cfg = DataConfig(demo=DemoConfig(holdout_fraction=0.2))
    demo = sources.demo_data(cfg, SEED)
    base = sources.load_ratings(cfg, SEED)
    held = sources.held_back_ratings(cfg, SEED)
    reference = drift_features(base, base, demo.catalogue)
    start = int(demo.ratings.timestamp.max()) + 1
    batches = [(f"held-back {i + 1}", held.iloc[i * 2000 : (i + 1) * 2000]) for i in range(2)]
    for shift, new_users in ((0.0, 0.0), (0.7, 0.0), (0.0, 0.4), (0.7, 0.4)):
        frame = generate_batch(
            demo, 2000, seed=SEED, start_ts=start, taste_shift=shift, new_user_share=new_users
        )
        batches.append((f"shifted taste={shift} new_users={new_users}", frame))
    rows = []
    for name, batch in batches:
        t0 = time.perf_counter()
        result = run_drift_report(reference, drift_features(batch, base, demo.catalogue), 0.5)
        rows.append(
            {
                "batch": name,
                "rows": len(batch),
                "drift_share": round(result.summary["drift_share"], 3),
                "drifted": result.summary["drifted_columns"],
                "seconds": round(time.perf_counter() - t0, 2),
            }
        )
    if "--json" in sys.argv:
        print(json.dumps({"reference_rows": len(base), "batches": rows}, indent=1))
        return
    print(f"reference: {len(base)} ratings; threshold 0.5")
    print("| batch | rows | drift share | drifted columns | s |\n|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['batch']} | {r['rows']} | {r['drift_share']} | "
            f"{', '.join(r['drifted']) or '-'} | {r['seconds']} |"
        )


if __name__ == "__main__":
    main()
