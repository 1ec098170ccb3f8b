"""Beta-Binomial statistics per arm and the stopping rule.

Each arm's success rate (an impression followed by a click or an accepted spin) has a Beta(1, 1)
prior; after s successes in n impressions its posterior is Beta(1 + s, 1 + n - s).
P(challenger better) = P(p_challenger > p_production) is computed exactly (Evan Miller's sum
for integer parameters), credible intervals from the Beta quantiles.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np
from scipy import special, stats

from movie_roulette.experiments.record import CHALLENGER, PRODUCTION, StoppingRule

PRIOR = (1.0, 1.0)


@dataclass(frozen=True)
class ArmEstimate:
    impressions: int
    successes: int
    alpha: float
    beta: float
    mean: float
    low: float  # central credible interval
    high: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def posterior(successes: int, trials: int, level: float = 0.95) -> ArmEstimate:
    if trials < 0 or not 0 <= successes <= trials:
        raise ValueError(f"need 0 <= successes <= trials, got {successes} of {trials}.")
    a, b = PRIOR[0] + successes, PRIOR[1] + trials - successes
    tail = (1.0 - level) / 2.0
    low, high = stats.beta.ppf([tail, 1.0 - tail], a, b)
    return ArmEstimate(trials, successes, a, b, a / (a + b), float(low), float(high))


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


Action = Literal["continue", "promote", "stop"]


@dataclass(frozen=True)
class Evaluation:
    action: Action
    reason: str
    p_challenger_better: float
    production: ArmEstimate
    challenger: ArmEstimate
    days: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "reason": self.reason,
            "p_challenger_better": self.p_challenger_better,
            PRODUCTION: self.production.to_dict(),
            CHALLENGER: self.challenger.to_dict(),
            "days": self.days,
        }


def evaluate(counts: dict[str, tuple[int, int]], rule: StoppingRule, days: float) -> Evaluation:
    """The stopping rule on {arm: (successes, impressions)} after `days` of the experiment."""
    prod = posterior(*counts.get(PRODUCTION, (0, 0)))
    chal = posterior(*counts.get(CHALLENGER, (0, 0)))
    p_better = prob_b_beats_a(prod.alpha, prod.beta, chal.alpha, chal.beta)
    n_min = min(prod.impressions, chal.impressions)
    numbers = (
        f"P(challenger better) {p_better:.3f}; challenger {chal.mean:.4f} "
        f"[{chal.low:.4f}, {chal.high:.4f}] over {chal.impressions} impressions, production "
        f"{prod.mean:.4f} [{prod.low:.4f}, {prod.high:.4f}] over {prod.impressions}"
    )
    enough = n_min >= rule.min_impressions
    if enough and p_better >= rule.p_promote:
        action: Action = "promote"
        reason = f"Promote: {numbers} (>= {rule.p_promote} with >= {rule.min_impressions} each)."
    elif enough and p_better <= rule.p_stop:
        action = "stop"
        reason = f"Stop, challenger worse: {numbers} (<= {rule.p_stop})."
    elif max(prod.impressions, chal.impressions) >= rule.max_impressions:
        action = "stop"
        reason = f"Stop, maximum sample {rule.max_impressions} reached undecided: {numbers}."
    elif days >= rule.max_days:
        action = "stop"
        reason = f"Stop, maximum duration {rule.max_days:g} days passed undecided: {numbers}."
    else:
        action = "continue"
        need = "" if enough else f"; fewer than {rule.min_impressions} impressions per arm"
        reason = f"Continue: {numbers}{need}."
    if math.isnan(p_better):  # never promote on a broken number
        action, reason = "continue", f"Continue: P(challenger better) undefined; {numbers}."
    return Evaluation(action, reason, p_better, prod, chal, days)
