"""Scalable components: contract, public component API, equivalence with the dense versions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from movie_roulette.config import ImplicitConfig, ModelConfig
from movie_roulette.exceptions import MemoryBudgetError
from movie_roulette.models.base import Interactions, Recommender
from movie_roulette.models.component_api import RowScoring, UserRows
from movie_roulette.models.hybrid import make_components
from movie_roulette.models.implicit import EASERecommender, ItemKNNRecommender
from movie_roulette.models.scalable import (
    ALSRecommender,
    SparseItemKNNRecommender,
)
from tests.unit.models.contract import RecommenderContract


class TestALSContract(RecommenderContract):
    def make(self) -> Recommender:
        return ALSRecommender(factors=8, iterations=10, seed=3)


class TestSparseItemKNNContract(RecommenderContract):
    expected_rmse_range = (0.0, 1.0)

    def make(self) -> Recommender:
        return SparseItemKNNRecommender(n_neighbours=5, min_item_ratings=1)


class TestCappedEASEContract(RecommenderContract):
    def make(self) -> Recommender:
        return EASERecommender(l2=5.0, min_item_ratings=1, max_items=16)  # of 20 movies


def _random_ratings(seed: int, users: int = 80, movies: int = 40, density: float = 0.3):
    rng = np.random.default_rng(seed)
    mask = rng.random((users, movies)) < density
    u, m = np.nonzero(mask)
    return pd.DataFrame(
        {"user_id": u + 1, "movie_id": m + 1, "rating": rng.integers(1, 11, len(u)) / 2.0}
    )


# ------------------------------------------------------------------ sparse item-kNN


def test_sparse_itemknn_equals_the_dense_one_when_every_neighbour_is_kept() -> None:
    ratings = _random_ratings(0)
    dense = ItemKNNRecommender(n_neighbours=100, rating_pool=100, min_item_ratings=1)
    sparse_ = SparseItemKNNRecommender(n_neighbours=100, rating_pool=100, min_item_ratings=1)
    dense.fit(ratings)
    sparse_.fit(ratings)
    np.testing.assert_allclose(sparse_.sim_rank.toarray(), dense.sim_rank.toarray(), atol=1e-6)
    np.testing.assert_allclose(sparse_.sim_rate.toarray(), dense.sim_rate.toarray(), atol=1e-6)
    for user in dense.user_ids[:10]:
        np.testing.assert_allclose(sparse_.score_all(user), dense.score_all(user), rtol=1e-5)
        np.testing.assert_allclose(
            sparse_.predict_rating(user, dense.movie_ids),
            dense.predict_rating(user, dense.movie_ids),
            rtol=1e-5,
        )


def test_sparse_itemknn_keeps_the_same_top_k_values_as_the_dense_one(monkeypatch) -> None:
    import movie_roulette.models.scalable as scalable

    monkeypatch.setattr(scalable, "_BLOCK_WORK", 500)  # many column blocks
    ratings = _random_ratings(1)
    dense = ItemKNNRecommender(n_neighbours=6, rating_pool=9, min_item_ratings=1).fit(ratings)
    sparse_ = SparseItemKNNRecommender(n_neighbours=6, rating_pool=9, min_item_ratings=1)
    sparse_.fit(ratings)
    for mine, ref in ((sparse_.sim_rank, dense.sim_rank), (sparse_.sim_rate, dense.sim_rate)):
        a, b = mine.tocsc(), ref.tocsc()
        for j in range(a.shape[1]):  # ties at the k-th value may pick other rows: compare values
            got = np.sort(a.data[a.indptr[j] : a.indptr[j + 1]])
            want = np.sort(b.data[b.indptr[j] : b.indptr[j + 1]])
            np.testing.assert_allclose(got, want, rtol=1e-5)


def _top_per_column_by_sorting(rows, cols, vals, k):
    """The rule spelled out: per column, positive values by value descending, then row."""
    keep = []
    for c in np.unique(cols):
        at = np.flatnonzero((cols == c) & (vals > 0))
        at = at[np.lexsort((rows[at], -vals[at]))][:k]
        keep.extend(at.tolist())
    keep = np.array(sorted(keep), np.int64)
    return rows[keep], cols[keep], vals[keep]


@pytest.mark.parametrize("k", [1, 3, 7, 40])
def test_top_per_column_keeps_the_k_largest_and_the_lower_rows_among_ties(k: int) -> None:
    from movie_roulette.models.scalable import _top_per_column

    rng = np.random.default_rng(k)
    # columns of 0 to 90 entries in (column, row) order; few distinct values: many ties,
    # also at the k-th value; zeros and negatives are never kept
    lengths = rng.integers(0, 90, 25)
    cols = np.repeat(np.arange(25), lengths)
    rows = np.concatenate([np.sort(rng.choice(200, n, replace=False)) for n in lengths])
    vals = rng.integers(-2, 6, len(cols)).astype(np.float64)
    got = _top_per_column(rows, cols, vals, k)
    want = _top_per_column_by_sorting(rows, cols, vals, k)
    order = np.lexsort((got[0], got[1]))
    for g, w in zip(got, want, strict=True):
        np.testing.assert_array_equal(g[order], w)


def test_sparse_itemknn_fits_blocks_on_several_threads_to_the_same_matrices(monkeypatch) -> None:
    import movie_roulette.models.scalable as scalable

    monkeypatch.setattr(scalable, "_BLOCK_WORK", 300)  # many column blocks
    ratings = _random_ratings(3, users=120, movies=60)
    fitted = [
        SparseItemKNNRecommender(
            n_neighbours=5, rating_pool=8, min_item_ratings=1, fit_threads=t
        ).fit(ratings)
        for t in (1, 3)
    ]
    for name in ("sim_rank", "sim_rate"):
        one, three = (getattr(m, name) for m in fitted)
        assert one.nnz > 0
        for part in ("indptr", "indices", "data"):
            np.testing.assert_array_equal(getattr(one, part), getattr(three, part))


def test_sparse_itemknn_samples_heavy_users_deterministically() -> None:
    ratings = _random_ratings(2, density=0.6)
    capped = SparseItemKNNRecommender(n_neighbours=5, min_item_ratings=1, max_user_items=10)
    again = SparseItemKNNRecommender(n_neighbours=5, min_item_ratings=1, max_user_items=10)
    full = SparseItemKNNRecommender(n_neighbours=5, min_item_ratings=1, max_user_items=None)
    capped.fit(ratings), again.fit(ratings), full.fit(ratings)
    np.testing.assert_array_equal(capped.sim_rank.toarray(), again.sim_rank.toarray())
    assert not np.allclose(capped.sim_rank.toarray(), full.sim_rank.toarray())
    users = np.repeat(np.arange(3), [5, 20, 12])
    mask = capped._similarity_sample(Interactions(users, np.zeros(37, np.int64), np.ones(37), 3, 1))
    assert np.bincount(users[mask]).tolist() == [5, 10, 10]


# ------------------------------------------------------------------ capped EASE


def test_capped_ease_equals_dense_ease_under_the_cap() -> None:
    ratings = _random_ratings(3)
    dense = EASERecommender(l2=5.0, min_item_ratings=1, half_precision=False).fit(ratings)
    capped = EASERecommender(l2=5.0, min_item_ratings=1, half_precision=False, max_items=40)
    capped.fit(ratings)
    np.testing.assert_array_equal(capped.movie_ids, dense.movie_ids)
    np.testing.assert_array_equal(capped.B, dense.B)


def test_capped_ease_is_dense_ease_on_the_most_rated_movies() -> None:
    ratings = _random_ratings(4)
    counts = ratings["movie_id"].value_counts()
    top = counts.reset_index().sort_values(["count", "movie_id"], ascending=[False, True])
    top = top["movie_id"].to_numpy()[:15]
    capped = EASERecommender(l2=5.0, min_item_ratings=1, half_precision=False, max_items=15)
    capped.fit(ratings)
    dense = EASERecommender(l2=5.0, min_item_ratings=1, half_precision=False)
    dense.fit(ratings[ratings["movie_id"].isin(top)])
    np.testing.assert_array_equal(capped.movie_ids, np.sort(top))
    np.testing.assert_allclose(capped.B, dense.B)


def test_ease_over_the_memory_budget_fails_early_naming_the_setting() -> None:
    ratings = _random_ratings(5)
    model = EASERecommender(l2=5.0, min_item_ratings=1, memory_budget_gb=1e-6)
    with pytest.raises(MemoryBudgetError) as err:
        model.fit(ratings)
    message = str(err.value)
    assert "EASE on 40 movies needs about" in message
    assert "model.implicit.ease_max_items" in message and "model.memory_budget_gb" in message
    # the suggested cap fits the budget
    fits = int(message.split("to at most ")[1].split(":")[0])
    EASERecommender(l2=5.0, min_item_ratings=1, memory_budget_gb=1e-6, max_items=fits).fit(ratings)


def test_a_25m_sized_ease_is_refused_on_this_machine_before_any_allocation() -> None:
    with pytest.raises(MemoryBudgetError, match="EASE on 62000 movies"):
        EASERecommender(memory_budget_gb=12).check_memory(62_000)
    EASERecommender(memory_budget_gb=12).check_memory(20_000)  # the ml-25m config's cap


# ------------------------------------------------------------------ ALS


def test_als_fold_in_is_implicits_least_squares_user_step(ratings: pd.DataFrame) -> None:
    from implicit.cpu.als import AlternatingLeastSquares
    from threadpoolctl import threadpool_limits

    model = ALSRecommender(factors=6, iterations=8, alpha=3.0, seed=1).fit(ratings)
    with threadpool_limits(1, "blas"):
        ref = AlternatingLeastSquares(factors=6, regularization=0.05, alpha=3.0)
    ref.item_factors = model.item_factors
    users = np.arange(5)
    rows = UserRows.of_users(model, users)
    want = ref.recalculate_user(users, rows.matrix(model.n_movies, np.ones(len(rows.indices))))
    np.testing.assert_allclose(model.fold_in(rows), want, rtol=1e-3, atol=1e-4)


def test_als_fold_in_reuses_the_movie_gram_until_the_factors_change(
    ratings: pd.DataFrame,
) -> None:
    model = ALSRecommender(factors=6, iterations=8, alpha=3.0, seed=1).fit(ratings)
    rows = UserRows.of_users(model, np.arange(4))
    first = model.fold_in(rows)
    gram = model.item_gram()
    assert model.item_gram() is gram  # computed once, not per request
    Y = model.item_factors.astype(np.float64)
    np.testing.assert_array_equal(gram, Y.T @ Y)
    np.testing.assert_array_equal(model.fold_in(rows), first)
    model.item_factors = (model.item_factors * 2).astype(np.float32)  # a refit or a new state
    assert model.item_gram() is not gram
    np.testing.assert_allclose(model.item_gram(), 4 * gram, rtol=1e-6)


def test_als_recovers_structure(ratings: pd.DataFrame) -> None:
    model = ALSRecommender(factors=8, iterations=15, seed=0).fit(ratings)
    assert model.user_factors.dtype == np.float32 and model.item_factors.dtype == np.float32
    user = int(model.user_ids[0])
    seen = set(model.seen_movie_ids(user).tolist())
    scores = model.score_all(user)
    seen_mask = np.isin(model.movie_ids, list(seen))
    assert scores[seen_mask].mean() > scores[~seen_mask].mean()


# ------------------------------------------------------------------ public component API


@pytest.mark.parametrize(
    "make",
    [
        lambda: ALSRecommender(factors=8, iterations=10, seed=3),
        lambda: SparseItemKNNRecommender(n_neighbours=5, min_item_ratings=1),
    ],
)
def test_score_rows_matches_per_profile_scores(make, ratings: pd.DataFrame) -> None:
    model = make().fit(ratings)
    assert isinstance(model, RowScoring) and model.score_scale == "raw"
    users = np.arange(4)
    rows = UserRows.of_users(model, users)
    full = model.score_rows(rows)
    assert full.shape == (4, model.n_movies) and full.dtype == np.float32
    cand = np.array([3, 0, 2])
    np.testing.assert_allclose(model.score_rows(rows, cand), full[:, cand], rtol=1e-5, atol=1e-6)
    for k, u in enumerate(users):
        idx, r = model.seen(int(u))
        np.testing.assert_allclose(full[k], model._score_profile(idx, r), rtol=1e-4, atol=1e-5)


def test_predict_rows_is_predict_rating_per_user(ratings: pd.DataFrame) -> None:
    model = SparseItemKNNRecommender(n_neighbours=5, min_item_ratings=1).fit(ratings)
    movies = np.array([1, 0, 4])
    got = model.predict_rows(np.array([0, 2]), movies)
    for k, u in enumerate([0, 2]):
        np.testing.assert_allclose(
            got[k], model.predict_rating(int(model.user_ids[u]), model.movie_ids[movies])
        )
    with pytest.raises(NotImplementedError):
        ALSRecommender(factors=2).fit(ratings).predict_rows(np.array([0]), movies)


def test_user_rows_reject_inconsistent_arrays() -> None:
    with pytest.raises(ValueError, match="indptr"):
        UserRows(np.array([0, 3]), np.array([1, 2], np.int32), np.ones(2, np.float32))


def test_the_scalable_component_set_reads_the_config() -> None:
    cfg = ModelConfig(
        component_set="scalable",
        implicit=ImplicitConfig(ease_max_items=7, knn_max_user_items=50),
    )
    comps = make_components(cfg, seed=5)
    assert {"als", "itemknn", "ease", "content", "popularity"} <= set(comps)
    assert isinstance(comps["als"], ALSRecommender)
    assert isinstance(comps["itemknn"], SparseItemKNNRecommender)
    assert comps["ease"].max_items == 7 and comps["itemknn"].max_user_items == 50
    assert comps["als"].seed == 5 and comps["als"].factors == cfg.als.factors
