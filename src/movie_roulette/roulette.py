"""The roulette's draw: one movie from a ranked pool, better-ranked movies more likely.

Probabilities are a softmax of the pool's scores in units of their spread (`temperature` scales
it: lower = safer picks from the top, higher = wilder), then capped: no movie gets more than
`max_share(n, temperature) = CAP_FACTOR / (n * temperature)` (at most 1) and what a capped movie
loses goes to the others in proportion to their own probability, so the order is kept. At the
default temperature 1 and a pool of 20 no movie gets more than 10%: the same person spinning
again lands on a different movie most of the time (before the cap, one movie took 40% of user
1's spins on ml-latest-small). A very low temperature (0.1) lifts the cap: the top pick wins.
"""

from __future__ import annotations

import numpy as np

CAP_FACTOR = 2.0


def max_share(n: int, temperature: float) -> float:
    """The largest probability any movie of a pool of `n` may get at `temperature`."""
    if n <= 0:
        return 1.0
    return float(min(1.0, max(CAP_FACTOR / (n * temperature), 1.0 / n)))


def spin_probabilities(scores: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """Draw probabilities for a pool (best first or not); they sum to 1."""
    values = np.asarray(scores, np.float64)
    if values.size == 0:
        return values
    spread = float(values.std()) or 1.0
    logits = (values - values.max()) / (temperature * spread)
    probs = np.exp(logits)
    probs /= probs.sum()
    cap = max_share(len(values), temperature)
    for _ in range(len(values)):  # water-filling: each round caps at least one more movie
        over = probs > cap + 1e-12
        if not over.any():
            break
        excess = float((probs[over] - cap).sum())
        probs[over] = cap
        free = probs < cap - 1e-12
        if not free.any():
            break
        probs[free] += excess * probs[free] / probs[free].sum()
    return probs / probs.sum()


def draw(scores: np.ndarray, temperature: float, seed: int | None) -> int:
    """The index of the drawn movie; the same seed gives the same pick."""
    probs = spin_probabilities(scores, temperature)
    return int(np.random.default_rng(seed).choice(len(probs), p=probs))
