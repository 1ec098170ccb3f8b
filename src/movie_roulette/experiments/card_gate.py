"""The model card's audit gate on an experiment's promotion (docs/model-card.md).

An online win promotes the challenger only if its model card, built against production when the
rule says promote, passes the `audit.gate` rules, like a training run's promotion. A failed check
turns the promotion into a stop (production kept) and says why; every check is recorded.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from movie_roulette.promotion import GateCheck


def apply_card_gate(verdict: dict[str, Any], checks: Sequence[GateCheck]) -> dict[str, Any]:
    """The verdict with `audit_gate` recorded; a promotion with a failed check becomes a stop."""
    out = {**verdict, "audit_gate": [c.to_dict() for c in checks]}
    failed = [c for c in checks if not c.passed]
    if out.get("action") == "promote" and failed:
        why = "; ".join(c.reason for c in failed)
        out["action"] = "stop"
        out["reason"] = (
            f"Stop, the model card's audit gate failed ({why}); production is kept. The online "
            f"result alone: {verdict['reason']}"
        )
    elif checks:
        out["reason"] = f"{verdict['reason']} Audit gate: {'; '.join(c.reason for c in checks)}."
    return out


def decision_metrics(decision: dict[str, Any]) -> tuple[dict[str, float], dict[str, str]]:
    """(MLflow metrics, MLflow tags) recording an experiment decision, like the drift ones."""
    metrics = {
        "experiment.promoted": float(decision["action"] == "promote"),
        "experiment.stopped": float(decision["action"] == "stop"),
    }
    for key in ("p_challenger_better", "z", "information"):
        if decision.get(key) is not None:
            metrics[f"experiment.{key}"] = float(decision[key])
    for arm in ("production", "challenger"):
        metrics[f"experiment.{arm}.impressions"] = float(decision[arm]["impressions"])
        metrics[f"experiment.{arm}.users"] = float(decision[arm]["users"])
        metrics[f"experiment.{arm}.success_rate"] = float(decision[arm]["mean"])
    gate = decision.get("audit_gate") or []
    if gate:
        metrics["experiment.audit_gate_passed"] = float(all(c["passed"] for c in gate))
    tags = {
        "experiment.id": str(decision["experiment_id"]),
        "experiment.action": str(decision["action"]),
        "experiment.reason": str(decision["reason"])[:5000],
    }
    return metrics, tags
