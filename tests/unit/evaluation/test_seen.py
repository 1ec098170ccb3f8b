"""SeenRatings: a model's training ratings read from their parts as their concatenation.

The evaluation, the behavioural checks and the model card take train and valid as parts; these
tests check that every figure equals the one computed on the concatenated frame, and that the
whole concatenation is never built."""

from __future__ import annotations

from dataclasses import asdict

import numpy as np
import pandas as pd
import pytest

from movie_roulette import columns as C
from movie_roulette import ratings_source
from movie_roulette.config import config_from_dict
from movie_roulette.data import sources
from movie_roulette.data.catalogue import merge_catalogue
from movie_roulette.data.split import train_valid_test
from movie_roulette.evaluation.audit import AuditSettings, audit_model
from movie_roulette.evaluation.behaviour import run_behavioural_checks
from movie_roulette.evaluation.compare import model_genres
from movie_roulette.evaluation.like_for_like import compare_like_with_like
from movie_roulette.evaluation.offline import evaluate
from movie_roulette.evaluation.seen import SeenRatings, seen_ratings
from movie_roulette.features.text import add_content_text
from movie_roulette.fingerprint import frame_checksum
from movie_roulette.models.hybrid import train_hybrid
from movie_roulette.ratings_source import RatingFiles


def _frame(rng: np.random.Generator, n: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            C.USER_ID: rng.integers(1, 40, n).astype("int64"),
            C.MOVIE_ID: rng.integers(1, 60, n).astype("int64"),
            C.RATING: rng.integers(1, 11, n) / 2.0,
            C.TIMESTAMP: rng.integers(10**9, 2 * 10**9, n).astype("int64"),
        }
    )


@pytest.mark.parametrize("sizes", [(500,), (400, 90), (300, 0, 70), (0, 0)])
def test_each_answer_is_the_concatenations(sizes) -> None:
    rng = np.random.default_rng(len(sizes))
    frames = [_frame(rng, n) for n in sizes]
    whole = pd.concat(frames, ignore_index=True)
    seen = SeenRatings.of(frames)
    assert len(seen) == len(whole) and seen.empty == whole.empty
    expected = whole[C.MOVIE_ID].value_counts()
    counts = seen.value_counts(C.MOVIE_ID)
    assert counts.to_dict() == expected.to_dict() and counts.dtype == np.int64
    assert list(counts.to_numpy()) == list(expected.to_numpy())  # most frequent first
    assert counts.index.name == C.MOVIE_ID
    assert np.array_equal(seen.unique(C.USER_ID), np.sort(whole[C.USER_ID].unique()))
    assert seen.nunique(C.MOVIE_ID) == whole[C.MOVIE_ID].nunique()
    if len(whole):
        assert seen.max(C.USER_ID) == whole[C.USER_ID].max()
    users = [3, 7, 11, 39]
    picked = seen.rows_of(C.USER_ID, users)
    pd.testing.assert_frame_equal(
        picked.reset_index(drop=True),
        whole[whole[C.USER_ID].isin(users)].reset_index(drop=True),
    )
    assert seen.checksum() == frame_checksum(whole)
    pd.testing.assert_frame_equal(seen.frame(), whole)
    assert seen.missing([C.USER_ID, "genre"]) == ["genre"]


def test_a_frame_or_parts_and_the_recipes_choice() -> None:
    frame = _frame(np.random.default_rng(0), 10)
    assert SeenRatings.of(frame).frames()[0] is frame  # (a frame is read as it is: no copy)
    parts = SeenRatings.of([frame, frame])
    assert SeenRatings.of(parts) is parts and len(parts) == 20
    assert [len(p) for p in seen_ratings(frame, frame, True).parts] == [10, 10]
    assert [p.frame() for p in seen_ratings(frame, frame, False).parts] == [frame]
    with pytest.raises(ValueError, match="at least one"):
        SeenRatings(())


def _files(frame: pd.DataFrame, folder, pieces: int, batch_rows: int, monkeypatch) -> RatingFiles:
    """`frame` written as `pieces` Parquet files, read back `batch_rows` rows a batch."""
    monkeypatch.setattr(ratings_source, "BATCH_ROWS", batch_rows)
    folder.mkdir()
    bounds = np.linspace(0, len(frame), pieces + 1).astype(int)
    paths = []
    for i, (a, b) in enumerate(zip(bounds[:-1], bounds[1:], strict=True)):
        paths.append(str(folder / f"part-{i}.parquet"))
        frame.iloc[a:b].to_parquet(paths[-1])  # (with the frame's index, as pandas writes it)
    return RatingFiles.of(str(folder), paths)


@pytest.mark.parametrize(("pieces", "batch_rows"), [(1, 1 << 20), (3, 37), (2, 1)])
def test_parts_read_from_files_a_batch_at_a_time_answer_as_the_frames(
    tmp_path, monkeypatch, pieces, batch_rows
) -> None:
    rng = np.random.default_rng(pieces)
    train, valid = _frame(rng, 400), _frame(rng, 90)
    train.index = train.index * 3 + 5  # (a split's index: stored, and left out when read)
    files = [
        _files(f, tmp_path / name, pieces, batch_rows, monkeypatch)
        for name, f in (("train", train), ("valid", valid))
    ]
    assert files[0].columns == tuple(train.columns) and len(files[0]) == 400
    from_files, from_frames = SeenRatings.of(files), SeenRatings.of([train, valid])
    assert len(from_files) == 490 and from_files.columns == from_frames.columns
    for column in (C.USER_ID, C.MOVIE_ID):
        pd.testing.assert_series_equal(
            from_files.value_counts(column), from_frames.value_counts(column)
        )
        assert np.array_equal(from_files.unique(column), from_frames.unique(column))
    for column in (C.USER_ID, C.TIMESTAMP):
        assert from_files.max(column) == from_frames.max(column)
        assert from_files.min(column) == from_frames.min(column)
    users = [3, 7, 11, 39]
    pd.testing.assert_frame_equal(
        from_files.rows_of(C.USER_ID, users).reset_index(drop=True),
        from_frames.rows_of(C.USER_ID, users).reset_index(drop=True),
    )
    assert from_files.checksum() == from_frames.checksum()
    pd.testing.assert_frame_equal(from_files.frame(), from_frames.frame())
    with pytest.raises(KeyError, match="genre"):
        next(files[0].batches(["genre"]))


def test_files_of_one_part_must_share_their_columns(tmp_path) -> None:
    frame = _frame(np.random.default_rng(1), 20)
    frame.to_parquet(tmp_path / "a.parquet")
    frame.drop(columns=[C.TIMESTAMP]).to_parquet(tmp_path / "b.parquet")
    with pytest.raises(ValueError, match="one schema"):
        RatingFiles.of(str(tmp_path), [str(tmp_path / "a.parquet"), str(tmp_path / "b.parquet")])
    empty = frame.iloc[:0]
    empty.to_parquet(tmp_path / "e.parquet")
    nothing = RatingFiles.of(str(tmp_path), [str(tmp_path / "e.parquet")])
    assert len(nothing) == 0
    assert dict(nothing.frame().dtypes) == dict(frame.dtypes)  # (types kept with no row)


@pytest.fixture(scope="module")
def world():
    cfg = config_from_dict({"data": {"demo": {"n_movies": 200, "n_users": 150}}})
    ratings = sources.load_ratings(cfg.data, seed=cfg.seed)
    catalogue = add_content_text(
        merge_catalogue(sources.load_catalogue_sources(cfg.data, seed=cfg.seed), ratings=ratings)
    )
    train, valid, test = train_valid_test(ratings, cfg.split, seed=cfg.seed)
    model = train_hybrid(train, valid, catalogue, cfg.model, seed=cfg.seed)
    # judged on a third of the users, so that no figure needs every seen rating's row
    users = np.sort(test[C.USER_ID].unique())[::3]
    test = test[test[C.USER_ID].isin(users)].reset_index(drop=True)
    return model, train, valid, test, catalogue


@pytest.fixture
def concatenations(monkeypatch):
    """The row counts of every `pd.concat` result built while the test runs."""
    concat = pd.concat
    built: list[int] = []

    def spy(objs, *args, **kwargs):  # type: ignore[no-untyped-def]
        out = concat(objs, *args, **kwargs)
        built.append(len(out))
        return out

    monkeypatch.setattr(pd, "concat", spy)
    return built


def _no_whole_copy(built: list[int], train: pd.DataFrame, valid: pd.DataFrame) -> None:
    biggest = max(built, default=0)
    assert biggest < len(train) + len(valid), f"a concatenation of {biggest} rows was built"


def test_evaluation_from_the_parts_equals_the_concatenations(world, concatenations) -> None:
    model, train, valid, test, _ = world
    genres = model_genres(model)
    from_parts = evaluate(model, seen_ratings(train, valid, True), test, item_genres=genres)
    _no_whole_copy(concatenations, train, valid)
    whole = pd.concat([train, valid], ignore_index=True)
    assert from_parts == evaluate(model, whole, test, item_genres=genres)
    assert from_parts["ndcg@10"] > 0 and from_parts["novelty@10"] > 0


def test_audit_and_behaviour_from_the_parts_equal_the_concatenations(world, concatenations) -> None:
    model, train, valid, test, catalogue = world
    settings = AuditSettings(min_group_users=5, explain_users=4, counterfactual_candidates=2)
    parts = seen_ratings(train, valid, True)
    audited = audit_model(model, parts, test, catalogue, settings)
    behaved = run_behavioural_checks(model, parts, catalogue, k=10, seed=3).to_dict()
    _no_whole_copy(concatenations, train, valid)
    whole = pd.concat([train, valid], ignore_index=True)
    assert asdict(audited) == asdict(audit_model(model, whole, test, catalogue, settings))
    assert audited.data.seen_ratings == len(whole)
    assert audited.data.seen_sha256 == frame_checksum(whole)
    assert behaved == run_behavioural_checks(model, whole, catalogue, k=10, seed=3).to_dict()


def test_like_for_like_from_the_parts_equals_the_concatenations(world, concatenations) -> None:
    model, train, valid, test, _ = world
    both = compare_like_with_like(model, model, train, valid, test, "ndcg@10")
    _no_whole_copy(concatenations, train, valid)
    whole = pd.concat([train, valid], ignore_index=True)
    one = compare_like_with_like(model, model, whole, whole.iloc[:0], test, "ndcg@10")
    assert repr(asdict(both)) == repr(asdict(one))  # (NaN where a group is empty)
    assert both.groups[0].candidate == both.groups[0].production > 0
