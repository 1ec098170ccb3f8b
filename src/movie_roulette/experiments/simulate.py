"""Simulated users with known tastes, for validating the experiment machinery (docs/experiments.md).

Users are the demo generator's (src/movie_roulette/data/demo.py): their true liking of a movie is
the generator's latent mean rating, 3.3 + affinity(taste, genres) + 0.45 * quality + user bias.
Choice model: shown a list of k movies, the user clicks the movie at position j (0-based) with
probability position_bias(j) * sigmoid(SLOPE * (true_rating - PIVOT)), position_bias(j) =
1 / log2(j + 2), independently; an impression is a success (accepted) when at least one movie
is clicked. A spin shows one movie (position 0).

Models are rankers of known quality: the true liking plus Gaussian noise (fixed per user and
movie), top-k per user; less noise = a truly better model. Two copies with the same noise seed
are the same model served twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from movie_roulette.data.demo import DemoData, generate_demo
from movie_roulette.experiments.assignment import hash_share
from movie_roulette.experiments.record import CHALLENGER, PRODUCTION, StoppingRule
from movie_roulette.experiments.stats import ArmEstimate, arm_estimate, evaluate_estimates

SLOPE = 3.0
PIVOT = 5.5


def position_bias(k: int) -> np.ndarray:
    return 1.0 / np.log2(np.arange(k) + 2.0)


def click_probability(true_rating: np.ndarray, positions: np.ndarray) -> np.ndarray:
    return position_bias(int(positions.max()) + 1)[positions] / (
        1.0 + np.exp(-SLOPE * (true_rating - PIVOT))
    )


@dataclass(frozen=True)
class World:
    true_rating: np.ndarray  # users x movies: the latent mean rating

    @classmethod
    def from_demo(cls, demo: DemoData) -> World:
        w = demo.world
        assert w is not None
        match = w.tastes @ (w.multi_hot / w.multi_hot.sum(axis=1, keepdims=True)).T
        affinity = np.clip(np.log(w.multi_hot.shape[1] * match + 0.05) / np.log(8.0), -1.0, 1.0)
        return cls(3.3 + affinity + 0.45 * w.quality[None, :] + w.bias[:, None])

    @classmethod
    def generate(cls, n_users: int = 3000, n_movies: int = 400, seed: int = 7) -> World:
        demo = generate_demo(seed=seed, n_movies=n_movies, n_users=n_users, n_reviews=0)
        return cls.from_demo(demo)

    @property
    def n_users(self) -> int:
        return int(self.true_rating.shape[0])

    def ranker(self, noise: float, seed: int, k: int = 10) -> np.ndarray:
        """users x k movie indices: a model that ranks by the truth plus N(0, noise)."""
        rng = np.random.default_rng(seed)
        scores = self.true_rating + rng.normal(0.0, noise, self.true_rating.shape)
        return np.argsort(-scores, axis=1)[:, :k]

    def acceptance(self, lists: np.ndarray) -> np.ndarray:
        """Per user: the probability an impression of this list is accepted."""
        rows = np.arange(self.n_users)[:, None]
        positions = np.broadcast_to(np.arange(lists.shape[1]), lists.shape)
        p = click_probability(self.true_rating[rows, lists], positions)
        return 1.0 - np.prod(1.0 - p, axis=1)


@dataclass(frozen=True)
class SimResult:
    action: str  # promote | stop | continue (the horizon ended undecided)
    impressions: dict[str, int]
    accepted: int
    expected_lost: float  # sum over impressions of best arm's p - served arm's p
    users: dict[str, int]  # users with at least one impression, per arm
    design_effect: float  # the user-level variance of the difference / the Binomial one

    def to_dict(self) -> dict[str, Any]:
        return self.__dict__.copy()


class _Arm:
    """Per-user impressions and successes of one arm."""

    def __init__(self, n_users: int) -> None:
        self.shown = np.zeros(n_users, dtype=np.int64)
        self.accepted = np.zeros(n_users, dtype=np.int64)

    def add(self, users: np.ndarray, accepted: np.ndarray) -> None:
        n = len(self.shown)
        self.shown += np.bincount(users, minlength=n)
        self.accepted += np.bincount(users, weights=accepted, minlength=n).astype(np.int64)

    def estimate(self, statistic: str) -> ArmEstimate:
        seen = self.shown > 0
        if statistic == "user":
            return arm_estimate(self.shown[seen], self.accepted[seen])
        # "impression": every impression an independent draw (one pseudo-user each), the
        # analysis the user-level statistics replace; kept to show what clustering does to it
        n, s = int(self.shown.sum()), int(self.accepted.sum())
        return arm_estimate(np.ones(n, dtype=int), np.r_[np.ones(s), np.zeros(n - s)])

    @property
    def totals(self) -> tuple[int, int]:
        return int(self.accepted.sum()), int(self.shown.sum())


def simulate(
    p_production: np.ndarray,
    p_challenger: np.ndarray,
    rule: StoppingRule,
    policy: str,
    traffic: float,
    rng: np.random.Generator,
    experiment_id: str,
    check_every: int = 2000,
    horizon: int | None = None,
    batch: int = 100,
    statistic: str = "user",
) -> SimResult:
    """One experiment: users arrive at random, each impression is served by the user's arm
    (A/B: sticky hashing; Thompson: a posterior draw, posteriors refreshed every `batch`
    impressions as the router's cache is); the stopping rule (user-level statistics, or
    `statistic="impression"` for the naive impression-level ones) is checked every
    `check_every` impressions (the continuous pipeline's runs). With `horizon`, run exactly
    that many impressions and ignore the rule (for regret)."""
    n_users = len(p_production)
    ab_challenger = np.array([hash_share(experiment_id, u) < traffic for u in range(n_users)])
    best = np.maximum(p_production.mean(), p_challenger.mean())
    arms = {PRODUCTION: _Arm(n_users), CHALLENGER: _Arm(n_users)}
    lost = 0.0
    total = 0
    limit = horizon or 10**12
    step = batch if policy == "thompson" else check_every
    action = "continue"
    while total < limit:
        size = min(step, limit - total)
        users = rng.integers(n_users, size=size)
        if policy == "ab":
            to_challenger = ab_challenger[users]
        else:
            (sp, tp), (sc, tc) = arms[PRODUCTION].totals, arms[CHALLENGER].totals
            draw_c = rng.beta(1 + sc, 1 + tc - sc, size)
            to_challenger = draw_c > rng.beta(1 + sp, 1 + tp - sp, size)
        p = np.where(to_challenger, p_challenger[users], p_production[users])
        accepted = rng.random(size) < p
        lost += float(
            np.sum(best - np.where(to_challenger, p_challenger.mean(), p_production.mean()))
        )
        arms[CHALLENGER].add(users[to_challenger], accepted[to_challenger])
        arms[PRODUCTION].add(users[~to_challenger], accepted[~to_challenger])
        total += size
        if horizon is None and total % check_every == 0:
            result = evaluate_estimates(
                arms[PRODUCTION].estimate(statistic),
                arms[CHALLENGER].estimate(statistic),
                rule,
                days=0.0,
            )
            if result.action != "continue":
                action = result.action
                break
    return SimResult(
        action,
        {arm: a.totals[1] for arm, a in arms.items()},
        sum(a.totals[0] for a in arms.values()),
        lost,
        {arm: int((a.shown > 0).sum()) for arm, a in arms.items()},
        _design_effect(arms[PRODUCTION], arms[CHALLENGER]),
    )


def _design_effect(production: _Arm, challenger: _Arm) -> float:
    """Var(difference) with the user-level estimate / with the impression-level one."""
    user = [a.estimate("user") for a in (production, challenger)]
    naive = [a.estimate("impression") for a in (production, challenger)]
    num, den = sum(e.se**2 for e in user), sum(e.se**2 for e in naive)
    return float(num / den) if den > 0 and np.isfinite(num) else float("nan")
