"""Online experiments validated on simulated users (docs/experiments.md).

python benchmarks/experiments.py [--json] [--runs N]

Simulated users with known tastes (the demo generator's latent world, 20,000 users, 400 movies)
act by the choice model in src/movie_roulette/experiments/simulate.py. Models are rankers of
known quality (the truth plus Gaussian noise): production noise 1.0, a truly better challenger
noise 0.9. Each experiment runs the real assignment (sticky hashing / Thompson sampling) and the
real stopping rule (StoppingRule defaults, checked every 2,000 impressions) in-process:

- power: share of experiments promoting the truly better challenger (A/B, traffic 0.5 and 0.2);
- false promotion: share promoting a challenger that is the same model served twice;
- regret: expected accepted recommendations lost vs always serving the better arm, over the
  same 20,000 impressions, A/B (traffic 0.5) vs Thompson, with a clearly better arm (noise 0.6).
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

import numpy as np

from movie_roulette.data.demo import generate_demo
from movie_roulette.experiments.record import StoppingRule
from movie_roulette.experiments.simulate import World, simulate

N_USERS = 20_000
N_MOVIES = 400
PRODUCTION_NOISE = 1.0
CHALLENGER_NOISE = 0.9
CLEAR_NOISE = 0.6
CHECK_EVERY = 2_000
REGRET_HORIZON = 20_000


def _share(results: list[Any], action: str) -> float:
    return sum(r.action == action for r in results) / len(results)


def _runs(
    p_a: np.ndarray, p_b: np.ndarray, rule: StoppingRule, traffic: float, runs: int, seed: int
) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    results = [
        simulate(p_a, p_b, rule, "ab", traffic, rng, f"sim-{seed}-{i}", check_every=CHECK_EVERY)
        for i in range(runs)
    ]
    sizes = [sum(r.impressions.values()) for r in results]
    return {
        "experiments": runs,
        "traffic": traffic,
        "promoted": _share(results, "promote"),
        "stopped": _share(results, "stop"),
        "undecided": _share(results, "continue"),
        "mean_impressions": float(np.mean(sizes)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    started = time.perf_counter()
    demo = generate_demo(
        seed=7, n_movies=N_MOVIES, n_users=N_USERS, mean_ratings_per_user=5, n_reviews=0
    )
    world = World.from_demo(demo)
    p_prod = world.acceptance(world.ranker(PRODUCTION_NOISE, seed=1))
    p_better = world.acceptance(world.ranker(CHALLENGER_NOISE, seed=2))
    p_clear = world.acceptance(world.ranker(CLEAR_NOISE, seed=3))
    rule = StoppingRule()
    out: dict[str, Any] = {
        "users": N_USERS,
        "movies": N_MOVIES,
        "rule": rule.__dict__,
        "check_every_impressions": CHECK_EVERY,
        "acceptance_rate": {
            "production": float(p_prod.mean()),
            "better_challenger": float(p_better.mean()),
            "clearly_better": float(p_clear.mean()),
        },
        "margin_absolute": float(p_better.mean() - p_prod.mean()),
        "margin_relative": float(p_better.mean() / p_prod.mean() - 1.0),
        "power": _runs(p_prod, p_better, rule, 0.5, args.runs, seed=11),
        "power_traffic_0.2": _runs(p_prod, p_better, rule, 0.2, args.runs, seed=12),
        "false_promotion": _runs(p_prod, p_prod, rule, 0.5, args.runs, seed=13),
        "false_promotion_traffic_0.2": _runs(p_prod, p_prod, rule, 0.2, args.runs, seed=14),
    }
    regret: dict[str, Any] = {"impressions": REGRET_HORIZON, "experiments": args.runs}
    for policy in ("ab", "thompson"):
        rng = np.random.default_rng(21)
        results = [
            simulate(p_prod, p_clear, rule, policy, 0.5, rng, f"regret-{i}", horizon=REGRET_HORIZON)
            for i in range(args.runs)
        ]
        regret[policy] = {
            "expected_lost_accepted": float(np.mean([r.expected_lost for r in results])),
            "accepted": float(np.mean([r.accepted for r in results])),
            "challenger_share": float(
                np.mean([r.impressions["challenger"] / REGRET_HORIZON for r in results])
            ),
        }
    regret["thompson_loses_fewer"] = (
        regret["thompson"]["expected_lost_accepted"] < regret["ab"]["expected_lost_accepted"]
    )
    out["regret"] = regret
    out["seconds"] = round(time.perf_counter() - started, 1)
    if args.json:
        print(json.dumps(out, indent=2))
        return
    print(f"acceptance: {out['acceptance_rate']}, margin {out['margin_absolute']:+.4f}")
    for key in ("power", "power_traffic_0.2", "false_promotion", "false_promotion_traffic_0.2"):
        print(f"{key}: {out[key]}")
    print(f"regret: {regret}")


if __name__ == "__main__":
    main()
