"""The promotion rule: a candidate replaces production only when it is better on the same data."""

from __future__ import annotations

import math
from typing import Any


def decide_promotion(
    candidate: float,
    production: float | None,
    metric: str,
    higher_is_better: bool = True,
    min_improvement: float = 0.0,
) -> dict[str, Any]:
    """Return {"promote": bool, "reason": str, "candidate": ..., "production": ...}."""
    if candidate is None or math.isnan(candidate):
        raise ValueError(f"candidate {metric} is missing or NaN; cannot decide on promotion.")
    if min_improvement < 0:
        raise ValueError(f"min_improvement must be >= 0, got {min_improvement}.")
    result: dict[str, Any] = {"metric": metric, "candidate": candidate, "production": production}
    if production is None or math.isnan(production):
        result["promote"] = True
        result["reason"] = (
            f"No production model yet: promoting the candidate ({metric}={candidate:.4f})."
        )
        return result
    gain = candidate - production if higher_is_better else production - candidate
    result["promote"] = gain > min_improvement
    verb = "beats" if result["promote"] else "does not beat"
    result["reason"] = (
        f"Candidate {metric}={candidate:.4f} {verb} production {metric}={production:.4f} "
        f"on the same test split (required improvement > {min_improvement:g}, got {gain:+.4f})."
    )
    return result
