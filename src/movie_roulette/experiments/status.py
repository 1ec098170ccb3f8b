"""An experiment's status: per-arm outcomes, estimates with intervals, P(better), the rule."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from movie_roulette.experiments.outcomes import read_outcomes
from movie_roulette.experiments.record import ARMS, Experiment
from movie_roulette.experiments.stats import Evaluation, evaluate


def experiment_status(
    experiment: Experiment, event_log: str | Path, now: float | None = None
) -> tuple[Evaluation, dict[str, Any]]:
    """(the stopping rule's evaluation, a JSON-safe status record with every number)."""
    outcomes = read_outcomes(experiment, event_log)
    days = ((time.time() if now is None else now) - experiment.started_at) / 86400.0
    evaluation = evaluate(outcomes.per_user(), experiment.rule, days)
    record = {
        "experiment_id": experiment.experiment_id,
        "policy": experiment.policy,
        "traffic": experiment.traffic,
        "versions": {arm: experiment.version_of(arm) for arm in ARMS},
        "arms": {arm: outcomes.arms[arm].summary() for arm in ARMS},
        "unknown_arm_events": outcomes.unknown_arm,
        "fallbacks": outcomes.fallbacks,
        "damaged_lines": outcomes.damaged_lines,
        **evaluation.to_dict(),
        "rule_met": evaluation.action != "continue",
    }
    return evaluation, record


def format_status(record: dict[str, Any]) -> str:
    lines = [
        f"Experiment {record['experiment_id']} ({record['policy']}, challenger traffic "
        f"{record['traffic']:g}), {record['days']:.2f} day(s)"
    ]
    for arm in ARMS:
        a, est = record["arms"][arm], record[arm]
        ctr = "-" if a["click_through"] is None else f"{a['click_through']:.3f}"
        acc = "-" if a["spin_acceptance"] is None else f"{a['spin_acceptance']:.3f}"
        rating = "-" if a["mean_rating"] is None else f"{a['mean_rating']:.2f}"
        lines.append(
            f"  {arm:<10} v{record['versions'][arm]}: users {a['users']}, impressions "
            f"{a['impressions']}, clicks {a['clicks']} (CTR {ctr}), spins accepted "
            f"{a['spins_accepted']} (rate {acc}), ratings {a['ratings']} (mean {rating}); "
            f"success rate {est['mean']:.4f} [95% {est['low']:.4f}, {est['high']:.4f}] "
            f"(per user, {est['users']} users)"
        )
    p_better = record["p_challenger_better"]
    shown = "undefined (too few users)" if p_better is None else f"{p_better:.4f}"
    lines.append(f"  P(challenger better) = {shown}")
    lines.append(
        f"  stopping rule met: {'yes' if record['rule_met'] else 'no'} -> {record['reason']}"
    )
    if record["unknown_arm_events"] or record["fallbacks"] or record["damaged_lines"]:
        lines.append(
            f"  unknown-arm events {record['unknown_arm_events']}, challenger fallbacks "
            f"{record['fallbacks']}, damaged log lines {record['damaged_lines']}"
        )
    return "\n".join(lines)
