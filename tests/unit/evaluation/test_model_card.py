"""The card's HTML: produced without production, without a blend, without release years."""

from __future__ import annotations

import pandas as pd
import pytest

from movie_roulette import columns as C
from movie_roulette.config import SplitConfig, config_from_dict
from movie_roulette.data.demo import generate_demo
from movie_roulette.data.split import train_valid_test
from movie_roulette.evaluation.audit import AuditSettings, audit_model
from movie_roulette.evaluation.model_card import (
    CardContext,
    load_users_table,
    render_card,
    settings_from_config,
)
from movie_roulette.exceptions import ConfigError
from movie_roulette.models.popularity import PopularityRecommender


def test_card_without_production_blend_or_years_says_what_is_missing() -> None:
    demo = generate_demo(seed=2, n_movies=80, n_users=70, mean_ratings_per_user=25, n_reviews=0)
    train, valid, test = train_valid_test(demo.ratings, SplitConfig(), seed=2)
    seen = pd.concat([train, valid], ignore_index=True)
    catalogue = demo.catalogue.assign(**{C.YEAR: pd.array([pd.NA] * len(demo.catalogue), "Int64")})
    model = PopularityRecommender().fit(seen)
    audit = audit_model(model, seen, test, catalogue, AuditSettings(min_group_users=30))
    assert audit.explainability is None
    html = render_card(audit, None, CardContext("m", "1"))
    assert html.startswith("<!DOCTYPE html>") and "<script" not in html
    for text in (
        "no production version yet",
        "no release years",
        "no users table",
        "not a blend of components",
        "too small (&lt; 30)",
        "No audit gate configured",
    ):
        assert text in html, text


def test_settings_come_from_the_config() -> None:
    cfg = config_from_dict({"audit": {"min_group_users": 7, "max_users": 50}, "seed": 3})
    settings = settings_from_config(cfg)
    assert (settings.min_group_users, settings.max_users, settings.seed, settings.k) == (
        7,
        50,
        3,
        10,
    )


def test_a_missing_users_table_names_the_key_and_the_fix(tmp_path) -> None:
    assert load_users_table(None) is None
    with pytest.raises(ConfigError, match="audit.users_table: .* does not exist"):
        load_users_table(str(tmp_path / "users.csv"))
    bad = tmp_path / "bad.csv"
    bad.write_text("id,gender\n1,F\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="no 'user_id' column"):
        load_users_table(str(bad))
