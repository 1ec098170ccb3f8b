"""Fits that read their parts as Parquet files a batch at a time (the Spark engine's training and
served refit): the same model as from frames, and the frames never loaded.

The parts are `tests.unit.rating_files.NoFrame` files (`frame()` fails the test), read in
batches of 7 rows, so they never line up with the files."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest

from movie_roulette import columns as C
from movie_roulette import ratings_source
from movie_roulette.evaluation.sampling import sample_users
from movie_roulette.final_fit import HOLDOUT, SERVED, SERVED_DATA, fit_record, refit_for_serving
from movie_roulette.models.base import index_parts
from movie_roulette.models.hybrid import train_hybrid
from movie_roulette.models.indexing import index_streamed
from movie_roulette.ratings_source import FrameRatings, RatingFiles
from tests.unit.models.tiny import split_tiny, tiny_catalogue, tiny_model_config, tiny_ratings
from tests.unit.rating_files import NoFrame, as_files
from tests.unit.test_final_fit import _fitted, _same_model


@pytest.fixture(autouse=True)
def _small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ratings_source, "BATCH_ROWS", 7)


def _splits() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    train, held = split_tiny(tiny_ratings(seed=4), seed=4)
    return train, held.iloc[1::2].reset_index(drop=True), held.iloc[::2].reset_index(drop=True)


def test_parts_indexed_from_files_are_the_frames_indexing(tmp_path) -> None:
    frames = _splits()
    files = [
        as_files(tmp_path, f, n) for f, n in zip(frames, ("train", "valid", "test"), strict=True)
    ]
    from_files = index_parts(files)
    from_frames = index_parts([FrameRatings(f) for f in frames])
    for field in ("user_idx", "movie_idx", "rating", "user_ids", "movie_ids"):
        mine, theirs = getattr(from_files, field), getattr(from_frames, field)
        assert mine.dtype == theirs.dtype, field
        np.testing.assert_array_equal(mine, theirs, err_msg=field)
    assert len(from_files.rating) == sum(len(f) for f in frames)


def test_the_hybrid_trained_on_files_is_the_one_trained_on_frames(tmp_path) -> None:
    train, valid, _ = _splits()
    cfg = tiny_model_config()
    args = (tiny_catalogue(), cfg)
    on_frames = train_hybrid(train, valid, *args, seed=3)
    # train is never loaded whole; valid is, while the blend search runs on it
    on_files = train_hybrid(
        as_files(tmp_path, train, "train"),
        as_files(tmp_path, valid, "valid", RatingFiles),
        *args,
        seed=3,
    )
    _same_model(on_files, on_frames, users=[1, 5, 9, 16])
    assert on_files.weights == on_frames.weights
    assert on_files.rating_coefs == on_frames.rating_coefs


def test_the_served_refit_on_files_is_the_refit_on_frames(tmp_path) -> None:
    train, valid, test = _splits()
    model = _fitted(train)
    twin = copy.deepcopy(model)
    files = [
        as_files(tmp_path, f, n) for f, n in ((train, "train"), (valid, "valid"), (test, "test"))
    ]
    served, fits = refit_for_serving(model, *files, tiny_catalogue())
    expected, expected_fits = refit_for_serving(twin, train, valid, test, tiny_catalogue())
    _same_model(served, expected, users=[2, 7, 12])
    assert fits == expected_fits
    everything = pd.concat([train, valid, test], ignore_index=True)[
        [C.USER_ID, C.MOVIE_ID, C.RATING]
    ]
    assert fits[SERVED] == fit_record(SERVED_DATA, everything)
    assert fits[HOLDOUT].rows == len(train) + len(valid)


def test_a_file_part_without_ratings_or_with_nan_is_refused_by_name(tmp_path) -> None:
    train, _, _ = _splits()
    no_rating = as_files(tmp_path, train.drop(columns=[C.RATING]), "no-rating")
    with pytest.raises(ValueError, match=r"no-rating.*missing column\(s\) \['rating'\]"):
        _fitted(train).refit([no_rating])
    broken = train.copy()
    broken.loc[10, C.RATING] = np.nan
    with pytest.raises(ValueError, match="NaN or infinite"):
        _fitted(train).refit([as_files(tmp_path, broken, "nan")])


def test_rows_that_change_between_the_two_passes_are_refused() -> None:
    users, movies, ratings = np.array([1, 2]), np.array([10, 20]), np.array([4.0, 3.0])

    def ids():
        yield users, movies

    def changed():
        yield users, np.array([10, 30]), ratings  # movie 30 was not in the first pass

    with pytest.raises(ValueError, match="movie 30 was not in the first pass"):
        index_streamed(ids, changed, 2)
    with pytest.raises(ValueError, match="1 rows read, 2 announced"):
        index_streamed(ids, lambda: iter([(users[:1], movies[:1], ratings[:1])]), 2)
    rows = index_streamed(ids, lambda: iter([(users, movies, ratings)]), 2)
    np.testing.assert_array_equal(rows.movie_ids, [10, 20])


def test_the_blend_search_samples_its_users_from_the_whole_split(tmp_path) -> None:
    train, valid, _ = _splits()
    model = _fitted(train)
    rows, ranked, stacked = model._tuning_rows(as_files(tmp_path, valid, "valid"), 4.0, 5, seed=1)
    known = valid[valid[C.USER_ID].isin(model.user_ids)]
    liked = known[known[C.RATING] >= 4.0][C.USER_ID]
    with_known_movie = known[model.movie_positions(known[C.MOVIE_ID]) >= 0][C.USER_ID]
    np.testing.assert_array_equal(ranked, sample_users(liked.to_numpy(), 5, seed=1))
    np.testing.assert_array_equal(stacked, sample_users(with_known_movie.to_numpy(), 5, seed=1))
    assert len(ranked) == len(stacked) == 5  # (the tiny split has more users: a real sample)
    expected = known[known[C.USER_ID].isin(np.union1d(ranked, stacked))]
    pd.testing.assert_frame_equal(
        rows, expected[[C.USER_ID, C.MOVIE_ID, C.RATING]].reset_index(drop=True)
    )
    on_frame, on_files = _fitted(train), _fitted(train)
    on_frame.tune(valid, max_users=5, seed=1)
    on_files.tune(as_files(tmp_path, valid, "valid-again"), max_users=5, seed=1)
    assert on_files.weights == on_frame.weights and on_files.rating_coefs == on_frame.rating_coefs


def test_a_fit_record_reads_each_part_once(tmp_path) -> None:
    """The record (checksum, rows, users, movies) of parts read from files equals the record
    of their concatenation, from one pass over the files (not one per figure)."""

    class Counted(NoFrame):
        rows_read = 0

        def batches(self, columns=None):
            for batch in super().batches(columns):
                Counted.rows_read += len(batch)
                yield batch

    train, valid, _ = _splits()
    files = [as_files(tmp_path, f, n, cls=Counted) for f, n in ((train, "t"), (valid, "v"))]
    Counted.rows_read = 0
    record = fit_record("train+valid", files)
    both = pd.concat([train, valid], ignore_index=True)[[C.USER_ID, C.MOVIE_ID, C.RATING]]
    assert record == fit_record("train+valid", both)
    assert (record.users, record.movies) == (both[C.USER_ID].nunique(), both[C.MOVIE_ID].nunique())
    first_batches = 2 * 7  # (the dtype check reads each part's first batch: <= 7 rows)
    assert 0 <= Counted.rows_read - len(both) <= first_batches  # one pass over the rows, not 3
