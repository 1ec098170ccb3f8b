"""The hybrid package over the public component API (issue 13): component contract, capped /
sparse components equal to the dense ones inside the hybrid, one NDCG for tuning and
evaluation, the up-front memory-budget check."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from movie_roulette.config import ImplicitConfig, ModelConfig, load_config
from movie_roulette.evaluation import metrics as M
from movie_roulette.evaluation.offline import ranking_metrics
from movie_roulette.exceptions import MemoryBudgetError
from movie_roulette.models.base import Recommender, top_k_indices
from movie_roulette.models.collaborative import SVDRecommender
from movie_roulette.models.component_api import UserRows
from movie_roulette.models.content import ContentRecommender
from movie_roulette.models.hybrid import (
    HybridRecommender,
    check_memory_budget,
    make_components,
    train_hybrid,
    tuning,
)
from movie_roulette.models.implicit import EASERecommender, ItemKNNRecommender
from movie_roulette.models.popularity import PopularityRecommender
from movie_roulette.models.scalable import ALSRecommender, SparseItemKNNRecommender
from tests.unit.models.tiny import ACTION, COMEDY, split_tiny, tiny_model_config

COMPONENTS: dict[str, Callable[[], Recommender]] = {
    "popularity": PopularityRecommender,
    "svd": lambda: SVDRecommender(n_factors=4, n_epochs=20, seed=1),
    "content": lambda: ContentRecommender(n_neighbours=5),
    "ease": lambda: EASERecommender(l2=5.0, min_item_ratings=1),
    "ease_capped": lambda: EASERecommender(l2=5.0, min_item_ratings=1, max_items=12),
    "itemknn": lambda: ItemKNNRecommender(n_neighbours=5, min_item_ratings=1),
    "itemknn_sparse": lambda: SparseItemKNNRecommender(n_neighbours=5, min_item_ratings=1),
    "als": lambda: ALSRecommender(factors=4, iterations=5, seed=1),
}


# ------------------------------------------------------------------ component contract
@pytest.mark.parametrize("name", sorted(COMPONENTS))
def test_every_component_offers_the_public_api(
    name: str, ratings: pd.DataFrame, catalogue: pd.DataFrame
) -> None:
    comp = COMPONENTS[name]().fit(ratings, catalogue)
    assert comp.score_scale in ("raw", "log1p")
    assert isinstance(comp.personal, bool) and isinstance(comp.profile_reads_values, bool)
    assert comp.budget_setting.startswith("model.")
    need = comp.estimate_fit_bytes(1000, 500, 100_000)
    assert isinstance(need, int) and need > 0
    users = np.arange(comp.n_users)
    full = comp.score_users(users)
    assert full.shape == (comp.n_users, comp.n_movies)
    for u in users[:5]:  # the fitted user's scores, as the Recommender contract gives them
        np.testing.assert_allclose(full[u], comp.score_all(int(comp.user_ids[u])), rtol=1e-6)
    cand = np.array([comp.n_movies - 1, 0, 2])
    np.testing.assert_allclose(comp.score_users(users[:3], cand), full[:3][:, cand], rtol=1e-5)
    # a profile's scores through the batch API equal the per-profile public method
    profile = {int(m): r for m, r in zip(comp.movie_ids[:4], (5.0, 4.0, 1.0, 3.5), strict=True)}
    rows = UserRows.from_profiles([(np.arange(4), np.array(list(profile.values())))])
    try:
        expected = comp.score_ratings(profile)
    except NotImplementedError:
        expected = None
    if expected is not None:
        np.testing.assert_allclose(comp.score_rows(rows)[0], expected, rtol=1e-5, atol=1e-6)
    if comp.predicts_ratings:
        movies = np.array([2, 0, 1])
        got = comp.predict_rows(users[:2], movies)
        for k in range(2):
            np.testing.assert_allclose(
                got[k], comp.predict_rating(int(comp.user_ids[k]), comp.movie_ids[movies])
            )


def test_component_roles_are_class_attributes_not_names() -> None:
    assert PopularityRecommender.score_scale == "log1p" and not PopularityRecommender.personal
    assert SVDRecommender.profile_reads_values and not EASERecommender.profile_reads_values
    assert EASERecommender.budget_setting == "model.implicit.ease_max_items"
    # a popularity component under another name is still read on the log scale
    hybrid = HybridRecommender({"ranker": PopularityRecommender()})
    assert hybrid.components["ranker"].score_scale == "log1p"


# ------------------------------------------------------------------ capped / sparse == dense
def test_hybrid_of_capped_and_sparse_components_equals_the_dense_one_under_the_cap(
    ratings: pd.DataFrame, catalogue: pd.DataFrame
) -> None:
    weights = {"ease": 1.0, "itemknn": 0.5, "popularity": 0.2}
    dense = HybridRecommender(
        {
            "ease": EASERecommender(l2=5.0, min_item_ratings=1, half_precision=False),
            "itemknn": ItemKNNRecommender(n_neighbours=50, min_item_ratings=1),
            "popularity": PopularityRecommender(),
        },
        weights=weights,
    ).fit(ratings, catalogue)
    # every neighbour kept (the catalogue has 20 movies): with fewer, a tie at the k-th
    # similarity may keep another movie in the sparse version
    scalable = HybridRecommender(
        {
            "ease": EASERecommender(
                l2=5.0, min_item_ratings=1, half_precision=False, max_items=1000
            ),
            "itemknn": SparseItemKNNRecommender(
                n_neighbours=50, min_item_ratings=1, max_user_items=None
            ),
            "popularity": PopularityRecommender(),
        },
        weights=weights,
    ).fit(ratings, catalogue)
    for user in dense.user_ids:
        a = dense.recommend_items(int(user), k=8)
        b = scalable.recommend_items(int(user), k=8)
        assert a.movie_ids == b.movie_ids
        np.testing.assert_allclose(
            [i.score for i in a.items], [i.score for i in b.items], rtol=1e-5
        )
    profile = {ACTION[0]: 5.0, COMEDY[1]: 1.0}
    assert (
        dense.recommend_from_ratings(profile, k=6).movie_ids
        == scalable.recommend_from_ratings(profile, k=6).movie_ids
    )


def test_scalable_component_set_trains_serves_and_round_trips(
    ratings: pd.DataFrame, catalogue: pd.DataFrame
) -> None:
    cfg = tiny_model_config().model_copy(
        update=dict(
            component_set="scalable",
            implicit=ImplicitConfig(
                l2=5.0,
                min_item_ratings=1,
                knn_neighbours=5,
                ease_max_items=15,
                knn_max_user_items=5,
            ),
        )
    )
    train, valid = split_tiny(ratings)
    model = train_hybrid(train, valid, catalogue, cfg, seed=0, k=5)
    assert {"als", "itemknn", "ease", "svd", "content", "popularity"} <= set(model.components)
    assert isinstance(model.components["itemknn"], SparseItemKNNRecommender)
    assert model.components["ease"].n_movies == 15  # capped
    assert model.fit_info["valid_users"] > 0 and set(model.weights) == set(model.components)
    recs = model.recommend_items(ACTION_FAN, k=5)
    assert len(recs.movie_ids) == 5
    clone = HybridRecommender.from_state(*model.get_state())
    assert clone.recommend_items(ACTION_FAN, k=5).movie_ids == recs.movie_ids
    np.testing.assert_allclose(
        clone.predict_rating(ACTION_FAN, ACTION), model.predict_rating(ACTION_FAN, ACTION)
    )
    assert model.similar_movies(ACTION[0], k=3)


ACTION_FAN = 1


# ------------------------------------------------------------------ one NDCG
def test_ndcg_from_hits_is_ndcg_at_k() -> None:
    rng = np.random.default_rng(0)
    for _ in range(50):
        k = int(rng.integers(1, 12))
        recommended = list(rng.permutation(40)[: int(rng.integers(0, k + 1))])
        relevant = set(rng.choice(40, int(rng.integers(1, 15)), replace=False).tolist())
        hits = np.zeros((1, k), bool)
        hits[0, : len(recommended)] = [m in relevant for m in recommended]
        got = M.ndcg_from_hits(hits, np.array([len(relevant)]), k)[0]
        assert got == pytest.approx(M.ndcg_at_k(recommended, relevant, k), abs=1e-12)


def test_search_ranks_ties_by_the_lower_movie_position_as_served() -> None:
    z = np.array([[[1.0, 2.0, 2.0, 2.0, 0.5], [3.0, 3.0, 1.0, 1.0, 1.0]]], np.float32)
    cols = np.array([[2, 5, 7, 9, 11], [0, 4, 6, 8, -1]])
    search = tuning.SearchSet(["a"], z, cols, {"a": 1.0})
    top, real = tuning.ranked(search, np.array([1.0]), 3)
    for r in range(2):
        scores = np.full(12, -np.inf)
        ok = cols[r] >= 0
        scores[cols[r][ok]] = z[0, r][ok]
        assert cols[r][top[r][real[r]]].tolist() == top_k_indices(scores, 3).tolist()


def test_weight_search_scores_with_the_evaluations_ndcg(
    ratings: pd.DataFrame, catalogue: pd.DataFrame
) -> None:
    """The validation NDCG the search reports is the offline evaluation's NDCG of the tuned
    model on the same users, relevant movies the model never saw included (the search used to
    leave them out of the ideal DCG, and break ties on float32 sums its own way)."""
    train, valid = split_tiny(ratings)
    extra = pd.DataFrame(  # liked in validation, unknown to the model (e.g. first rated there)
        {"user_id": [1, 2, 9], "movie_id": [999, 999, 998], "rating": [5.0, 4.5, 5.0]}
    )
    valid = pd.concat([valid[["user_id", "movie_id", "rating"]], extra], ignore_index=True)
    model = HybridRecommender(make_components(tiny_model_config(), seed=3)).fit(train, catalogue)
    info = model.tune(valid, k=5, max_users=None)
    expected = ranking_metrics(model, train, valid, k=5)["ndcg@5"]
    assert info["valid_users"] == valid[valid["rating"] >= 4]["user_id"].nunique()
    assert info["valid_ndcg@5"] == pytest.approx(expected, abs=1e-9)


def test_weight_search_samples_users_with_a_seed(
    ratings: pd.DataFrame, catalogue: pd.DataFrame
) -> None:
    train, valid = split_tiny(ratings)
    model = HybridRecommender(make_components(tiny_model_config(), seed=3)).fit(train, catalogue)
    a = model.tune(valid, k=5, max_users=6, seed=1)
    assert a["valid_users"] == 6
    b = model.tune(valid, k=5, max_users=6, seed=1)
    assert a["valid_ndcg@5"] == b["valid_ndcg@5"] and a["weights"] == b["weights"]
    assert tuning.sample_users(np.arange(100), 10, 1).tolist() == sorted(
        tuning.sample_users(np.arange(100), 10, 1).tolist()
    )


# ------------------------------------------------------------------ memory budget
def test_dense_components_on_25m_are_refused_naming_the_need_and_the_setting() -> None:
    with pytest.raises(MemoryBudgetError) as err:
        check_memory_budget(
            make_components(ModelConfig(), seed=0), 162_000, 62_000, 25_000_000, 12.0
        )
    message = str(err.value)
    assert "needs about" in message and "GB" in message and "'ease'" in message
    assert "model.implicit.ease_max_items" in message and "model.memory_budget_gb" in message


def test_the_ml25m_config_fits_its_budget() -> None:
    cfg = load_config("configs/ml-25m.yaml").model
    assert cfg.component_set == "scalable"
    estimates = check_memory_budget(
        make_components(cfg, seed=0), 162_000, 62_000, 25_000_000, cfg.memory_budget_gb
    )
    assert max(estimates.values()) < cfg.memory_budget_gb


def test_train_hybrid_stops_before_any_fit_when_over_budget(
    ratings: pd.DataFrame, catalogue: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_fit(self, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        raise AssertionError("a component was fitted although the budget check should stop")

    monkeypatch.setattr(Recommender, "fit", no_fit)
    cfg = tiny_model_config().model_copy(update=dict(memory_budget_gb=1e-6))
    train, valid = split_tiny(ratings)
    with pytest.raises(MemoryBudgetError, match="model.memory_budget_gb"):
        train_hybrid(train, valid, catalogue, cfg, seed=0, k=5)


def test_sorted_and_shuffled_ratings_fit_the_same_model() -> None:
    """`Recommender.fit` skips its sort when the rows already come sorted by (user, movie), as
    the Spark engine collects them: the fitted state must not depend on it."""
    from movie_roulette.models.indexing import sorted_pairs
    from tests.unit.models.tiny import tiny_ratings

    train, _ = split_tiny(tiny_ratings())
    ordered = train.sort_values(["user_id", "movie_id"]).reset_index(drop=True)
    shuffled = ordered.sample(frac=1.0, random_state=3).reset_index(drop=True)
    a = HybridRecommender(make_components(tiny_model_config(), seed=3)).fit(ordered)
    b = HybridRecommender(make_components(tiny_model_config(), seed=3)).fit(shuffled)
    for mine, theirs in [(a, b), *zip(a.components.values(), b.components.values(), strict=True)]:
        np.testing.assert_array_equal(mine._ui_indptr, theirs._ui_indptr)
        np.testing.assert_array_equal(mine._ui_indices, theirs._ui_indices)
        np.testing.assert_array_equal(mine._ui_ratings, theirs._ui_ratings)
    user = int(ordered["user_id"].iloc[0])
    assert a.recommend(user, k=5) == b.recommend(user, k=5)
    assert sorted_pairs(np.array([0, 0, 1, 2]), np.array([3, 5, 0, 0]))
    assert not sorted_pairs(np.array([0, 0, 1]), np.array([5, 3, 0]))  # movies out of order
    assert not sorted_pairs(np.array([1, 0]), np.array([0, 1]))  # users out of order


def test_components_fitted_on_the_blends_indices_equal_their_own_fit() -> None:
    """The hybrid fits each component that keeps every rating on its own indices
    (`fit_indexed`, arrays shared); the state and the scores equal a standalone `fit` on the
    same rows, for a component that knows extra movies (content: the whole catalogue) too."""
    from tests.unit.models.tiny import tiny_catalogue, tiny_ratings

    train, _ = split_tiny(tiny_ratings())
    catalogue = tiny_catalogue()
    extra = catalogue.iloc[:1].assign(movie_id=999, title="Unrated")  # known, never rated
    catalogue = pd.concat([catalogue, extra], ignore_index=True)

    def make() -> dict[str, Recommender]:
        return {
            "content": ContentRecommender(n_neighbours=5),
            "popularity": PopularityRecommender(),
            "als": ALSRecommender(factors=4, iterations=3, seed=1),
            "knn": ItemKNNRecommender(n_neighbours=5, min_item_ratings=1),  # filters: own fit
        }

    hybrid = HybridRecommender(make()).fit(train, catalogue)
    alone = make()
    for name, comp in alone.items():
        comp.rating_scale = hybrid.rating_scale
        comp.fit(train, catalogue)
        mine = hybrid.components[name]
        np.testing.assert_array_equal(mine.user_ids, comp.user_ids)
        np.testing.assert_array_equal(mine.movie_ids, comp.movie_ids)
        for attr in ("_ui_indptr", "_ui_indices", "_ui_ratings"):
            np.testing.assert_array_equal(getattr(mine, attr), getattr(comp, attr))
        np.testing.assert_allclose(mine.score_users([0, 3]), comp.score_users([0, 3]), rtol=1e-6)
    assert 999 in hybrid.components["content"].movie_ids and 999 not in hybrid.movie_ids
    assert hybrid.components["popularity"]._ui_indices is hybrid._ui_indices  # shared


def _kept_by_the_rule(frame: pd.DataFrame, min_item_ratings: int, max_items: int | None):
    """The movie filter of EASE and item-kNN written with pandas: movies with at least
    `min_item_ratings` ratings, then the `max_items` most rated of them (ties: the lower id)."""
    counts = frame["movie_id"].value_counts()
    counts = counts[counts >= min_item_ratings]
    if max_items is not None:
        ranked = counts.reset_index().sort_values(["count", "movie_id"], ascending=[False, True])
        counts = counts[ranked["movie_id"].to_numpy()[:max_items]]
    return frame[frame["movie_id"].isin(counts.index)].reset_index(drop=True)


def test_filtering_components_fit_on_the_blends_indices_as_on_the_rows_they_keep() -> None:
    """EASE and item-kNN drop rare movies (EASE also all but its `max_items` most rated): on the
    hybrid's indices they drop them there, and the users left without a rating, and end up as
    the same component without filters fitted on the rows the rule keeps."""
    from tests.unit.models.tiny import tiny_ratings

    train, _ = split_tiny(tiny_ratings())
    lone = pd.DataFrame({"user_id": [999, 999], "movie_id": [9001, 9002], "rating": [4.0, 5.0]})
    train = pd.concat([train, lone], ignore_index=True)  # a user of rare movies only
    cases = {
        "knn": (
            lambda floor, cap: ItemKNNRecommender(n_neighbours=5, min_item_ratings=floor),
            2,
            None,
        ),
        "ease": (
            lambda floor, cap: EASERecommender(l2=5.0, min_item_ratings=floor, max_items=cap),
            3,
            8,
        ),
    }
    made = {name: make(floor, cap) for name, (make, floor, cap) in cases.items()}
    hybrid = HybridRecommender({**made, "popularity": PopularityRecommender()}).fit(train)
    assert 999 in hybrid.user_ids
    for name, (make, floor, cap) in cases.items():
        kept = _kept_by_the_rule(train, floor, cap)
        assert 0 < len(kept) < len(train)
        reference = make(1, None)
        reference.rating_scale = hybrid.rating_scale
        reference.fit(kept)
        alone = make(floor, cap)
        alone.rating_scale = hybrid.rating_scale
        alone.fit(train)
        for fitted in (hybrid.components[name], alone):
            assert 999 not in fitted.user_ids
            np.testing.assert_array_equal(fitted.user_ids, reference.user_ids)
            np.testing.assert_array_equal(fitted.movie_ids, reference.movie_ids)
            for attr in ("_ui_indptr", "_ui_indices", "_ui_ratings"):
                np.testing.assert_array_equal(getattr(fitted, attr), getattr(reference, attr))
            users = reference.user_ids[:4]
            np.testing.assert_allclose(
                fitted.score_users(users), reference.score_users(users), rtol=1e-6
            )
    with pytest.raises(ValueError, match="nothing left to fit ItemKNNRecommender"):
        ItemKNNRecommender(min_item_ratings=10**6).fit(train)


def test_baselines_fitted_in_chunks_equal_the_whole_array_arithmetic() -> None:
    """fit_baselines fills one residual buffer a chunk at a time (its temporaries were three
    arrays of 8 bytes a rating); the biases must be bit-for-bit those of the whole-array loop."""
    from movie_roulette.models.base import Interactions, fit_baselines

    rng = np.random.default_rng(3)
    n, n_users, n_movies = 5_000, 70, 120
    data = Interactions(
        rng.integers(0, n_users, n),
        rng.integers(0, n_movies, n),
        rng.integers(1, 11, n) / 2.0,
        n_users,
        n_movies,
    )
    mu = float(data.rating.mean())
    bu, bi = np.zeros(n_users), np.zeros(n_movies)
    cnt_u = np.bincount(data.user_idx, minlength=n_users)
    cnt_i = np.bincount(data.movie_idx, minlength=n_movies)
    for _ in range(10):
        res = data.rating - mu - bu[data.user_idx]
        bi = np.bincount(data.movie_idx, res, n_movies) / (10.0 + cnt_i)
        res = data.rating - mu - bi[data.movie_idx]
        bu = np.bincount(data.user_idx, res, n_users) / (15.0 + cnt_u)
    for chunk in (7, 1000, 1 << 20):
        got_mu, got_bu, got_bi = fit_baselines(data, chunk=chunk)
        assert got_mu == mu
        assert np.array_equal(got_bu, bu) and np.array_equal(got_bi, bi)


def test_content_predicts_ratings_a_block_of_movies_at_a_time_as_all_at_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Content's rating kNN builds movies x rated similarities; it does so a block of movies at
    a time (a heavy user's test movies x history was ~0.5 GB an array at 25M ratings). The
    predictions must be those of one block (to the last bits BLAS may sum in another order)."""
    from movie_roulette.models import content as content_module
    from tests.unit.models.tiny import tiny_catalogue, tiny_ratings

    model = ContentRecommender(n_neighbours=3).fit(tiny_ratings(), tiny_catalogue())
    movies = np.arange(model.n_movies)
    whole = {u: model._predict_ratings(u, movies) for u in range(model.n_users)}
    monkeypatch.setattr(content_module, "PREDICT_BLOCK", 1)  # one movie a block
    for u, expected in whole.items():
        got = model._predict_ratings(u, movies)
        np.testing.assert_allclose(got, expected, rtol=1e-13, atol=0)
    assert not np.allclose(whole[0], whole[0][0])  # (a real prediction, not a constant)
