"""The user-level statistics of an experiment against closed forms and simulation: the
cluster-robust ratio estimate, the group-sequential boundary and the sample size it needs."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from movie_roulette.experiments.stats import (
    arm_estimate,
    boundary,
    crossing_probability,
    required_drift,
    required_impressions,
    z_statistic,
)


def test_one_impression_per_user_is_the_binomial_variance():
    rng = np.random.default_rng(0)
    s = (rng.random(500) < 0.3).astype(int)
    est = arm_estimate(np.ones(500, dtype=int), s)
    p = s.mean()
    assert est.mean == pytest.approx(p)
    assert est.se**2 == pytest.approx(p * (1 - p) / 499, rel=1e-12)  # m/(m-1) * p(1-p)/n
    assert (est.users, est.impressions, est.successes) == (500, 500, int(s.sum()))


def test_hand_computed_example():
    # users (n, s): (2, 2), (2, 0), (4, 1): p = 3/8, residuals 1.25, -0.75, -0.5
    est = arm_estimate([2, 2, 4], [2, 0, 1])
    assert est.mean == 3 / 8
    assert est.se**2 == pytest.approx(3 / 2 * (1.25**2 + 0.75**2 + 0.5**2) / 64, rel=1e-12)
    assert est.high == pytest.approx(3 / 8 + stats.norm.ppf(0.975) * est.se)
    assert est.low == 0.0  # 3/8 - 1.96 se < 0: clipped to a rate


def test_clustered_users_the_standard_error_matches_the_spread_and_the_naive_one_does_not():
    rng = np.random.default_rng(1)
    means, ses, naive = [], [], []
    for _ in range(400):  # an arm's 300 users drawn anew each time, ~21 impressions each
        per_user = rng.beta(1.0, 2.0, 300)  # heterogeneous users, mean 1/3 (like the simulation)
        n = rng.poisson(20, 300) + 1
        s = rng.binomial(n, per_user)
        est = arm_estimate(n, s)
        means.append(est.mean)
        ses.append(est.se)
        naive.append(math.sqrt(est.mean * (1 - est.mean) / est.impressions))
    spread = float(np.std(means))
    assert np.mean(ses) == pytest.approx(spread, rel=0.1)
    assert np.mean(naive) < 0.5 * spread  # impressions as independent draws: far too sure


def test_bad_per_user_counts_are_refused_and_small_arms_are_undefined():
    with pytest.raises(ValueError, match="per user"):
        arm_estimate([1, 2], [2, 0])  # more successes than impressions
    with pytest.raises(ValueError, match="per user"):
        arm_estimate([0], [0])
    one = arm_estimate([5], [2])
    assert math.isinf(one.se) and one.to_dict()["se"] is None  # JSON-safe
    assert math.isnan(z_statistic(one, arm_estimate([5, 5], [1, 2])))
    assert arm_estimate([], []).users == 0


def test_boundary_and_crossing_probability_closed_forms():
    assert boundary(0.05) == pytest.approx(1.959964, abs=1e-6)
    for alpha in (0.01, 0.025, 0.05):  # reflection principle: 2 (1 - Phi(c)) under no drift
        assert crossing_probability(0.0, boundary(alpha)) == pytest.approx(alpha, rel=1e-9)
    # drift: the first-passage law of Brownian motion with drift, checked by simulation
    rng = np.random.default_rng(2)
    steps, c, theta = 4000, boundary(0.025), 2.5
    paths = np.cumsum(rng.normal(theta / steps, 1 / math.sqrt(steps), (4000, steps)), axis=1)
    simulated = float((paths.max(axis=1) >= c).mean())
    # discrete steps cross slightly less often than the continuous path
    assert simulated == pytest.approx(crossing_probability(theta, c), abs=0.03)
    assert crossing_probability(theta, c) > simulated - 0.005


def test_required_impressions_round_trip_and_the_textbook_formula():
    theta = required_drift(0.8, 0.025)
    assert crossing_probability(theta, boundary(0.025)) == pytest.approx(0.8, abs=1e-9)
    # equal arms: the two-sample formula n = 2 theta^2 p (1 - p) / margin^2
    n = required_impressions(0.3, 0.02, 0.5, 0.025)
    assert n == math.ceil(2 * theta**2 * 0.21 / 0.02**2)
    # traffic 0.2: the smaller arm needs 1 / (1 - 0.2) of the one-sided information
    assert required_impressions(0.3, 0.02, 0.2, 0.025) == math.ceil(theta**2 * 0.21 / 0.0004 / 0.8)
    assert required_impressions(0.3, 0.02, 0.8, 0.025) == required_impressions(
        0.3, 0.02, 0.2, 0.025
    )
    assert required_impressions(0.3, 0.02, 0.5, 0.025, design_effect=2.0) == pytest.approx(
        2 * n, abs=1
    )
    with pytest.raises(ValueError):
        required_impressions(0.3, 0.0, 0.5, 0.025)
