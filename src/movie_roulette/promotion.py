"""The promotion rule: a candidate replaces production only when it is better on the same data,
compared like with like (`evaluation.like_for_like`), on enough users, with no broken group."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import pandas as pd

from movie_roulette.config import GateRule, PipelineConfig
from movie_roulette.evaluation.audit import HIGHER_IS_BETTER, figure_key
from movie_roulette.evaluation.like_for_like import (
    Comparison,
    GroupComparison,
    compare_like_with_like,
)
from movie_roulette.evaluation.seen import Part


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


def _group_label(group: GroupComparison) -> str:
    return f"{group.name.replace('_', ' ')} ({group.ranked_users} users)"


def decide_on_groups(
    comparison: Comparison,
    metric: str,
    higher_is_better: bool = True,
    min_improvement: float = 0.0,
    min_users: int = 1,
) -> dict[str, Any]:
    """Promote when the candidate beats production on the users both were compared on.

    The overall value of each model is the user-weighted mean of its group values. Promotion is
    blocked, with the reason, when a model scores exactly 0.0 on a non-empty group (a model that
    was not given the users, not a worse model) or fewer than `min_users` users were compared.
    """
    usable = [
        g
        for g in comparison.groups
        if g.ranked_users > 0 and not (math.isnan(g.candidate) or math.isnan(g.production))
    ]
    compared = sum(g.ranked_users for g in usable)
    blockers = []
    for group in comparison.groups:
        if group.ranked_users == 0:
            continue
        for who, value in (("candidate", group.candidate), ("production", group.production)):
            if value == 0.0:
                blockers.append(
                    f"{who} {metric} is exactly 0.0 on {_group_label(group)}: that model was "
                    f"not given these users (production input: {group.production_input}), it is "
                    "no evidence either way"
                )
    if compared < min_users:
        blockers.append(
            f"only {compared} users were compared, fewer than promotion.min_users={min_users}"
        )
    if compared:
        candidate = sum(g.candidate * g.ranked_users for g in usable) / compared
        production = sum(g.production * g.ranked_users for g in usable) / compared
    else:
        candidate = production = math.nan
    table = "; ".join(
        f"{_group_label(g)}: candidate {g.candidate:.4f} vs production {g.production:.4f}"
        for g in comparison.groups
    )
    result: dict[str, Any] = {
        "metric": metric,
        "candidate": None if math.isnan(candidate) else candidate,
        "production": None if math.isnan(production) else production,
        "compared_users": compared,
        "min_users": min_users,
        **comparison.to_dict(),
        "blocked_by": blockers,
    }
    if blockers:
        result["promote"] = False
        result["reason"] = f"Not promoting: {'; '.join(blockers)}. By group: {table}."
        return result
    base = decide_promotion(candidate, production, metric, higher_is_better, min_improvement)
    result["promote"] = base["promote"]
    result["reason"] = f"{base['reason']} By group: {table}."
    return result


def decide_against_production(
    candidate_model: Any,
    candidate_metrics: dict[str, float],
    production_model: Any | None,
    train: Part,
    valid: Part,
    test: pd.DataFrame,
    cfg: PipelineConfig,
    production_catalogue: pd.DataFrame | None = None,
    production_notes: Sequence[str] = (),
) -> dict[str, Any]:
    """Compare the candidate with the production model (if any) like with like and decide.
    `production_notes`: what was done to make production comparable before (a refit by the
    pipeline's `load_comparable_production` step), kept in the decision's notes.

    Both are judged on the candidate's test rows, group by group, with the same information
    about each user (`evaluation.like_for_like`); the decision records the groups, their sizes
    and both models' metric on each.
    """
    metric = cfg.promotion.primary_metric
    if production_model is None:
        return decide_promotion(
            float(candidate_metrics[metric]), None, metric, cfg.promotion.higher_is_better
        )
    comparison = compare_like_with_like(
        candidate_model,
        production_model,
        train,
        valid,
        test,
        metric,
        k=cfg.evaluation.k,
        threshold=cfg.evaluation.relevance_threshold,
        refit_on_train_and_valid=cfg.model.refit_on_train_and_valid,
        production_catalogue=production_catalogue,
        prepared_notes=production_notes,
    )
    return decide_on_groups(
        comparison,
        metric,
        higher_is_better=cfg.promotion.higher_is_better,
        min_improvement=cfg.promotion.min_improvement,
        min_users=cfg.promotion.min_users,
    )


@dataclass(frozen=True)
class GateCheck:
    """One audit gate rule applied to the model cards of the candidate and production."""

    metric: str
    group: str
    key: str  # the flat audit figure compared
    candidate: float | None
    production: float | None
    max_drop: float
    passed: bool
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def check_audit_gate(
    rules: Sequence[GateRule],
    candidate: Mapping[str, float],
    production: Mapping[str, float] | None,
    k: int,
) -> list[GateCheck]:
    """Each rule: the candidate's audit figure may be worse than production's by at most
    `max_drop`. Not checked (and not blocking, with the reason): no production card, or the group
    is absent or too small in either card."""
    checks = []
    for rule in rules:
        key = figure_key(rule.metric, rule.group, k)
        cand = candidate.get(key)
        prod = production.get(key) if production is not None else None
        label = f"{rule.metric} on {rule.group}"
        if production is None:
            passed, reason = True, f"{label}: no production model card to compare with"
        elif cand is None or prod is None:
            who = "the new version" if cand is None else "production"
            passed, reason = (
                True,
                f"{label}: not checked, the group is absent or too small for {who}",
            )
        else:
            higher = HIGHER_IS_BETTER.get(rule.metric, False)
            drop = prod - cand if higher else cand - prod
            passed = drop <= rule.max_drop + 1e-12
            verb = "within" if passed else "more than"
            reason = (
                f"{label}: new {cand:.4f} vs production {prod:.4f}, worse by {max(drop, 0.0):.4f} "
                f"({verb} the allowed {rule.max_drop:g})"
            )
        checks.append(
            GateCheck(rule.metric, rule.group, key, cand, prod, rule.max_drop, passed, reason)
        )
    return checks


def apply_audit_gate(decision: dict[str, Any], checks: Sequence[GateCheck]) -> dict[str, Any]:
    """Record the gate in the decision; a failed check blocks a promotion, saying why."""
    out = dict(decision)
    out["audit_gate"] = [c.to_dict() for c in checks]
    failed = [c for c in checks if not c.passed]
    if failed and out.get("promote"):
        out["promote"] = False
        why = "; ".join(c.reason for c in failed)
        out["reason"] = (
            f"Not promoting: the model card's audit gate failed ({why}). Otherwise: {out['reason']}"
        )
    elif checks:
        out["reason"] = f"{out['reason']} Audit gate: {'; '.join(c.reason for c in checks)}."
    return out
