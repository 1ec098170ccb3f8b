"""The promotion rule and metric-name shaping."""

import math
from functools import lru_cache

import pandas as pd
import pytest

from movie_roulette.config import ModelConfig, PipelineConfig, SVDConfig
from movie_roulette.evaluation.like_for_like import (
    KNOWN,
    NEW,
    Comparison,
    GroupComparison,
    compare_like_with_like,
)
from movie_roulette.evaluation.offline import evaluate
from movie_roulette.promotion import decide_against_production, decide_on_groups, decide_promotion
from movie_roulette.tracking import flatten_metrics, flatten_params, metric_key


def test_first_model_is_promoted() -> None:
    decision = decide_promotion(0.3, None, "ndcg@10")
    assert decision["promote"] is True
    assert "No production model" in decision["reason"]


def test_better_candidate_is_promoted_and_a_tie_is_not() -> None:
    assert decide_promotion(0.31, 0.30, "ndcg@10")["promote"] is True
    tie = decide_promotion(0.30, 0.30, "ndcg@10")
    assert tie["promote"] is False
    assert "does not beat" in tie["reason"]


def test_lower_is_better_metrics_and_required_margin() -> None:
    assert decide_promotion(0.80, 0.85, "rmse", higher_is_better=False)["promote"] is True
    assert decide_promotion(0.31, 0.30, "ndcg@10", min_improvement=0.02)["promote"] is False


def test_nan_candidate_is_an_error() -> None:
    with pytest.raises(ValueError, match="candidate ndcg@10 is missing or NaN"):
        decide_promotion(math.nan, 0.3, "ndcg@10")


def test_metric_names_are_mlflow_safe() -> None:
    assert metric_key("ndcg@10") == "ndcg_at_10"
    flat = flatten_metrics({"hybrid": {"ndcg@10": 0.3, "rmse": math.nan}})
    assert flat == {"hybrid.ndcg_at_10": 0.3}
    assert flatten_params({"model": {"svd": {"n_factors": 100}}}) == {"model.svd.n_factors": "100"}


# ---- like with like (issue 14 item 3) ----------------------------------------------------------
FAST = ModelConfig(svd=SVDConfig(n_factors=16, n_epochs=8))


@lru_cache(maxsize=1)
def _world() -> tuple[pd.DataFrame, ...]:
    from movie_roulette.data.demo import generate_demo
    from movie_roulette.data.split import train_valid_test

    demo = generate_demo(seed=3, n_movies=150, n_users=90, mean_ratings_per_user=45, n_reviews=10)
    train, valid, test = train_valid_test(demo.ratings, PipelineConfig().split, seed=3)
    return train, valid, test, demo.catalogue


def _hybrid(train: pd.DataFrame, valid: pd.DataFrame) -> object:
    from movie_roulette.models.hybrid import train_hybrid

    return train_hybrid(train, valid, _world()[3], FAST, seed=3, k=10)


def _group(name: str, users: int, candidate: float, production: float) -> GroupComparison:
    return GroupComparison(name, users, users, users * 3, candidate, production, "test input")


def test_users_new_to_production_are_compared_through_its_newcomer_path() -> None:
    """The reported bug: production never saw the newcomers, scored 0.0 on them, and lost."""
    train, valid, test, _ = _world()
    newcomers = set(sorted(test["user_id"].unique())[::3])
    old = ~train["user_id"].isin(newcomers)
    production = _hybrid(train[old], valid[~valid["user_id"].isin(newcomers)])
    candidate = _hybrid(train, valid)
    cfg = PipelineConfig()

    decision = decide_against_production(candidate, {}, production, train, valid, test, cfg)

    groups = {g["name"]: g for g in decision["groups"]}
    assert set(groups) == {KNOWN, NEW}
    assert groups[NEW]["users"] == len(newcomers & set(test["user_id"]))
    assert groups[KNOWN]["users"] == test["user_id"].nunique() - groups[NEW]["users"]
    assert "folded in" in groups[NEW]["production_input"]
    assert groups[NEW]["production"] > 0.0  # given the same history, production ranks too
    assert decision["blocked_by"] == []
    for group in groups.values():
        assert (
            f"{group['ranked_users']} users): candidate {group['candidate']:.4f}"
            in (decision["reason"])
        )


class _Counting:
    """A model that counts its rankings and rating predictions."""

    def __init__(self, model: object) -> None:
        self.model, self.calls = model, {"recommend": 0, "predict_rating": 0}

    def recommend(self, user_id: int, k: int = 10, exclude_seen: bool = True) -> list:
        self.calls["recommend"] += 1
        return self.model.recommend(user_id, k, exclude_seen=exclude_seen)

    def predict_rating(self, user_id: int, movie_ids: object) -> object:
        self.calls["predict_rating"] += 1
        return self.model.predict_rating(user_id, movie_ids)


@pytest.mark.parametrize(
    ("metric", "family"),
    [("ndcg@10", "recommend"), ("hit_rate@10", "recommend"), ("rmse", "predict_rating")],
)
def test_the_comparison_computes_only_the_primary_metrics_family(metric: str, family: str) -> None:
    """A ranking metric needs no rating predictions (the rating stack on every test row of both
    models), an error metric no rankings; the value is the one `evaluate` gives."""
    train, valid, test, _ = _world()
    model = _hybrid(train, valid)
    candidate = _Counting(model)
    production = _hybrid(train, valid)
    comparison = compare_like_with_like(candidate, production, train, valid, test, metric)
    known = next(g for g in comparison.groups if g.name == KNOWN)
    assert known.users == test["user_id"].nunique()  # (production knows every test user)
    seen = pd.concat([train, valid], ignore_index=True)
    assert known.candidate == pytest.approx(evaluate(model, seen, test)[metric], rel=1e-12)
    other = ({"recommend", "predict_rating"} - {family}).pop()
    assert candidate.calls[family] > 0 and candidate.calls[other] == 0


def test_an_exact_zero_on_a_non_empty_group_blocks_promotion_with_the_reason() -> None:
    groups = [_group(KNOWN, 40, 0.21, 0.20), _group(NEW, 19, 0.26, 0.0)]
    decision = decide_on_groups(Comparison(groups, []), "ndcg@10", min_users=20)
    assert decision["promote"] is False
    assert (
        "production ndcg@10 is exactly 0.0 on new to production (19 users)" in (decision["reason"])
    )
    empty = [_group(KNOWN, 40, 0.21, 0.20), _group(NEW, 0, math.nan, math.nan)]
    assert decide_on_groups(Comparison(empty, []), "ndcg@10", min_users=20)["promote"] is True


def test_fewer_users_than_the_configured_minimum_block_promotion() -> None:
    groups = [_group(KNOWN, 12, 0.40, 0.10)]
    decision = decide_on_groups(Comparison(groups, []), "ndcg@10", min_users=20)
    assert decision["promote"] is False
    assert "only 12 users were compared, fewer than promotion.min_users=20" in decision["reason"]
    assert decide_on_groups(Comparison(groups, []), "ndcg@10", min_users=12)["promote"] is True


def test_the_decision_records_groups_sizes_and_both_models_per_group() -> None:
    groups = [_group(KNOWN, 30, 0.30, 0.20), _group(NEW, 10, 0.10, 0.20)]
    decision = decide_on_groups(Comparison(groups, ["a note"]), "ndcg@10", min_users=20)
    assert decision["groups"] == [g.to_dict() for g in groups]
    assert decision["compared_users"] == 40 and decision["notes"] == ["a note"]
    assert decision["candidate"] == pytest.approx((0.30 * 30 + 0.10 * 10) / 40)
    assert decision["production"] == pytest.approx(0.20)
    assert decision["promote"] is True


def test_a_production_model_trained_on_the_test_ratings_is_refitted_before_comparing() -> None:
    """A training re-run: production (served, refitted on all ratings) has seen the test split;
    it would exclude every relevant movie and score ~0. Its recipe is refitted on train + valid."""
    from movie_roulette.final_fit import refit_for_serving

    train, valid, test, catalogue = _world()
    candidate = _hybrid(train, valid)
    production, _ = refit_for_serving(_hybrid(train, valid), train, valid, test, catalogue)
    decision = decide_against_production(
        candidate, {}, production, train, valid, test, PipelineConfig(), catalogue
    )
    assert any("refitted on the candidate's training ratings" in n for n in decision["notes"])
    assert decision["groups"][0]["production"] == pytest.approx(decision["groups"][0]["candidate"])
    assert decision["promote"] is False  # the same recipe on the same data: a tie


def test_no_production_promotes_the_candidate() -> None:
    train, valid, test, _ = _world()
    cfg = PipelineConfig()
    decision = decide_against_production(None, {"ndcg@10": 0.3}, None, train, valid, test, cfg)
    assert decision["promote"] is True and "No production model" in decision["reason"]


def test_production_made_comparable_once_serves_the_decision_and_the_card_unrefitted() -> None:
    """The pipeline refits production once (`load_comparable_production`) for the model card and
    the promotion, which used to refit it each (at 25M ratings on Spark, half an hour each). Given
    the prepared model, neither refits again, both keep the note, and the decision is the one an
    unprepared production gives."""
    import copy
    import html

    from movie_roulette.config import config_from_dict
    from movie_roulette.evaluation.compare import seen_ratings
    from movie_roulette.evaluation.like_for_like import comparable_production
    from movie_roulette.evaluation.model_card import build_card
    from movie_roulette.final_fit import refit_for_serving

    train, valid, test, catalogue = _world()
    candidate = _hybrid(train, valid)
    served, _ = refit_for_serving(_hybrid(train, valid), train, valid, test, catalogue)
    cfg = config_from_dict({"audit": {"explain_users": 2, "counterfactual_candidates": 2}})
    unprepared = decide_against_production(
        candidate, {}, copy.deepcopy(served), train, valid, test, cfg, catalogue
    )

    refits: list[int] = []
    original = type(served).refit

    def counting_refit(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        refits.append(1)
        return original(self, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(type(served), "refit", counting_refit)
        seen = seen_ratings(train, valid, True)
        made = comparable_production(served, seen, test, catalogue)
        assert made.refitted and refits == [1]
        assert "refitted on the candidate's training ratings" in made.notes[0]
        decision = decide_against_production(
            candidate, {}, made.model, train, valid, test, cfg, catalogue, made.notes
        )
        card = build_card(
            cfg,
            "2",
            candidate,
            catalogue,
            seen,
            test,
            ("1", made.model, catalogue),
            production_notes=made.notes,
        )
        assert refits == [1]  # neither the promotion nor the card refitted it again

    assert decision["notes"] == list(made.notes) == unprepared["notes"]
    # the same figures, group by group (NaN for the empty group in both: DataFrame.equals)
    assert pd.DataFrame(decision["groups"]).equals(pd.DataFrame(unprepared["groups"]))
    assert decision["promote"] is unprepared["promote"] is False
    assert list(made.notes) == [n for n in card.figures["notes"] if "refitted" in n]
    assert card.figures["production"] is not None
    assert html.escape(made.notes[0]) in card.html
