"""Spark ALS components: fitted by pyspark.ml, served from numpy (no Spark in the bundle)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest

from movie_roulette import bundle
from movie_roulette.config import (
    DataConfig,
    DemoConfig,
    SparkConfig,
    SparkExplicitALSConfig,
    SparkImplicitALSConfig,
    SplitConfig,
)
from movie_roulette.data import sources
from movie_roulette.data.split import train_valid_test
from movie_roulette.evaluation.metrics import ndcg_at_k
from movie_roulette.models.component_api import UserRows
from movie_roulette.models.factor_als import (
    ExplicitALSRecommender,
    ImplicitALSRecommender,
)
from movie_roulette.models.registry import model_from_state
from movie_roulette.spark import session
from movie_roulette.spark.als import make_spark_als_components
from tests.spark_support import SPARK_TEST_SETTINGS, require_java, spark_test_config

pytestmark = pytest.mark.spark

SMALL = DataConfig(demo=DemoConfig(n_movies=120, n_users=80, mean_ratings_per_user=30))


@pytest.fixture(scope="module")
def split():
    ratings = sources.load_ratings(SMALL, seed=7)
    train, _, test = train_valid_test(ratings, SplitConfig(valid_fraction=0.0), seed=7)
    return train, test


@pytest.fixture(scope="module")
def fitted(spark, split):
    train, _ = split
    small = {"rank": 8, "max_iter": 6}
    cfg = SparkConfig(
        als=SparkExplicitALSConfig(**small), als_implicit=SparkImplicitALSConfig(**small)
    )
    comps = make_spark_als_components(cfg, seed=3)
    for comp in comps.values():
        comp.fit(train)
    return comps


def test_fold_in_of_a_training_history_gives_back_sparks_user_factors(fitted) -> None:
    for comp in fitted.values():
        users = np.arange(10)
        folded = comp.fold_in(UserRows.of_users(comp, users))
        np.testing.assert_allclose(folded, comp.user_factors[users], rtol=1e-3, atol=1e-4)
        # the batched public API agrees with the per-user hooks
        rows = comp.score_rows(UserRows.of_users(comp, users[:3]), np.arange(5))
        np.testing.assert_allclose(
            rows, np.stack([comp._score_all(u)[:5] for u in range(3)]), rtol=1e-3, atol=1e-4
        )


def test_explicit_als_predicts_ratings_better_than_the_mean(fitted, split) -> None:
    train, test = split
    comp = fitted["als_explicit"]
    known = test[test["user_id"].isin(comp.user_ids) & test["movie_id"].isin(comp.movie_ids)]
    pred = np.concatenate(
        [comp.predict_rating(u, g["movie_id"]) for u, g in known.groupby("user_id")]
    )
    truth = np.concatenate([g["rating"].to_numpy() for _, g in known.groupby("user_id")])
    rmse = float(np.sqrt(np.mean((pred - truth) ** 2)))
    baseline = float(np.sqrt(np.mean((train["rating"].mean() - truth) ** 2)))
    assert rmse < baseline
    lo, hi = comp.rating_scale
    assert pred.min() >= lo and pred.max() <= hi


def test_implicit_als_ranks_better_than_chance(fitted, split) -> None:
    train, test = split
    comp = fitted["als_implicit"]
    rng = np.random.default_rng(0)
    model_scores, random_scores = [], []
    for user, group in test.groupby("user_id"):
        if not comp.knows_user(user):
            continue
        liked = set(group.loc[group["rating"] >= 4.0, "movie_id"])
        if not liked:
            continue
        recs = [m for m, _ in comp.recommend(user, k=10)]
        unseen = np.setdiff1d(comp.movie_ids, comp.seen_movie_ids(user))
        model_scores.append(ndcg_at_k(recs, liked, 10))
        random_scores.append(ndcg_at_k(list(rng.choice(unseen, 10, replace=False)), liked, 10))
    assert np.mean(model_scores) > 1.5 * np.mean(random_scores)


def test_bundle_round_trip_needs_no_spark(fitted, split, tmp_path) -> None:
    train, _ = split
    comp = fitted["als_implicit"]
    meta, arrays = comp.get_state()
    again = model_from_state(meta, arrays)
    user = int(comp.user_ids[0])
    np.testing.assert_array_equal(again.score_all(user), comp.score_all(user))
    catalogue = sources.load_catalogue_sources(SMALL, seed=7)["movies"]
    path = bundle.save(tmp_path / "b", comp, catalogue)
    # a fresh interpreter where importing pyspark fails serves the bundle
    code = (
        "import sys; sys.modules['pyspark'] = None\n"
        "from movie_roulette import bundle\n"
        f"b = bundle.load({str(path)!r})\n"
        f"print(b.model.recommend({user}, k=3)[0][0])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert int(out.stdout.strip()) == comp.recommend(user, k=3)[0][0]


def test_a_refit_in_a_fresh_process_runs_on_the_configured_session() -> None:
    """A step that refits a Spark-fitted model without the steps before it (cached, or run in
    another process: the served refit, production's refit) names the config's settings with
    `use_settings`; the fit then opens its session with them, not a default `local[*]` one."""
    require_java()
    settings = {**SPARK_TEST_SETTINGS, "app_name": "refit-check"}
    code = textwrap.dedent(
        f"""
        import movie_roulette.spark.als  # registers the fitter, as the pipeline's steps do
        from movie_roulette.config import DataConfig, DemoConfig, SparkConfig
        from movie_roulette.data import sources
        from movie_roulette.models.factor_als import ExplicitALSRecommender
        from movie_roulette.spark import session

        session.use_settings(SparkConfig(**{settings!r}))
        assert session._session is None, "use_settings started a session"
        demo = DemoConfig(n_movies=60, n_users=40, mean_ratings_per_user=20)
        ratings = sources.load_ratings(DataConfig(demo=demo), seed=1)
        comp = ExplicitALSRecommender(rank=4, max_iter=2).fit(ratings)
        ctx = session.active_session().sparkContext
        print(ctx.appName, ctx.master, comp.item_factors.shape[0] > 0)
        session.stop_session()
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=False
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split()[-3:] == ["refit-check", "local[1]", "True"]


def test_an_alive_session_with_other_settings_is_not_reused(spark, monkeypatch) -> None:
    opened: list[SparkConfig] = []
    monkeypatch.setattr(session, "get_session", lambda cfg: opened.append(cfg) or "restarted")
    monkeypatch.setattr(session, "_last_cfg", session._last_cfg)  # (restored after the test)
    session.use_settings(spark_test_config())
    assert session.active_session() is spark and opened == []
    elsewhere = SparkConfig(**{**SPARK_TEST_SETTINGS, "master": "local[2]"})
    session.use_settings(elsewhere)
    assert session.active_session() == "restarted" and opened == [elsewhere]


def test_a_failed_start_leaves_the_settings_of_the_live_session(spark) -> None:
    """A `get_session` that fails (here: nothing listens at the master) must not leave its
    settings behind for the next fit, which would then try them again instead of the session
    that works."""
    unreachable = SparkConfig(master="spark://127.0.0.1:1", connect_timeout_s=1.0)
    with pytest.raises(session.SparkEngineError, match="spark.master"):
        session.get_session(unreachable)
    assert session.active_session() is spark


def test_fit_without_an_engine_names_the_fix(split) -> None:
    with pytest.raises(RuntimeError, match="no 'nowhere' engine.*engine: local"):
        ImplicitALSRecommender(rank=4, engine="nowhere").fit(split[0])
    with pytest.raises(ValueError, match="rank and max_iter"):
        ExplicitALSRecommender(rank=0)


def test_the_spark_engine_runs_the_local_recipe_with_spark_components_and_sentiment(spark) -> None:
    """`train_spark_hybrid` is `models.hybrid.train_hybrid` with `components=`: the same weight
    search, rating stack and refit, the Spark ALS pair in place of the local collaborative set,
    and the review-sentiment component when the catalogue carries scored reviews."""
    from movie_roulette.config import EvaluationConfig, PipelineConfig
    from movie_roulette.spark.training import train_spark_hybrid
    from tests.spark_support import spark_test_config
    from tests.unit.models.test_review_sentiment import sentiment_catalogue
    from tests.unit.models.tiny import split_tiny, tiny_model_config, tiny_ratings

    small = {"rank": 4, "max_iter": 4}
    cfg = PipelineConfig(
        seed=0,
        model=tiny_model_config(),
        evaluation=EvaluationConfig(k=5),
        # the test session's settings (another key would stop the session other tests share)
        spark=spark_test_config().model_copy(
            update=dict(
                als=SparkExplicitALSConfig(**small), als_implicit=SparkImplicitALSConfig(**small)
            )
        ),
    )
    train, valid = split_tiny(tiny_ratings())
    model = train_spark_hybrid(train, valid, sentiment_catalogue(), cfg, use_sentiment=None)
    assert set(model.components) == {
        "als_explicit",
        "als_implicit",
        "content",
        "popularity",
        "sentiment",
    }
    assert set(model.weights) <= set(model.components) and sum(model.weights.values()) > 0
    assert model.fit_info["engine"] == "spark"
    assert "memory_estimate_gb" in model.fit_info  # the local recipe's budget check ran
    recs = model.recommend(int(train["user_id"].iloc[0]), k=5)
    assert len(recs) == 5


def test_fits_read_from_the_prepare_steps_files_equal_the_fits_sent_from_the_driver(
    spark, split, tmp_path, caplog
) -> None:
    """Inside `als_rows_from`, the fitter reads the rows on Spark from the Parquet files the
    prepare step writes (joined with the model's indices; the implicit component's own row
    filter applied there) instead of sending the driver's arrays: the same factors. Files that
    do not hold the fitted rows are noticed and the driver's rows are sent instead."""
    import logging

    from movie_roulette.spark import prep
    from movie_roulette.spark.als import als_rows_from
    from movie_roulette.spark.parquet import RatingsParquet, SparkRatings, write_ratings

    train, test = split
    # train with one liked rating moved to a movie its user has not rated: the same row count
    moved = train.copy()
    row = int(np.flatnonzero(moved["rating"].to_numpy() >= 4.0)[0])
    user = moved.at[row, "user_id"]
    free = np.setdiff1d(train["movie_id"].unique(), moved.loc[moved["user_id"] == user, "movie_id"])
    moved.at[row, "movie_id"] = free[0]
    files = {}
    for name, frame in (("train", train), ("test", test), ("moved", moved)):
        write_ratings(
            SparkRatings(prep.from_pandas(spark, frame), len(frame)), str(tmp_path / name)
        )
        files[name] = RatingsParquet.at(str(tmp_path / name))
    small = {"rank": 8, "max_iter": 6}
    cfg = SparkConfig(
        als=SparkExplicitALSConfig(**small),
        als_implicit=SparkImplicitALSConfig(**small, min_rating=4.0),  # a row filter
    )
    for name in ("als_explicit", "als_implicit"):
        sent = make_spark_als_components(cfg, seed=3)[name].fit(train)
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="movie_roulette.spark.als"):
            with als_rows_from([files["train"]]):
                read = make_spark_als_components(cfg, seed=3)[name].fit(train)
        assert "read on Spark" in caplog.text
        np.testing.assert_array_equal(read.user_ids, sent.user_ids)
        np.testing.assert_allclose(read.user_factors, sent.user_factors, rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(read.item_factors, sent.item_factors, rtol=1e-4, atol=1e-5)
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="movie_roulette.spark.als"):
            with als_rows_from([files["train"], files["test"]]):  # more rows than fitted
                fallback = make_spark_als_components(cfg, seed=3)[name].fit(train)
        assert "sending the driver's rows" in caplog.text
        np.testing.assert_allclose(fallback.item_factors, sent.item_factors, rtol=1e-4, atol=1e-5)
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="movie_roulette.spark.als"):
            with als_rows_from([files["moved"]]):  # as many rows, one of them another movie's
                moved = make_spark_als_components(cfg, seed=3)[name].fit(train)
        assert "sending the driver's rows" in caplog.text
        np.testing.assert_allclose(moved.item_factors, sent.item_factors, rtol=1e-4, atol=1e-5)
