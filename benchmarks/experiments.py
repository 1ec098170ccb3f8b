"""Online experiments validated on simulated users (docs/experiments.md).

python benchmarks/experiments.py [--json] [--runs N]

Simulated users with known tastes (the demo generator's latent world, 400 movies) act by the
choice model in src/movie_roulette/experiments/simulate.py. Models are rankers of known quality
(the truth plus Gaussian noise): production noise 1.0, a truly better challenger noise 0.9.
Each experiment runs the real assignment (sticky hashing / Thompson sampling) and the real
stopping rule (StoppingRule defaults, user-level statistics, checked every 2,000 impressions)
in-process, for two populations: 20,000 users (a user sees a few impressions) and 3,000 users
(a user sees tens: the clustering of sticky assignment matters):

- power: share of experiments promoting the truly better challenger (A/B, traffic 0.2 and 0.5);
- false promotion: share promoting a challenger that is the same model served twice, with the
  user-level statistics and, for comparison, the impression-level ones they replace;
- sizing: the max_impressions the power calculation asks for at the measured design effect;
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
from movie_roulette.experiments.stats import boundary, crossing_probability, required_impressions

POPULATIONS = (20_000, 3_000)
N_MOVIES = 400
PRODUCTION_NOISE = 1.0
CHALLENGER_NOISE = 0.9
CLEAR_NOISE = 0.6
LARGER_MARGIN_NOISE = 0.8  # the small population's detectable challenger (margin ~ +0.045)
CHECK_EVERY = 2_000
REGRET_HORIZON = 20_000
TRAFFICS = (0.2, 0.5)


def _share(results: list[Any], action: str) -> float:
    return sum(r.action == action for r in results) / len(results)


def _runs(
    p_a: np.ndarray,
    p_b: np.ndarray,
    rule: StoppingRule,
    traffic: float,
    runs: int,
    seed: int,
    statistic: str = "user",
) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    results = [
        simulate(
            p_a, p_b, rule, "ab", traffic, rng, f"sim-{seed}-{i}", CHECK_EVERY, statistic=statistic
        )
        for i in range(runs)
    ]
    sizes = [sum(r.impressions.values()) for r in results]
    return {
        "experiments": runs,
        "traffic": traffic,
        "statistic": statistic,
        "promoted": _share(results, "promote"),
        "stopped": _share(results, "stop"),
        "undecided": _share(results, "continue"),
        "mean_impressions": float(np.mean(sizes)),
        "mean_challenger_users": float(np.mean([r.users["challenger"] for r in results])),
        "mean_design_effect": float(np.nanmean([r.design_effect for r in results])),
    }


def _world(n_users: int) -> World:
    demo = generate_demo(
        seed=7, n_movies=N_MOVIES, n_users=n_users, mean_ratings_per_user=5, n_reviews=0
    )
    return World.from_demo(demo)


def power_ceiling(p_a: np.ndarray, p_b: np.ndarray, traffic: float, alpha: float) -> float:
    """The rule's power with unlimited impressions: the arms still differ in their users, so
    the difference keeps the between-user variance var(p_i) / users of each arm."""
    n = len(p_a)
    se = np.sqrt(p_b.var() / (n * traffic) + p_a.var() / (n * (1.0 - traffic)))
    return crossing_probability(float((p_b.mean() - p_a.mean()) / se), boundary(alpha))


def _population(n_users: int, rule: StoppingRule, runs: int, seed: int) -> dict[str, Any]:
    world = _world(n_users)
    p_prod = world.acceptance(world.ranker(PRODUCTION_NOISE, seed=1))
    p_better = world.acceptance(world.ranker(CHALLENGER_NOISE, seed=2))
    p_larger = world.acceptance(world.ranker(LARGER_MARGIN_NOISE, seed=2))
    out: dict[str, Any] = {
        "users": n_users,
        "acceptance_rate": {
            "production": float(p_prod.mean()),
            "better": float(p_better.mean()),
            "larger_margin": float(p_larger.mean()),
        },
        "user_acceptance_variance": float(p_prod.var()),
        "margin_absolute": float(p_better.mean() - p_prod.mean()),
        "margin_relative": float(p_better.mean() / p_prod.mean() - 1.0),
        "larger_margin_absolute": float(p_larger.mean() - p_prod.mean()),
    }
    for i, traffic in enumerate(TRAFFICS):
        out[f"power_traffic_{traffic}"] = _runs(p_prod, p_better, rule, traffic, runs, seed + i)
        out[f"power_traffic_{traffic}"]["ceiling"] = power_ceiling(
            p_prod, p_better, traffic, rule.alpha
        )
        out[f"power_larger_margin_traffic_{traffic}"] = _runs(
            p_prod, p_larger, rule, traffic, runs, seed + 20 + i
        )
        out[f"false_promotion_traffic_{traffic}"] = _runs(
            p_prod, p_prod, rule, traffic, runs, seed + 10 + i
        )
        out[f"false_promotion_impression_level_traffic_{traffic}"] = _runs(
            p_prod, p_prod, rule, traffic, runs, seed + 10 + i, statistic="impression"
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    started = time.perf_counter()
    rule = StoppingRule()
    out: dict[str, Any] = {
        "movies": N_MOVIES,
        "rule": rule.__dict__,
        "check_every_impressions": CHECK_EVERY,
        "populations": {
            str(n): _population(n, rule, args.runs, seed=100 * (j + 1))
            for j, n in enumerate(POPULATIONS)
        },
    }
    main_pop = out["populations"][str(POPULATIONS[0])]
    rate, margin = main_pop["acceptance_rate"]["production"], main_pop["margin_absolute"]
    sizing: dict[str, Any] = {"rate": rate, "margin": margin, "power": 0.8, "alpha": rule.alpha}
    for t in TRAFFICS:  # at the design effect measured in that traffic's power runs
        deff = main_pop[f"power_traffic_{t}"]["mean_design_effect"]
        sizing[f"traffic_{t}"] = {
            "design_effect": deff,
            "max_impressions_binomial": required_impressions(rate, margin, t, rule.alpha),
            "max_impressions": required_impressions(rate, margin, t, rule.alpha, 0.8, deff),
        }
    out["sizing"] = sizing
    world = _world(POPULATIONS[0])
    p_prod = world.acceptance(world.ranker(PRODUCTION_NOISE, seed=1))
    p_clear = world.acceptance(world.ranker(CLEAR_NOISE, seed=3))
    regret: dict[str, Any] = {
        "users": POPULATIONS[0],
        "impressions": REGRET_HORIZON,
        "experiments": args.runs,
        "acceptance_rate": {"production": float(p_prod.mean()), "clear": float(p_clear.mean())},
    }
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
    for n, pop in out["populations"].items():
        print(
            f"{n} users: acceptance {pop['acceptance_rate']}, margin {pop['margin_absolute']:+.4f}"
        )
        for key, value in pop.items():
            if isinstance(value, dict) and "promoted" in value:
                print(
                    f"  {key}: promoted {value['promoted']:.3f}, impressions "
                    f"{value['mean_impressions']:.0f}, design effect "
                    f"{value['mean_design_effect']:.2f}"
                )
    print(f"sizing: {out['sizing']}")
    print(f"regret: {regret}")


if __name__ == "__main__":
    main()
