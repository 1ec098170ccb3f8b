"""Experiment statistics: the user-level estimate per arm, the group-sequential stopping rule,
and the Beta-Binomial posteriors the Thompson-sampling router draws from.

Assignment is sticky per user, so an arm's impressions are clustered: one user's impressions
share that user's taste and are not independent draws (docs/experiments.md). The rule therefore
analyses users, not impressions: an arm's success rate is the ratio estimator
p = sum_i s_i / sum_i n_i over its users i (s_i successes in n_i impressions), with the
cluster-robust (delta-method) variance

    Var(p) = m / (m - 1) * sum_i (s_i - p n_i)^2 / (sum_i n_i)^2        (m users),

which is the Binomial p (1 - p) / (n - 1) when every user has one impression and grows with the
users' heterogeneity when they have many. z = (p_c - p_p) / sqrt(Var_c + Var_p); the reported
P(challenger better) is Phi(z), the flat-prior normal posterior of the difference.

Stopping (`StoppingRule`): at information fraction t = min(1, n_small / max_impressions),
promote when z >= c / sqrt(t), i.e. when the B-value z sqrt(t) reaches c. Under no difference the
B-value is a Brownian motion in t, which crosses c before t = 1 with probability
2 (1 - Phi(c)) (reflection principle): c = Phi^-1(1 - alpha / 2) bounds the false promotion rate
by alpha for any number and schedule of looks. With drift theta (the z the full sample would
give) it crosses with probability 1 - Phi(c - theta) + exp(2 theta c) Phi(-c - theta), which sizes
max_impressions (`required_impressions`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np
from scipy import optimize, special, stats

from movie_roulette.experiments.record import CHALLENGER, PRODUCTION, StoppingRule

PRIOR = (1.0, 1.0)
Z95 = float(stats.norm.ppf(0.975))


def finite_or_none(value: float) -> float | None:
    """JSON-safe: the records (experiment.json, ZenML metadata) hold no NaN or infinity."""
    return value if math.isfinite(value) else None


@dataclass(frozen=True)
class BetaPosterior:
    """Beta(1 + s, 1 + n - s): an arm's impression-level posterior (the Thompson router's)."""

    impressions: int
    successes: int
    alpha: float
    beta: float
    mean: float
    low: float  # central credible interval
    high: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def posterior(successes: int, trials: int, level: float = 0.95) -> BetaPosterior:
    if trials < 0 or not 0 <= successes <= trials:
        raise ValueError(f"need 0 <= successes <= trials, got {successes} of {trials}.")
    a, b = PRIOR[0] + successes, PRIOR[1] + trials - successes
    tail = (1.0 - level) / 2.0
    low, high = stats.beta.ppf([tail, 1.0 - tail], a, b)
    return BetaPosterior(trials, successes, a, b, a / (a + b), float(low), float(high))


def prob_b_beats_a(a_alpha: float, a_beta: float, b_alpha: float, b_beta: float) -> float:
    """P(X_b > X_a) for X_a ~ Beta(a_alpha, a_beta), X_b ~ Beta(b_alpha, b_beta); exact for an
    integer b_alpha (the sum runs over it: swap the arms for speed when b_alpha is large)."""
    if float(b_alpha).is_integer() and float(a_alpha).is_integer():
        if b_alpha > a_alpha:  # P(B > A) = 1 - P(A > B): sum over the smaller alpha
            return 1.0 - prob_b_beats_a(b_alpha, b_beta, a_alpha, a_beta)
        i = np.arange(int(b_alpha))
        terms = (
            special.betaln(a_alpha + i, a_beta + b_beta)
            - np.log(b_beta + i)
            - special.betaln(1 + i, b_beta)
            - special.betaln(a_alpha, a_beta)
        )
        return float(min(1.0, max(0.0, np.exp(special.logsumexp(terms)))))
    # non-integer parameters: numerical integration over X_a
    return float(stats.beta.expect(lambda x: stats.beta.sf(x, b_alpha, b_beta), (a_alpha, a_beta)))


# ---- user-level estimate --------------------------------------------------------------------
@dataclass(frozen=True)
class ArmEstimate:
    """An arm's success rate over its users, with the cluster-robust standard error."""

    users: int
    impressions: int
    successes: int
    mean: float  # sum of successes / sum of impressions (0.0 without impressions)
    se: float  # cluster-robust (delta method); inf with fewer than two users
    low: float  # 95% interval, mean -/+ 1.96 se, clipped to [0, 1]
    high: float

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "se": finite_or_none(self.se)}


def arm_estimate(impressions: Sequence[int], successes: Sequence[int]) -> ArmEstimate:
    """The ratio estimator over users (one entry per user: impressions n_i >= 1, successes
    0 <= s_i <= n_i) with its delta-method variance m/(m-1) sum (s_i - p n_i)^2 / N^2."""
    n = np.asarray(impressions, dtype=float)
    s = np.asarray(successes, dtype=float)
    if n.shape != s.shape or np.any(n < 1) or np.any(s < 0) or np.any(s > n):
        raise ValueError("need one (impressions >= 1, 0 <= successes <= impressions) per user.")
    m, total = len(n), float(n.sum())
    if m == 0:
        return ArmEstimate(0, 0, 0, 0.0, math.inf, 0.0, 1.0)
    mean = float(s.sum()) / total
    if m < 2:
        se = math.inf
    else:
        se = math.sqrt(m / (m - 1) * float(np.sum((s - mean * n) ** 2)) / total**2)
    low = max(0.0, mean - Z95 * se) if math.isfinite(se) else 0.0
    high = min(1.0, mean + Z95 * se) if math.isfinite(se) else 1.0
    return ArmEstimate(m, int(total), int(s.sum()), mean, se, low, high)


def z_statistic(production: ArmEstimate, challenger: ArmEstimate) -> float:
    """(p_challenger - p_production) / its standard error (+-inf for a difference with zero
    variance, 0 for none; nan without an estimate)."""
    diff = challenger.mean - production.mean
    se = math.hypot(production.se, challenger.se)
    if math.isinf(se) or math.isnan(se):
        return math.nan
    if se == 0.0:
        return 0.0 if diff == 0 else math.copysign(math.inf, diff)
    return diff / se


# ---- the boundary and the power it gives ---------------------------------------------------
def boundary(alpha: float) -> float:
    """c with P(a Brownian motion crosses c before t = 1) = 2 (1 - Phi(c)) = alpha."""
    return float(stats.norm.ppf(1.0 - alpha / 2.0))


def crossing_probability(theta: float, c: float) -> float:
    """P(B(t) + theta t >= c for some t <= 1): the power of the rule (continuous looks) when the
    full sample's expected z is theta; at theta = 0 it is 2 (1 - Phi(c))."""
    log_second = 2.0 * theta * c + float(stats.norm.logcdf(-c - theta))
    return float(stats.norm.sf(c - theta) + math.exp(log_second))


def required_drift(power: float, alpha: float) -> float:
    """The theta at which the rule with this alpha has this power."""
    c = boundary(alpha)
    return float(optimize.brentq(lambda t: crossing_probability(t, c) - power, 0.0, 20.0))


def required_impressions(
    rate: float,
    margin: float,
    traffic: float,
    alpha: float,
    power: float = 0.8,
    design_effect: float = 1.0,
) -> int:
    """max_impressions (the smaller arm's) for this power against an absolute `margin` over a
    success `rate`, at the challenger share `traffic`. The variance of one impression is
    rate (1 - rate) times `design_effect` (clustering: the ratio of the user-level variance to
    the Binomial one, measured by benchmarks/experiments.py); the larger arm has
    n_small (1 - s) / s impressions, s = min(traffic, 1 - traffic)."""
    if not 0 < traffic < 1 or not 0 < rate < 1 or margin <= 0:
        raise ValueError("need 0 < traffic < 1, 0 < rate < 1 and margin > 0.")
    share = min(traffic, 1.0 - traffic)
    theta = required_drift(power, alpha)
    variance = rate * (1.0 - rate) * design_effect
    return math.ceil(theta**2 * variance / (margin**2 * (1.0 - share)))


Action = Literal["continue", "promote", "stop"]


@dataclass(frozen=True)
class Evaluation:
    action: Action
    reason: str
    p_challenger_better: float
    z: float
    information: float  # the smaller arm's impressions / max_impressions (capped at 1)
    production: ArmEstimate
    challenger: ArmEstimate
    days: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "reason": self.reason,
            "p_challenger_better": finite_or_none(self.p_challenger_better),
            "z": finite_or_none(self.z),
            "information": self.information,
            PRODUCTION: self.production.to_dict(),
            CHALLENGER: self.challenger.to_dict(),
            "days": self.days,
        }


def _arm(users: Sequence[tuple[int, int]]) -> ArmEstimate:
    return arm_estimate([n for n, _ in users], [k for _, k in users])


def evaluate(
    per_user: dict[str, Sequence[tuple[int, int]]], rule: StoppingRule, days: float
) -> Evaluation:
    """The stopping rule on {arm: [(impressions, successes) per user]} after `days`."""
    return evaluate_estimates(
        _arm(per_user.get(PRODUCTION, ())), _arm(per_user.get(CHALLENGER, ())), rule, days
    )


def evaluate_estimates(
    prod: ArmEstimate, chal: ArmEstimate, rule: StoppingRule, days: float
) -> Evaluation:
    """The stopping rule on the two arms' user-level estimates after `days`."""
    z = z_statistic(prod, chal)
    p_better = float(stats.norm.cdf(z)) if not math.isnan(z) else math.nan
    small = min(prod.impressions, chal.impressions)
    info = min(1.0, small / rule.max_impressions)
    c = boundary(rule.alpha)
    needed = c / math.sqrt(info) if info > 0 else math.inf
    numbers = (
        f"P(challenger better) {p_better:.4f} (z {z:+.2f}, needed +-{needed:.2f} at "
        f"{info:.0%} of the maximum sample); challenger {chal.mean:.4f} "
        f"[{chal.low:.4f}, {chal.high:.4f}] over {chal.impressions} impressions of "
        f"{chal.users} users, production {prod.mean:.4f} [{prod.low:.4f}, {prod.high:.4f}] "
        f"over {prod.impressions} of {prod.users}"
    )
    enough = small >= rule.min_impressions and min(prod.users, chal.users) >= rule.min_users
    if math.isnan(z):  # never decide on a broken number
        action: Action = "continue"
        reason = f"Continue: P(challenger better) undefined; {numbers}."
    elif enough and z >= needed:
        action = "promote"
        reason = (
            f"Promote: {numbers} (false promotion bound {rule.alpha:g}, >= "
            f"{rule.min_impressions} impressions and {rule.min_users} users per arm)."
        )
    elif enough and z <= -needed:
        action = "stop"
        reason = f"Stop, challenger worse: {numbers}."
    elif info >= 1.0:
        action = "stop"
        reason = (
            f"Stop, maximum sample {rule.max_impressions} (smaller arm) reached undecided: "
            f"{numbers}."
        )
    elif days >= rule.max_days:
        action = "stop"
        reason = f"Stop, maximum duration {rule.max_days:g} days passed undecided: {numbers}."
    else:
        action = "continue"
        need = (
            ""
            if enough
            else f"; fewer than {rule.min_impressions} impressions or {rule.min_users} users "
            "per arm"
        )
        reason = f"Continue: {numbers}{need}."
    return Evaluation(action, reason, p_better, z, info, prod, chal, days)
