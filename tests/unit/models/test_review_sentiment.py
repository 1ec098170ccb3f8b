"""Per-movie sentiment aggregate, the hybrid's sentiment component, and the bundle carrying both."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from movie_roulette import bundle
from movie_roulette import columns as C
from movie_roulette.data.demo import generate_demo
from movie_roulette.models.hybrid import train_hybrid
from movie_roulette.models.review_sentiment import (
    SENTIMENT_COMPONENT,
    ReviewSentimentRecommender,
    add_sentiment_columns,
    aggregate_sentiment,
    score_reviews,
    sentiment_summary,
    wilson_interval,
)
from movie_roulette.models.sentiment import SentimentModel
from movie_roulette.validation import validate_reviews
from tests.unit.models.tiny import split_tiny, tiny_catalogue, tiny_model_config, tiny_ratings


class Fixed:
    """A stand-in scorer with known probabilities (the real model is tested elsewhere)."""

    def __init__(self, proba: dict[str, float]) -> None:
        self.proba = proba

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        return np.array([self.proba[t] for t in texts])


def reviews() -> pd.DataFrame:
    return pd.DataFrame(
        {
            C.REVIEW_ID: ["a", "b", "c", "d", "e"],
            C.MOVIE_ID: [1, 1, 1, 2, 3],
            C.USER_ID: pd.array([10, 11, pd.NA, 10, 12], dtype="Int64"),
            C.RATING: [4.5, 5.0, np.nan, 1.0, 3.0],
            C.REVIEW_TEXT: ["great", "superb", "fine", "awful", "  "],
        }
    )


PROBA = {"great": 0.9, "superb": 0.8, "fine": 0.3, "awful": 0.1}


def test_score_reviews_labels_each_review_and_drops_blank_ones() -> None:
    scored = score_reviews(reviews(), Fixed(PROBA))
    assert list(scored.columns) == C.SCORED_REVIEW_COLUMNS
    assert scored[C.REVIEW_ID].tolist() == ["a", "b", "c", "d"]
    assert scored[C.SENTIMENT_LABEL].tolist() == ["positive", "positive", "negative", "negative"]
    assert scored[C.AUTHOR].tolist() == ["", "", "", ""]  # optional columns become ""
    assert validate_reviews(scored).success


def test_aggregate_share_count_confidence_and_held_out_pairs() -> None:
    scored = score_reviews(reviews(), Fixed(PROBA))
    agg = aggregate_sentiment(scored).set_index(C.MOVIE_ID)
    assert agg.loc[1, C.SENTIMENT_SHARE] == pytest.approx(2 / 3)
    assert agg.loc[1, C.SENTIMENT_COUNT] == 3 and agg.loc[2, C.SENTIMENT_SHARE] == 0.0
    low, high = wilson_interval(np.array([2]), np.array([3]))
    assert agg.loc[1, C.SENTIMENT_CONFIDENCE] == pytest.approx(1 - (high - low)[0])
    assert 0 < agg.loc[2, C.SENTIMENT_CONFIDENCE] < agg.loc[1, C.SENTIMENT_CONFIDENCE]
    # user 10's ratings of movies 1 and 2 are held out: their reviews must not count
    held = pd.DataFrame({C.USER_ID: [10, 10], C.MOVIE_ID: [1, 2]})
    agg = aggregate_sentiment(scored, exclude_pairs=held).set_index(C.MOVIE_ID)
    assert agg.loc[1, C.SENTIMENT_COUNT] == 2 and 2 not in agg.index


def test_held_out_pairs_read_from_files_exclude_as_the_frames_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """score_reviews at 25M: valid and test are the split's files (10M rows), read in batches
    and never whole; a reviewer's pair in either part is held out, their other pairs count."""
    from movie_roulette import ratings_source
    from tests.unit.rating_files import as_files

    monkeypatch.setattr(ratings_source, "BATCH_ROWS", 7)
    scored = score_reviews(reviews(), Fixed(PROBA))
    rng = np.random.default_rng(0)
    others = pd.DataFrame(
        {C.USER_ID: rng.integers(100, 200, 40), C.MOVIE_ID: rng.integers(1, 3, 40)}
    )
    valid = pd.concat([others.iloc[:20], pd.DataFrame({C.USER_ID: [10], C.MOVIE_ID: [1]})])
    test = pd.concat([pd.DataFrame({C.USER_ID: [10], C.MOVIE_ID: [2]}), others.iloc[20:]])
    files = [
        as_files(tmp_path, f.reset_index(drop=True), n) for f, n in ((valid, "v"), (test, "t"))
    ]
    from_files = aggregate_sentiment(scored, exclude_pairs=files)
    from_frame = aggregate_sentiment(scored, exclude_pairs=pd.concat([valid, test]))
    pd.testing.assert_frame_equal(from_files, from_frame)
    agg = from_files.set_index(C.MOVIE_ID)
    assert agg.loc[1, C.SENTIMENT_COUNT] == 2 and 2 not in agg.index
    only_valid = aggregate_sentiment(scored, exclude_pairs=[files[0]]).set_index(C.MOVIE_ID)
    assert 2 in only_valid.index  # user 10's review of movie 2 counts when (10, 2) is not held
    nothing_held = aggregate_sentiment(scored, exclude_pairs=[])
    pd.testing.assert_frame_equal(nothing_held, aggregate_sentiment(scored))


def test_wilson_interval_matches_the_textbook_value() -> None:
    low, high = wilson_interval(np.array([8]), np.array([10]))
    assert (low[0], high[0]) == pytest.approx((0.4902, 0.9433), abs=1e-4)


def test_catalogue_columns_and_the_reason_text() -> None:
    scored = score_reviews(reviews(), Fixed(PROBA))
    catalogue = add_sentiment_columns(tiny_catalogue(), aggregate_sentiment(scored))
    row = catalogue.set_index(C.MOVIE_ID).loc[1]
    summary = sentiment_summary(row)
    assert summary is not None and summary["reason"] == "reviews 67% positive (3 reviews)"
    none = catalogue.set_index(C.MOVIE_ID).loc[5]
    assert np.isnan(none[C.SENTIMENT_SHARE]) and none[C.SENTIMENT_COUNT] == 0
    assert sentiment_summary(none) is None
    assert sentiment_summary(tiny_catalogue().iloc[0]) is None  # catalogue without sentiment


def sentiment_catalogue() -> pd.DataFrame:
    """Every action movie has 20 glowing reviews, every comedy 20 poor ones; movie 20 none."""
    cat = tiny_catalogue()
    action = cat[C.MOVIE_ID] <= 10
    cat[C.SENTIMENT_SHARE] = np.where(action, 0.95, 0.1)
    cat[C.SENTIMENT_COUNT] = 20
    cat.loc[cat[C.MOVIE_ID] == 20, [C.SENTIMENT_SHARE, C.SENTIMENT_COUNT]] = [np.nan, 0]
    cat[C.SENTIMENT_CONFIDENCE] = 0.7
    return cat


def test_component_scores_the_shrunk_share_for_every_user() -> None:
    model = ReviewSentimentRecommender(prior_strength=5).fit(tiny_ratings(), sentiment_catalogue())
    scores = model.score_all(1)
    assert np.array_equal(scores, model.score_all(9))  # user independent
    pos = model.movie_positions([1, 11, 20])
    glob = model.global_share
    assert scores[pos[0]] == pytest.approx((0.95 * 20 + 5 * glob) / 25)
    assert scores[pos[2]] == pytest.approx(glob)  # no reviews: the global share
    assert scores[pos[0]] > scores[pos[2]] > scores[pos[1]]


def test_hybrid_adds_the_component_only_when_reviews_exist_and_round_trips(tmp_path: Path) -> None:
    train, valid = split_tiny(tiny_ratings())
    plain = train_hybrid(train, valid, tiny_catalogue(), tiny_model_config(), seed=0, k=5)
    assert SENTIMENT_COMPONENT not in plain.components
    model = train_hybrid(train, valid, sentiment_catalogue(), tiny_model_config(), seed=0, k=5)
    assert SENTIMENT_COMPONENT in model.components
    assert SENTIMENT_COMPONENT in model.weights  # tuned on valid like every weight
    off = train_hybrid(
        train, valid, sentiment_catalogue(), tiny_model_config(), 0, 5, use_sentiment=False
    )
    assert SENTIMENT_COMPONENT not in off.components

    scored = score_reviews(reviews(), Fixed(PROBA))
    sentiment = SentimentModel(C=1.0).fit(["good film", "bad film", "great", "awful"], [1, 0, 1, 0])
    path = bundle.save(
        tmp_path / "b", model, sentiment_catalogue(), {}, reviews=scored, sentiment=sentiment
    )
    loaded = bundle.load(path, verify_checksums=True)
    assert loaded.model.recommend_items(1, k=5) == model.recommend_items(1, k=5)
    pd.testing.assert_frame_equal(loaded.reviews, scored)
    assert loaded.sentiment is not None
    np.testing.assert_allclose(
        loaded.sentiment.predict_proba(["good", "awful film"]),
        sentiment.predict_proba(["good", "awful film"]),
        atol=1e-6,
    )
    assert loaded.manifest["reviews"]["rows"] == 4


def test_bundles_without_reviews_still_load(tmp_path: Path) -> None:
    train, valid = split_tiny(tiny_ratings())
    model = train_hybrid(train, valid, tiny_catalogue(), tiny_model_config(), seed=0, k=5)
    loaded = bundle.load(bundle.save(tmp_path / "old", model, tiny_catalogue(), {}))
    assert loaded.reviews is None and loaded.sentiment is None
    assert "reviews" not in loaded.manifest


def test_missing_reviews_file_is_a_bundle_error(tmp_path: Path) -> None:
    from movie_roulette.exceptions import BundleError

    train, valid = split_tiny(tiny_ratings())
    model = train_hybrid(train, valid, tiny_catalogue(), tiny_model_config(), seed=0, k=5)
    scored = score_reviews(reviews(), Fixed(PROBA))
    path = bundle.save(tmp_path / "b", model, tiny_catalogue(), {}, reviews=scored)
    (path / "reviews.parquet").unlink()
    with pytest.raises(BundleError, match="reviews.parquet is missing"):
        bundle.load(path)


def test_demo_generator_fills_details_and_review_columns() -> None:
    demo = generate_demo(n_movies=50, n_users=40, mean_ratings_per_user=25, n_reviews=200)
    cat = demo.catalogue
    assert cat[C.RUNTIME].between(72, 210).all() and cat[C.VOTE_AVERAGE].between(0, 10).all()
    assert (cat[C.VOTE_COUNT] >= 0).all() and (cat[C.POSTER_PATH] == "").all()
    assert cat[C.RELEASE_DATE].str.match(r"^\d{4}-\d{2}-\d{2}$").all()
    years = cat[C.RELEASE_DATE].str[:4].astype(int)
    assert (years == cat[C.YEAR].astype(int)).all()
    assert set(C.REVIEW_COLUMNS) <= set(demo.reviews.columns)
    assert (demo.reviews[C.REVIEW_SOURCE] == "demo").all()
    assert validate_reviews(demo.reviews).success


def test_catalogue_components_know_an_unrated_catalogue_movie() -> None:
    """`knows_catalogue`: content, genre taste and review sentiment score a movie nobody rated
    (from what the catalogue says of it); rating-based components do not know it."""
    from movie_roulette.models.content import ContentRecommender
    from movie_roulette.models.genre_taste import GenreTasteRecommender
    from movie_roulette.models.popularity import PopularityRecommender

    cat = sentiment_catalogue()
    ratings = tiny_ratings()
    unrated = 999
    extra = cat.iloc[[0]].assign(**{C.MOVIE_ID: unrated})
    cat = pd.concat([cat, extra], ignore_index=True)
    for model in (
        ContentRecommender(n_neighbours=5),
        GenreTasteRecommender(),
        ReviewSentimentRecommender(prior_strength=5),
    ):
        model.fit(ratings, cat)
        assert model.knows_catalogue and unrated in model.movie_ids, type(model).__name__
        assert np.isfinite(model.score(1, [unrated])).all()
    popularity = PopularityRecommender().fit(ratings, cat)
    assert not popularity.knows_catalogue and unrated not in popularity.movie_ids
