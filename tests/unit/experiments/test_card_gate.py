"""The model card's audit gate on an experiment's promotion, and how the decision is recorded."""

from __future__ import annotations

from movie_roulette.config import PipelineConfig
from movie_roulette.experiments.card_gate import apply_card_gate, decision_metrics
from movie_roulette.promotion import check_audit_gate

ARM = {"impressions": 3000, "users": 400, "mean": 0.31}
VERDICT = {
    "experiment_id": "ab12",
    "action": "promote",
    "reason": "Promote: P(challenger better) 0.9990.",
    "p_challenger_better": 0.999,
    "z": 3.1,
    "information": 0.6,
    "production": ARM,
    "challenger": {**ARM, "mean": 0.34},
}
WORST = "group.worst.ndcg@10"


def _checks(candidate: float, production: float):
    return check_audit_gate(
        PipelineConfig().audit.gate, {WORST: candidate}, {WORST: production}, 10
    )


def test_an_online_win_with_a_failed_card_gate_stops_and_keeps_production() -> None:
    decision = apply_card_gate(VERDICT, _checks(0.20, 0.30))
    assert decision["action"] == "stop"
    assert decision["reason"].startswith("Stop, the model card's audit gate failed")
    assert "ndcg on worst" in decision["reason"] and VERDICT["reason"] in decision["reason"]
    assert decision["audit_gate"][0]["passed"] is False and VERDICT["action"] == "promote"


def test_a_passed_card_gate_promotes_and_is_recorded() -> None:
    decision = apply_card_gate(VERDICT, _checks(0.28, 0.30))
    assert decision["action"] == "promote"
    assert "Audit gate: ndcg on worst" in decision["reason"]
    assert decision["audit_gate"][0]["passed"] is True


def test_the_gate_never_turns_a_stop_into_a_promotion() -> None:
    stop = {**VERDICT, "action": "stop", "reason": "Stop, challenger worse."}
    assert apply_card_gate(stop, _checks(0.20, 0.30))["action"] == "stop"
    assert apply_card_gate(stop, [])["reason"] == "Stop, challenger worse."


def test_decision_metrics_and_tags() -> None:
    metrics, tags = decision_metrics(apply_card_gate(VERDICT, _checks(0.20, 0.30)))
    assert metrics["experiment.stopped"] == 1.0 and metrics["experiment.promoted"] == 0.0
    assert metrics["experiment.audit_gate_passed"] == 0.0
    assert metrics["experiment.challenger.users"] == 400.0
    assert metrics["experiment.z"] == 3.1 and metrics["experiment.p_challenger_better"] == 0.999
    assert tags["experiment.action"] == "stop" and tags["experiment.id"] == "ab12"
    undefined, _ = decision_metrics({**VERDICT, "p_challenger_better": None, "z": None})
    assert "experiment.z" not in undefined and "experiment.audit_gate_passed" not in undefined
