"""The retraining decision: drift over a threshold, enough new interactions, or forced."""

from __future__ import annotations

from typing import Any


def decide_retraining(
    drift_summary: dict[str, Any],
    new_interactions: int,
    drift_share_threshold: float,
    min_new_interactions: int,
    force: bool = False,
    has_production: bool = True,
    min_drift_rows: int = 0,
) -> dict[str, Any]:
    """{"retrain": bool, "triggers": [...], "reason": str, plus the numbers it was based on}.

    `triggers` is a subset of ["forced", "no_production_model", "drift", "new_interactions"];
    the reason always names the numbers and thresholds, whichever way the decision goes.
    """
    if not 0.0 < drift_share_threshold <= 1.0:
        raise ValueError(f"drift_share_threshold must be in (0, 1], got {drift_share_threshold}.")
    if min_new_interactions < 1:
        raise ValueError(f"min_new_interactions must be at least 1, got {min_new_interactions}.")
    if new_interactions < 0:
        raise ValueError(f"new_interactions must be >= 0, got {new_interactions}.")
    share = float(drift_summary.get("drift_share", 0.0))
    drifted = list(drift_summary.get("drifted_columns", []))
    drift_text = (
        f"drift share {share:.2f} ({len(drifted)} drifted column(s)"
        f"{': ' + ', '.join(drifted) if drifted else ''}) vs threshold {drift_share_threshold:.2f}"
    )
    if drift_summary.get("skipped"):
        drift_text = f"no drift check ({drift_summary['skipped']})"
    current_rows = drift_summary.get("current_rows")
    too_few = current_rows is not None and int(current_rows) < min_drift_rows
    if too_few and not drift_summary.get("skipped"):
        # A drift test on a few dozen rows flags nearly every column: report, do not trigger.
        drift_text = (
            f"{drift_text}, not used as a trigger: {current_rows} current row(s) < "
            f"continuous.min_drift_rows {min_drift_rows}"
        )
    count_text = f"{new_interactions} new interaction(s) vs minimum {min_new_interactions}"

    triggers: list[str] = []
    reasons: list[str] = []
    if force:
        triggers.append("forced")
        reasons.append("forced by --force")
    if not has_production:
        triggers.append("no_production_model")
        reasons.append("there is no production model yet")
    if (
        new_interactions > 0
        and share >= drift_share_threshold
        and not drift_summary.get("skipped")
        and not too_few
    ):
        triggers.append("drift")
        reasons.append(f"data drift: {drift_text}")
    if new_interactions >= min_new_interactions:
        triggers.append("new_interactions")
        reasons.append(f"enough new data: {count_text}")
    retrain = bool(triggers)
    if retrain:
        reason = "Retraining: " + "; ".join(reasons) + "."
    else:
        reason = f"No retraining: {drift_text}; {count_text}; not forced."
    return {
        "retrain": retrain,
        "triggers": triggers,
        "reason": reason,
        "drift_share": share,
        "drifted_columns": drifted,
        "drift_share_threshold": drift_share_threshold,
        "new_interactions": int(new_interactions),
        "min_new_interactions": int(min_new_interactions),
        "forced": bool(force),
    }
