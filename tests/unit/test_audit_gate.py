"""The promotion gate on the model card's audit figures (config `audit.gate`)."""

from __future__ import annotations

import pytest

from movie_roulette.config import GateRule, PipelineConfig, config_from_dict
from movie_roulette.exceptions import ConfigError
from movie_roulette.promotion import apply_audit_gate, check_audit_gate

PROMOTE = {"promote": True, "reason": "Candidate ndcg@10=0.3000 beats production."}


def test_default_gate_only_guards_the_worst_group_ndcg() -> None:
    assert PipelineConfig().audit.gate == [GateRule(metric="ndcg", group="worst", max_drop=0.05)]


def test_a_worst_group_ndcg_drop_beyond_the_allowance_blocks_promotion_with_its_reason() -> None:
    rules = PipelineConfig().audit.gate
    checks = check_audit_gate(
        rules, {"group.worst.ndcg@10": 0.20}, {"group.worst.ndcg@10": 0.30}, 10
    )
    assert [c.passed for c in checks] == [False]
    decision = apply_audit_gate(PROMOTE, checks)
    assert decision["promote"] is False
    assert "audit gate failed" in decision["reason"] and "ndcg on worst" in decision["reason"]
    assert decision["audit_gate"][0]["candidate"] == 0.20


def test_a_drop_within_the_allowance_passes_and_is_recorded() -> None:
    checks = check_audit_gate(
        PipelineConfig().audit.gate,
        {"group.worst.ndcg@10": 0.27},
        {"group.worst.ndcg@10": 0.30},
        10,
    )
    decision = apply_audit_gate(PROMOTE, checks)
    assert decision["promote"] is True
    assert decision["audit_gate"][0]["passed"] is True
    assert "within the allowed 0.05" in decision["reason"]


def test_lower_is_better_figures_block_on_a_rise() -> None:
    rules = [GateRule(metric="miscalibration", group="activity:light", max_drop=0.1)]
    key = "group.activity:light.miscalibration"
    assert not check_audit_gate(rules, {key: 1.5}, {key: 1.2}, 10)[0].passed
    assert check_audit_gate(rules, {key: 1.0}, {key: 1.2}, 10)[0].passed


def test_no_production_or_a_too_small_group_is_not_a_blocker_and_says_why() -> None:
    rules = [GateRule(metric="recall", group="gender:F", max_drop=0.0)]
    first = check_audit_gate(rules, {"group.gender:F.recall@10": 0.1}, None, 10)[0]
    assert first.passed and "no production" in first.reason
    small = check_audit_gate(rules, {}, {"group.gender:F.recall@10": 0.4}, 10)[0]
    assert small.passed and "too small" in small.reason


def test_an_empty_gate_changes_nothing_but_a_failed_one_never_promotes_a_rejected_model() -> None:
    assert apply_audit_gate(PROMOTE, [])["promote"] is True
    rejected = {"promote": False, "reason": "does not beat"}
    checks = check_audit_gate(
        [GateRule()], {"group.worst.ndcg@10": 0.1}, {"group.worst.ndcg@10": 0.3}, 10
    )
    assert apply_audit_gate(rejected, checks)["promote"] is False


@pytest.mark.parametrize(
    ("gate", "message"),
    [
        ({"metric": "accuracy"}, "audit.gate[0].metric"),
        ({"group": "light"}, "audit.gate[0].group"),
        ({"max_drop": -0.1}, "audit.gate[0].max_drop"),
    ],
)
def test_bad_gate_rules_name_the_key_and_the_fix(gate: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        config_from_dict({"audit": {"gate": [gate]}})


def test_audit_settings_are_validated() -> None:
    with pytest.raises(ConfigError, match="audit.min_group_users"):
        config_from_dict({"audit": {"min_group_users": 0}})
    with pytest.raises(ConfigError, match="audit.long_tail_share"):
        config_from_dict({"audit": {"long_tail_share": 1.0}})
    cfg = config_from_dict({"audit": {"gate": []}})
    assert cfg.audit.gate == []
