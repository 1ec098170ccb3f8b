"""The model-card audit on the demo data: exact decomposition, too-small groups, missing data."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from movie_roulette import columns as C
from movie_roulette.config import config_from_dict
from movie_roulette.data import sources
from movie_roulette.data.catalogue import merge_catalogue
from movie_roulette.data.split import train_valid_test
from movie_roulette.evaluation import metrics as M
from movie_roulette.evaluation.audit import AuditSettings, audit_model, gini, miscalibration
from movie_roulette.features.text import add_content_text
from movie_roulette.models.hybrid import train_hybrid


@pytest.fixture(scope="module")
def demo():
    cfg = config_from_dict({"data": {"demo": {"n_movies": 200, "n_users": 150}}})
    ratings = sources.load_ratings(cfg.data, seed=cfg.seed)
    catalogue = add_content_text(
        merge_catalogue(sources.load_catalogue_sources(cfg.data, seed=cfg.seed), ratings=ratings)
    )
    train, valid, test = train_valid_test(ratings, cfg.split, seed=cfg.seed)
    seen = pd.concat([train, valid], ignore_index=True)
    model = train_hybrid(train, valid, catalogue, cfg.model, seed=cfg.seed)
    settings = AuditSettings(min_group_users=20, explain_users=8, counterfactual_candidates=4)
    return model, seen, test, catalogue, settings


@pytest.fixture(scope="module")
def audit(demo):
    model, seen, test, catalogue, settings = demo
    return audit_model(model, seen, test, catalogue, settings)


def test_gini_is_zero_for_equal_and_near_one_for_concentrated_exposure() -> None:
    assert gini([3, 3, 3, 3]) == pytest.approx(0.0)
    assert gini([0, 0, 0, 10]) == pytest.approx(0.75)
    assert gini([]) == 0.0


def test_miscalibration_is_zero_for_the_same_mix_and_grows_with_missing_genres() -> None:
    same = miscalibration({"Drama": 0.5, "Comedy": 0.5}, {"Drama": 0.5, "Comedy": 0.5})
    assert same == pytest.approx(0.0)
    skewed = miscalibration({"Drama": 0.5, "Comedy": 0.5}, {"Drama": 1.0})
    assert skewed == pytest.approx(0.5 * math.log(0.5 / 0.995) + 0.5 * math.log(0.5 / 0.005))
    assert miscalibration({}, {"Drama": 1.0}) is None


def test_blend_decomposes_exactly_into_the_served_score(demo, audit) -> None:
    model = demo[0]
    ex = audit.explainability
    assert ex is not None and len(ex.users) == 8
    for user in ex.users:
        served = model.recommend_items(user.user_id, 10).items
        assert [it.movie_id for it in user.items] == [it.movie_id for it in served]
        for item, truth in zip(user.items, served, strict=True):
            assert set(item.contributions) == {n for n, w in model.weights.items() if w != 0.0}
            assert sum(item.contributions.values()) == pytest.approx(truth.score, abs=1e-6)
    assert ex.max_decomposition_error <= 1e-6
    assert sum(ex.mean_share.values()) == pytest.approx(1.0)


def test_group_ndcg_is_the_offline_ndcg_of_its_users(demo, audit) -> None:
    model, seen, test, _, settings = demo
    relevant = test[test[C.RATING] >= 4.0].groupby(C.USER_ID)[C.MOVIE_ID].apply(set)
    values = [
        M.ndcg_at_k([m for m, _ in model.recommend(int(u), 10)], rel, 10)
        for u, rel in relevant.items()
    ]
    assert audit.figure("ndcg", "all") == pytest.approx(float(np.mean(values)))
    light = audit.group("activity:light")
    assert light is not None and light.users + audit.group("activity:heavy").users > 0
    assert audit.figure("ndcg", "worst") == min(
        g.ndcg for g in audit.groups if g.dimension != "all" and not g.too_small
    )


def test_counterfactual_checks_the_cited_reason(audit) -> None:
    cf = audit.explainability.counterfactual
    assert cf.checked > 0
    assert 0 <= cf.cited_matters_most <= cf.rank_changed <= cf.checked
    cited = [it for u in audit.explainability.users for it in u.items if it.cited is not None]
    assert len(cited) >= cf.checked


def test_small_groups_are_reported_as_too_small_without_numbers(demo) -> None:
    model, seen, test, catalogue, settings = demo
    users = pd.DataFrame({C.USER_ID: sorted(test[C.USER_ID].unique())}).assign(
        gender=lambda f: np.where(f[C.USER_ID] % 10 == 0, "x", "y")
    )
    audit = audit_model(
        model, seen, test, catalogue, replace(settings, explain_users=0), users=users
    )
    small = audit.group("gender:x")
    assert small is not None and small.too_small and small.ndcg is None
    assert not audit.group("gender:y").too_small
    assert not any(key.startswith("group.gender:x") for key in audit.figures())
    assert any("too small" in note and "gender:x" in note for note in audit.notes)


def test_missing_users_table_and_release_years_still_give_a_card(demo) -> None:
    model, seen, test, catalogue, settings = demo
    no_years = catalogue.assign(**{C.YEAR: pd.array([pd.NA] * len(catalogue), dtype="Int64")})
    audit = audit_model(model, seen, test, no_years, replace(settings, explain_users=0))
    assert audit.items.by_decade == [] and audit.items.by_genre
    assert any("no release years" in n for n in audit.notes)
    assert any("no users table" in n for n in audit.notes)
    assert audit.figure("ndcg", "all") > 0


def test_exposure_shares_add_up(audit) -> None:
    for rows in (audit.items.by_decade, audit.items.by_genre):
        assert sum(r.exposure_share for r in rows) == pytest.approx(1.0)
        assert sum(r.catalogue_share for r in rows) == pytest.approx(1.0)
        assert sum(r.ratings_share for r in rows) == pytest.approx(1.0)


def test_bad_settings_name_the_problem() -> None:
    with pytest.raises(ValueError, match="long_tail_share"):
        AuditSettings(long_tail_share=1.0)
    with pytest.raises(ValueError, match="min_group_users"):
        AuditSettings(min_group_users=0)


def test_a_served_version_is_carded_like_the_evaluated_model(demo) -> None:
    """An experiment's challenger is a registered version, fitted on every rating (the test
    split too): `served_candidate` refits its recipe on the seen ratings first, giving back the
    evaluated model's figures; without it the card would measure a model that already knows
    (and so never recommends) the test movies."""
    import copy

    from movie_roulette.config import config_from_dict
    from movie_roulette.evaluation.model_card import build_card

    model, seen, test, catalogue, _ = demo
    audit = {"explain_users": 3, "counterfactual_candidates": 2, "max_users": 40}
    cfg = config_from_dict({"audit": audit})
    evaluated = build_card(cfg, "7", copy.deepcopy(model), catalogue, seen, test)
    everything = pd.concat([seen, test], ignore_index=True)[[C.USER_ID, C.MOVIE_ID, C.RATING]]
    served = copy.deepcopy(model).refit(everything, catalogue)
    as_served = build_card(cfg, "7", copy.deepcopy(served), catalogue, seen, test)
    card = build_card(cfg, "7", served, catalogue, seen, test, served_candidate=True)
    key = "group.all.ndcg@10"
    assert as_served.figures["candidate"][key] < evaluated.figures["candidate"][key] - 0.05
    assert set(card.figures["candidate"]) == set(evaluated.figures["candidate"])
    for name, value in evaluated.figures["candidate"].items():
        assert card.figures["candidate"][name] == pytest.approx(value, abs=1e-9), name
    assert any(
        "version 7 was trained on 100% of the test ratings" in n for n in card.figures["notes"]
    )
    assert "version 7 was trained on" in card.html


def test_the_data_summary_counts_both_frames_without_joining_them(audit, demo) -> None:
    _, seen, test, _, _ = demo
    both = pd.concat([seen, test], ignore_index=True)
    data = audit.data
    assert (data.seen_ratings, data.test_ratings) == (len(seen), len(test))
    assert data.users == both[C.USER_ID].nunique()
    first = pd.Timestamp(int(both[C.TIMESTAMP].min()), unit="s").date().isoformat()
    last = pd.Timestamp(int(both[C.TIMESTAMP].max()), unit="s").date().isoformat()
    assert (data.first_rating, data.last_rating) == (first, last)


def test_each_audited_users_history_is_all_of_their_seen_ratings(audit, demo) -> None:
    """Histories are built for the audited users only; each still holds every seen rating: the
    users' long-tail share of their history, recomputed from the whole seen frame, agrees."""
    model, seen, test, catalogue, settings = demo
    counts = seen[C.MOVIE_ID].value_counts()
    movies = sorted(set(catalogue[C.MOVIE_ID].astype(int)) | set(counts.index.astype(int)))
    order = sorted(movies, key=lambda m: (float(counts.get(m, 0)), m))
    tail = set(order[: int(round(settings.long_tail_share * len(order)))])
    relevant = test.loc[test[C.RATING] >= settings.threshold, C.USER_ID].unique()
    audited = [int(u) for u in relevant if model.knows_user(int(u))]
    assert audit.users_audited == len(audited)
    shares = [
        np.mean([m in tail for m in seen.loc[seen[C.USER_ID] == u, C.MOVIE_ID]]) for u in audited
    ]
    overall = audit.group("all")
    assert overall.history_long_tail_share == pytest.approx(float(np.mean(shares)), rel=1e-12)
