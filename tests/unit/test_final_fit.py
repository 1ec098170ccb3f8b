"""The served refit on train + valid + test, fitted from the three splits without concatenating
them (600 MB at 25M ratings): it must be the model and the records the concatenation gives."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd

from movie_roulette import columns as C
from movie_roulette.final_fit import HOLDOUT, SERVED, SERVED_DATA, fit_record, refit_for_serving
from movie_roulette.fingerprint import frame_checksum, frames_checksum
from movie_roulette.models.hybrid import HybridRecommender, make_components
from tests.unit.models.tiny import split_tiny, tiny_catalogue, tiny_model_config, tiny_ratings

COLS = [C.USER_ID, C.MOVIE_ID, C.RATING]


def _splits() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    train, held = split_tiny(tiny_ratings(seed=4), seed=4)
    test = held.iloc[::2].reset_index(drop=True)  # one of each user's two held-out ratings
    valid = held.iloc[1::2].reset_index(drop=True)
    return train, valid, test


def _fitted(train: pd.DataFrame) -> HybridRecommender:
    model = HybridRecommender(make_components(tiny_model_config(), seed=3))
    return model.fit(train, tiny_catalogue())


def _same_model(a: HybridRecommender, b: HybridRecommender, users: list[int]) -> None:
    for mine, theirs in [(a, b), *zip(a.components.values(), b.components.values(), strict=True)]:
        np.testing.assert_array_equal(mine.user_ids, theirs.user_ids)
        np.testing.assert_array_equal(mine.movie_ids, theirs.movie_ids)
        np.testing.assert_array_equal(mine._ui_indptr, theirs._ui_indptr)
        np.testing.assert_array_equal(mine._ui_indices, theirs._ui_indices)
        np.testing.assert_array_equal(mine._ui_ratings, theirs._ui_ratings)
    np.testing.assert_array_equal(a.bu, b.bu)
    np.testing.assert_array_equal(a.bi, b.bi)
    for user in users:
        assert a.recommend(user, k=5) == b.recommend(user, k=5)


def test_refit_on_the_splits_is_the_refit_on_their_concatenation() -> None:
    train, valid, test = _splits()
    model = _fitted(train)
    concatenated = copy.deepcopy(model)
    served, fits = refit_for_serving(model, train, valid, test, tiny_catalogue())
    everything = pd.concat([f[COLS] for f in (train, valid, test)], ignore_index=True)
    concatenated.refit(everything, tiny_catalogue())
    _same_model(served, concatenated, users=[1, 5, 9, 16])
    assert fits[SERVED] == fit_record(SERVED_DATA, everything)
    assert fits[SERVED].rows == len(everything) and fits[SERVED].users == 16
    both = pd.concat([train, valid], ignore_index=True)
    assert fits[HOLDOUT] == fit_record("train+valid", both)
    assert served.fit_info["served_fit"] == fits[SERVED].to_dict()


def test_fit_on_several_frames_skips_empty_ones_and_equals_the_fit_on_one() -> None:
    train, valid, test = _splits()
    empty = valid.iloc[:0]
    parts = _fitted(train).refit([train, empty, valid, test])
    whole = _fitted(train).refit(pd.concat([train, valid, test], ignore_index=True))
    _same_model(parts, whole, users=[2, 12])


def test_a_pair_rated_again_keeps_its_last_rating_in_the_served_fit() -> None:
    train, valid, test = _splits()
    first = train.iloc[0]
    again = pd.DataFrame([{**first.to_dict(), C.RATING: 0.5}]).astype(train.dtypes.to_dict())
    test = pd.concat([test, again], ignore_index=True)
    served, fits = refit_for_serving(_fitted(train), train, valid, test, tiny_catalogue())
    assert fits[SERVED].rows == len(train) + len(valid) + len(test) - 1
    user, movie = int(first[C.USER_ID]), int(first[C.MOVIE_ID])
    u = int(np.searchsorted(served.user_ids, user))
    row = slice(served._ui_indptr[u], served._ui_indptr[u + 1])
    rated = dict(
        zip(served.movie_ids[served._ui_indices[row]], served._ui_ratings[row], strict=True)
    )
    assert rated[movie] == 0.5


def test_checksum_of_frames_is_that_of_their_concatenation() -> None:
    train, valid, test = _splits()
    everything = pd.concat([train, valid, test], ignore_index=True)
    assert frames_checksum([train, valid, test], chunk_rows=5) == frame_checksum(everything)
    assert frames_checksum([train, valid, test], COLS) == frame_checksum(everything[COLS])
    # rows whose dtypes differ hash otherwise, so the record falls back to the concatenation
    narrow = test.astype({C.RATING: "float32"})
    assert frames_checksum([train, narrow], COLS) != frame_checksum(
        pd.concat([train, narrow], ignore_index=True)[COLS]
    )
    assert fit_record("x", [train, narrow]) == fit_record(
        "x", pd.concat([train[COLS], narrow[COLS]], ignore_index=True)
    )
