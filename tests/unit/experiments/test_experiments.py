"""Online experiments: the record, assignment, Beta-Binomial statistics, stopping rule, outcomes
(the user-level statistics: test_user_level_stats.py)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from movie_roulette.experiments.assignment import assign, assign_ab, thompson_arm
from movie_roulette.experiments.outcomes import read_outcomes
from movie_roulette.experiments.record import (
    CHALLENGER,
    PRODUCTION,
    ExperimentError,
    ExperimentStore,
    StoppingRule,
)
from movie_roulette.experiments.stats import evaluate, posterior, prob_b_beats_a
from movie_roulette.experiments.status import experiment_status, format_status
from movie_roulette.monitoring.eventlog import EventLog

VERSIONS = ["1", "2", "3"]


def _start(tmp_path, **kw):
    store = ExperimentStore(tmp_path)
    args = {"traffic": 0.2, "policy": "ab", **kw}
    return store, store.start("m", "2", "3", VERSIONS, **args)


# ---- record ---------------------------------------------------------------------------------
def test_start_persists_and_one_at_a_time(tmp_path):
    store, exp = _start(tmp_path)
    assert ExperimentStore(tmp_path).running() == exp
    with pytest.raises(ExperimentError, match="still running; one experiment at a time"):
        store.start("m", "2", "1", VERSIONS)
    ended = store.end("stopped", "by hand")
    assert store.running() is None
    assert store.finished() == [ended] and ended.end_reason == "by hand"
    store.start("m", "2", "1", VERSIONS)  # a new one may start now


@pytest.mark.parametrize(
    ("challenger", "traffic", "policy", "message"),
    [
        ("9", 0.2, "ab", "not a registered version"),
        ("2", 0.2, "ab", "already production"),
        ("3", 0.0, "ab", "strictly between 0 and 1"),
        ("3", 1.0, "ab", "strictly between 0 and 1"),
        ("3", -0.5, "ab", "strictly between 0 and 1"),
        ("3", 0.2, "greedy", "policy must be one of"),
    ],
)
def test_start_refuses_bad_input_and_writes_nothing(tmp_path, challenger, traffic, policy, message):
    store = ExperimentStore(tmp_path)
    with pytest.raises(ExperimentError, match=message):
        store.start("m", "2", challenger, VERSIONS, traffic=traffic, policy=policy)
    assert not store.path.exists()


def test_no_production_and_corrupt_state_are_clear_errors(tmp_path):
    store = ExperimentStore(tmp_path)
    with pytest.raises(ExperimentError, match="no production model"):
        store.start("m", None, "3", VERSIONS)
    store.path.write_text("{not json")
    with pytest.raises(ExperimentError, match="left untouched"):
        store.running()
    assert store.path.read_text() == "{not json"


def test_decisions_are_recorded(tmp_path):
    store, _ = _start(tmp_path)
    store.record_decision({"action": "continue", "p": 0.5})
    assert store.running().decisions == ({"action": "continue", "p": 0.5},)


# ---- assignment -----------------------------------------------------------------------------
def test_ab_assignment_is_sticky_and_has_the_traffic_share():
    arms = [assign_ab("exp1", user, 0.2) for user in range(20000)]
    assert arms == [assign_ab("exp1", user, 0.2) for user in range(20000)]
    share = arms.count(CHALLENGER) / len(arms)
    assert abs(share - 0.2) < 0.01  # binomial sd 0.0028: 3.5 sd
    other = [assign_ab("exp2", user, 0.2) for user in range(20000)]
    assert other != arms  # a new experiment reshuffles users


def test_thompson_prefers_the_clearly_better_arm(tmp_path):
    rng = np.random.default_rng(0)
    posteriors = {PRODUCTION: (11.0, 91.0), CHALLENGER: (31.0, 71.0)}
    picks = [thompson_arm(posteriors, rng) for _ in range(2000)]
    assert picks.count(CHALLENGER) / 2000 > 0.99
    _, exp = _start(tmp_path, policy="thompson")
    even = [assign(exp, 1, rng=rng) for _ in range(4000)]  # no data: Beta(1,1) each, 50/50
    assert abs(even.count(CHALLENGER) / 4000 - 0.5) < 0.04


# ---- statistics -----------------------------------------------------------------------------
def test_posterior_matches_closed_form():
    est = posterior(0, 0)  # Beta(1, 1) = uniform: mean 1/2, 95% interval [0.025, 0.975]
    assert (est.alpha, est.beta, est.mean) == (1.0, 1.0, 0.5)
    assert est.low == pytest.approx(0.025) and est.high == pytest.approx(0.975)
    est = posterior(3, 10)  # Beta(4, 8): mean 1/3
    assert est.mean == pytest.approx(4 / 12)
    est = posterior(0, 5)  # Beta(1, 6): CDF 1-(1-x)^6, so the 2.5% quantile is 1-0.975^(1/6)
    assert est.low == pytest.approx(1 - 0.975 ** (1 / 6))
    with pytest.raises(ValueError):
        posterior(5, 3)


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ((1, 1), (1, 1), 0.5),  # two uniforms
        ((1, 1), (2, 1), 2 / 3),  # density 2x vs uniform: integral of 2x * x
        ((2, 1), (1, 1), 1 / 3),
        ((1, 2), (1, 1), 2 / 3),  # density 2(1-x): P(U > X) = 1 - 1/3
        ((5, 5), (5, 5), 0.5),  # symmetric
    ],
)
def test_prob_better_closed_form(a, b, expected):
    assert prob_b_beats_a(*a, *b) == pytest.approx(expected, abs=1e-9)


def test_prob_better_agrees_with_monte_carlo():
    rng = np.random.default_rng(1)
    x = rng.beta(31, 271, 400_000)
    y = rng.beta(41, 261, 400_000)
    assert prob_b_beats_a(31, 271, 41, 261) == pytest.approx(float((y > x).mean()), abs=0.005)
    assert prob_b_beats_a(41, 261, 31, 271) == pytest.approx(float((x > y).mean()), abs=0.005)


# ---- the stopping rule ----------------------------------------------------------------------
RULE = StoppingRule(min_impressions=100, min_users=20, alpha=0.05, max_impressions=5000)


def _users(successes: int, impressions: int, per_user: int = 10) -> list[tuple[int, int]]:
    """`impressions` spread over users of `per_user` each, the successes dealt out in turn."""
    users = [[per_user, 0] for _ in range(impressions // per_user)]
    for i in range(successes):
        users[i % len(users)][1] += 1
    return [(n, s) for n, s in users]


def test_promotes_when_clearly_better_with_the_minimum_sample():
    result = evaluate({PRODUCTION: _users(100, 1000), CHALLENGER: _users(150, 1000)}, RULE, 1)
    assert result.action == "promote" and result.p_challenger_better > 0.99
    assert "P(challenger better)" in result.reason and "100 users" in result.reason


def test_never_decides_below_the_minimum_sample_of_impressions_or_users():
    result = evaluate({PRODUCTION: _users(0, 50, 1), CHALLENGER: _users(40, 50, 1)}, RULE, 1)
    assert result.action == "continue" and result.p_challenger_better > 0.999
    # enough impressions, but from 10 users each: too few clusters for the variance
    few = {PRODUCTION: _users(100, 1000, 100), CHALLENGER: _users(300, 1000, 100)}
    result = evaluate(few, RULE, days=1)
    assert result.action == "continue" and "20 users" in result.reason


def test_stops_when_worse():
    result = evaluate({PRODUCTION: _users(150, 1000), CHALLENGER: _users(100, 1000)}, RULE, 1)
    assert result.action == "stop" and "worse" in result.reason


def test_stops_at_max_sample_of_the_smaller_arm_and_max_duration_when_undecided():
    even = {PRODUCTION: _users(2000, 20000), CHALLENGER: _users(500, 5000)}
    assert evaluate(even, RULE, days=1).action == "stop"
    # traffic 0.2: production passing max_impressions is not the end, the challenger's arm is
    unequal = {PRODUCTION: _users(2000, 20000), CHALLENGER: _users(490, 4900)}
    assert evaluate(unequal, RULE, days=1).action == "continue"
    small = {PRODUCTION: _users(20, 200), CHALLENGER: _users(20, 200)}
    assert evaluate(small, RULE, days=1).action == "continue"
    assert "maximum duration" in evaluate(small, RULE, days=RULE.max_days).reason


def test_the_boundary_falls_with_the_information_fraction():
    # z ~ 2.3: past c = 1.96 (alpha 0.05) at the full sample, short of c / sqrt(0.5) halfway
    prod, chal = _users(1000, 10000, 5), _users(1072, 10000, 5)
    full = evaluate({PRODUCTION: prod, CHALLENGER: chal}, replace(RULE, max_impressions=10000), 1)
    half = evaluate({PRODUCTION: prod, CHALLENGER: chal}, replace(RULE, max_impressions=20000), 1)
    assert 1.96 < full.z < 1.96 / 0.5**0.5 and full.z == pytest.approx(half.z)
    assert full.action == "promote" and half.information == 0.5 and half.action == "continue"


def test_rule_validation_and_rules_stored_before_alpha():
    with pytest.raises(ExperimentError, match="alpha"):
        StoppingRule(alpha=0.6)
    with pytest.raises(ExperimentError, match="max_impressions"):
        StoppingRule(min_impressions=10, max_impressions=5)
    with pytest.raises(ExperimentError, match="min_users"):
        StoppingRule(min_users=1)
    legacy = {"min_impressions": 10, "p_promote": 0.998, "p_stop": 0.002, "max_impressions": 50}
    assert StoppingRule.from_dict(legacy) == StoppingRule(min_impressions=10, max_impressions=50)


# ---- outcomes from the event log ------------------------------------------------------------
def test_outcomes_per_arm_and_unknown_arms_are_counted(tmp_path):
    _, exp = _start(tmp_path)
    log = EventLog(tmp_path / "events.jsonl")
    base = {"experiment_id": exp.experiment_id}
    p, c = (
        {**base, "arm": PRODUCTION, "model_version": "2"},
        {
            **base,
            "arm": CHALLENGER,
            "model_version": "3",
        },
    )
    for user in (1, 2):
        log.append("impression", {**p, "user_id": user, "kind": "recommend"})
    log.append("impression", {**c, "user_id": 3, "kind": "spin"})
    log.log_click(1, 10, **p)
    log.log_click(1, 11, **p)  # two clicks on one impression count one success
    log.log_spin_accepted(3, 12, **c)
    log.log_rating(3, 12, 4.5, **c)
    log.log_click(4, 10, **{**base, "arm": "treatment", "model_version": "3"})  # unknown arm
    log.log_click(4, 10, **{**base, "arm": CHALLENGER, "model_version": "1"})  # wrong version
    log.append("experiment", {**base, "action": "fallback", "user_id": 5})
    log.log_click(6, 10, experiment_id="other", arm=PRODUCTION, model_version="2")
    log.log_click(7, 10)  # no experiment
    outcomes = read_outcomes(exp, log.path)
    prod, chal = outcomes.arms[PRODUCTION], outcomes.arms[CHALLENGER]
    assert (prod.impressions, prod.clicks, prod.successes, len(prod.users)) == (2, 2, 1, 2)
    assert (chal.impressions, chal.spins_accepted, chal.successes) == (1, 1, 1)
    assert chal.summary()["mean_rating"] == 4.5 and chal.summary()["spin_acceptance"] == 1.0
    assert outcomes.unknown_arm == 2 and outcomes.fallbacks == 1
    evaluation, record = experiment_status(exp, log.path)
    assert record["arms"][PRODUCTION]["impressions"] == 2 and not record["rule_met"]
    text = format_status(record)
    assert "P(challenger better)" in text and "unknown-arm events 2" in text


# ---- the simulator --------------------------------------------------------------------------
def test_simulated_users_follow_the_stated_choice_model():
    from movie_roulette.experiments.simulate import World, click_probability, simulate

    world = World.generate(n_users=300, n_movies=120, seed=3)
    clicks = click_probability(np.full(5, 5.5), np.arange(5))
    assert clicks[0] == pytest.approx(0.5) and np.all(np.diff(clicks) < 0)  # position bias
    assert click_probability(np.array([6.0]), np.array([0]))[0] > clicks[0]  # rising affinity
    good = world.acceptance(world.ranker(0.2, seed=1)).mean()
    bad = world.acceptance(world.ranker(2.0, seed=1)).mean()
    assert good > bad + 0.05  # less noise = truly better
    p = world.acceptance(world.ranker(1.0, seed=1))
    rng = np.random.default_rng(0)
    rule = StoppingRule(min_impressions=100, max_impressions=400)
    same = simulate(p, p, rule, "ab", 0.5, rng, "x", check_every=100)
    assert same.action in ("promote", "stop")
    better = world.acceptance(world.ranker(0.2, seed=2))
    ab = simulate(p, better, rule, "ab", 0.5, rng, "y", horizon=3000)
    ts = simulate(p, better, rule, "thompson", 0.5, rng, "y", horizon=3000)
    assert ts.expected_lost < ab.expected_lost
    assert sum(ab.impressions.values()) == 3000
