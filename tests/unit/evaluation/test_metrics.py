from __future__ import annotations

import math

import pytest

from movie_roulette.evaluation.metrics import (
    average_popularity_at_k,
    average_precision_at_k,
    catalogue_coverage_at_k,
    hit_rate_at_k,
    intra_list_diversity,
    mae,
    mean_intra_list_diversity,
    ndcg_at_k,
    novelty_at_k,
    popularity_lift_at_k,
    precision_at_k,
    recall_at_k,
    rmse,
)

RECS = [1, 2, 3, 4, 5]
RELEVANT = {2, 4, 9}


def test_rmse_and_mae_hand_computed() -> None:
    assert rmse([4.0, 3.0, 5.0], [3.0, 3.0, 3.0]) == pytest.approx(math.sqrt(5 / 3))
    assert mae([4.0, 3.0, 5.0], [3.0, 3.0, 3.0]) == pytest.approx(1.0)
    assert rmse([2.5], [2.5]) == 0.0


def test_precision_recall_hit_rate_hand_computed() -> None:
    assert precision_at_k(RECS, RELEVANT, 5) == pytest.approx(2 / 5)
    assert precision_at_k(RECS, RELEVANT, 2) == pytest.approx(1 / 2)
    assert precision_at_k(RECS[:2], RELEVANT, 10) == pytest.approx(1 / 10)  # short list
    assert recall_at_k(RECS, RELEVANT, 5) == pytest.approx(2 / 3)
    assert recall_at_k(RECS, RELEVANT, 1) == 0.0
    assert hit_rate_at_k(RECS, RELEVANT, 1) == 0.0
    assert hit_rate_at_k(RECS, RELEVANT, 2) == 1.0
    assert precision_at_k([], RELEVANT, 3) == 0.0


def test_ndcg_hand_computed() -> None:
    dcg = 1 / math.log2(3) + 1 / math.log2(5)  # hits at ranks 2 and 4
    idcg = 1 + 1 / math.log2(3) + 1 / math.log2(4)  # min(k=5, |relevant|=3) ideal hits
    assert ndcg_at_k(RECS, RELEVANT, 5) == pytest.approx(dcg / idcg)
    assert ndcg_at_k([2, 4, 9], RELEVANT, 3) == pytest.approx(1.0)
    # ideal DCG uses min(k, |relevant|): one slot, relevant at rank 1 -> perfect
    assert ndcg_at_k([9, 1], RELEVANT, 1) == pytest.approx(1.0)


def test_average_precision_hand_computed() -> None:
    # hits at ranks 2 and 4: (1/2 + 2/4) / min(5, 3)
    assert average_precision_at_k(RECS, RELEVANT, 5) == pytest.approx((0.5 + 0.5) / 3)
    # k=2: one hit at rank 2 -> (1/2) / min(2, 3)
    assert average_precision_at_k(RECS, RELEVANT, 2) == pytest.approx(0.25)
    assert average_precision_at_k([2, 4, 9], RELEVANT, 3) == pytest.approx(1.0)


def test_catalogue_coverage_hand_computed() -> None:
    lists = [[1, 2, 3], [3, 4, 5], [1, 6]]
    assert catalogue_coverage_at_k(lists, catalogue_size=10, k=2) == pytest.approx(5 / 10)
    assert catalogue_coverage_at_k(lists, catalogue_size=10, k=3) == pytest.approx(6 / 10)


def test_intra_list_diversity_hand_computed() -> None:
    genres = {1: "Action|Comedy", 2: {"Action"}, 3: ["Drama"]}
    # d(1,2)=1-1/2, d(1,3)=1, d(2,3)=1
    assert intra_list_diversity([1, 2, 3], genres) == pytest.approx((0.5 + 1 + 1) / 3)
    assert intra_list_diversity([1, 1.5], {1: "", 1.5: ""}) == 0.0


def test_novelty_hand_computed() -> None:
    pop = {1: 50, 2: 25, 3: 100, 4: 0}
    # list A: -log2(0.5), -log2(0.25) -> 1, 2 ; list B: -log2(1)=0, -log2(1/100) (clipped to 1)
    expected = ((1 + 2) / 2 + (0 + math.log2(100)) / 2) / 2
    assert novelty_at_k([[1, 2], [3, 4]], pop, n_users=100) == pytest.approx(expected)
    assert novelty_at_k([[1, 2], [3, 4]], pop, n_users=100, k=1) == pytest.approx((1 + 0) / 2)


def test_mean_intra_list_diversity_hand_computed() -> None:
    genres = {1: "Action|Comedy", 2: "Action", 3: "Drama"}
    # [1, 2, 3] -> 5/6 (as above); [1, 2] -> 1/2; [3] alone has no pairs and is skipped
    lists = [[1, 2, 3], [1, 2], [3]]
    assert mean_intra_list_diversity(lists, genres) == pytest.approx((5 / 6 + 1 / 2) / 2)
    # k=2 truncates [1, 2, 3] to [1, 2]
    assert mean_intra_list_diversity(lists, genres, k=2) == pytest.approx(1 / 2)
    with pytest.raises(ValueError, match="at least 2 items"):
        mean_intra_list_diversity([[3]], genres)


def test_average_popularity_hand_computed() -> None:
    pop = {1: 10.0, 2: 20.0, 3: 5.0}
    # per list: (10 + 20) / 2 = 15 and 5 -> mean 10; with k=1: (10 + 5) / 2
    assert average_popularity_at_k([[1, 2], [3]], pop, k=2) == pytest.approx(10.0)
    assert average_popularity_at_k([[1, 2], [3]], pop, k=1) == pytest.approx(7.5)
    assert average_popularity_at_k([[4]], pop, k=1) == 0.0  # unknown items count as 0
    with pytest.raises(ValueError, match="non-empty"):
        average_popularity_at_k([[]], pop, k=1)


def test_popularity_lift_hand_computed() -> None:
    pop = {1: 10.0, 2: 20.0, 3: 5.0}
    # user A: recs mean 15 over history mean 5 -> 3; user B: 5 over 15 -> 1/3
    lift = popularity_lift_at_k([[1, 2], [3]], [[3], [1, 2]], pop, k=2)
    assert lift == pytest.approx((3 + 1 / 3) / 2)
    # an empty list is skipped
    assert popularity_lift_at_k([[1], []], [[2], [1]], pop, k=1) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="histories"):
        popularity_lift_at_k([[1]], [], pop, k=1)


@pytest.mark.parametrize(
    "fn", [precision_at_k, recall_at_k, ndcg_at_k, average_precision_at_k, hit_rate_at_k]
)
def test_ranking_metrics_check_inputs(fn) -> None:
    with pytest.raises(ValueError, match="k:"):
        fn(RECS, RELEVANT, 0)
    with pytest.raises(ValueError, match="recommended: contains duplicate"):
        fn([1, 2, 1], RELEVANT, 3)
    with pytest.raises(ValueError, match="recommended: contains NaN"):
        fn([1.0, float("nan")], RELEVANT, 3)


@pytest.mark.parametrize("fn", [recall_at_k, ndcg_at_k, average_precision_at_k])
def test_metrics_undefined_without_relevant_items_raise(fn) -> None:
    with pytest.raises(ValueError, match="relevant: is empty"):
        fn(RECS, set(), 3)


@pytest.mark.parametrize("fn", [rmse, mae])
def test_rating_metrics_check_inputs(fn) -> None:
    with pytest.raises(ValueError, match="y_pred: length 2"):
        fn([1.0, 2.0, 3.0], [1.0, 2.0])
    with pytest.raises(ValueError, match="y_true: is empty"):
        fn([], [])
    with pytest.raises(ValueError, match="y_pred: contains NaN"):
        fn([1.0], [float("nan")])


def test_beyond_accuracy_check_inputs() -> None:
    with pytest.raises(ValueError, match="catalogue_size"):
        catalogue_coverage_at_k([[1]], catalogue_size=0, k=1)
    with pytest.raises(ValueError, match=r"rec_lists\[1\]: contains duplicate"):
        catalogue_coverage_at_k([[1], [2, 2]], catalogue_size=5, k=2)
    with pytest.raises(ValueError, match="rec_list: needs at least 2"):
        intra_list_diversity([1], {1: "Drama"})
    with pytest.raises(ValueError, match="item_genres"):
        intra_list_diversity([1, 2], {1: "Drama"})
    with pytest.raises(ValueError, match="item_popularity"):
        novelty_at_k([[1, 2]], {1: 3}, n_users=10)
    with pytest.raises(ValueError, match="n_users"):
        novelty_at_k([[1]], {1: 3}, n_users=0)
