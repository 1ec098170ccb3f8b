"""Rating, ranking and beyond-accuracy metrics: pure functions with checked inputs.

Ranking metrics take `recommended` (ranked ids, best first, no duplicates) and `relevant`
(the ids the user liked in the test data) and use binary relevance.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any

import numpy as np


def check_k(k: int) -> int:
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
        raise ValueError(f"k: {k!r} must be an integer of at least 1.")
    return int(k)


def _is_nan(value: Any) -> bool:
    return isinstance(value, float | np.floating) and math.isnan(value)


def _check_ids(values: Iterable[Any], name: str, *, unique: bool) -> list[Any]:
    if isinstance(values, str | bytes):
        raise ValueError(f"{name}: expected a sequence of ids, got a string.")
    items = list(values)
    if any(_is_nan(v) for v in items):
        raise ValueError(f"{name}: contains NaN; pass real item ids.")
    if unique and len(set(items)) != len(items):
        dupes = sorted({v for v in items if items.count(v) > 1}, key=str)[:5]
        raise ValueError(f"{name}: contains duplicate ids {dupes}; a ranked list has each once.")
    return items


def _check_pair(y_true: Any, y_pred: Any) -> tuple[np.ndarray, np.ndarray]:
    t = np.asarray(y_true, dtype="float64").ravel()
    p = np.asarray(y_pred, dtype="float64").ravel()
    if t.size == 0:
        raise ValueError("y_true: is empty; need at least one rating.")
    if p.size == 0:
        raise ValueError("y_pred: is empty; need at least one prediction.")
    if t.size != p.size:
        raise ValueError(f"y_pred: length {p.size} does not match y_true length {t.size}.")
    if np.isnan(t).any():
        raise ValueError("y_true: contains NaN.")
    if np.isnan(p).any():
        raise ValueError("y_pred: contains NaN.")
    return t, p


def rmse(y_true: Any, y_pred: Any) -> float:
    """Root mean squared error."""
    t, p = _check_pair(y_true, y_pred)
    return float(np.sqrt(np.mean((t - p) ** 2)))


def mae(y_true: Any, y_pred: Any) -> float:
    """Mean absolute error."""
    t, p = _check_pair(y_true, y_pred)
    return float(np.mean(np.abs(t - p)))


def _ranking_inputs(
    recommended: Sequence[Any], relevant: Collection[Any], k: int, *, need_relevant: bool
) -> tuple[list[Any], set[Any], int]:
    k = check_k(k)
    recs = _check_ids(recommended, "recommended", unique=True)
    rel = set(_check_ids(relevant, "relevant", unique=False))
    if need_relevant and not rel:
        raise ValueError("relevant: is empty; the metric is undefined for users without hits.")
    return recs[:k], rel, k


def _hits(recommended: Sequence[Any], relevant: Collection[Any], k: int, need: bool) -> list[bool]:
    top, rel, _ = _ranking_inputs(recommended, relevant, k, need_relevant=need)
    return [item in rel for item in top]


def precision_at_k(recommended: Sequence[Any], relevant: Collection[Any], k: int) -> float:
    """Relevant items in the top k, divided by k (short lists are not rewarded)."""
    return sum(_hits(recommended, relevant, k, False)) / check_k(k)


def recall_at_k(recommended: Sequence[Any], relevant: Collection[Any], k: int) -> float:
    """Relevant items in the top k, divided by the number of relevant items."""
    hits = _hits(recommended, relevant, k, True)
    return sum(hits) / len(set(relevant))


def hit_rate_at_k(recommended: Sequence[Any], relevant: Collection[Any], k: int) -> float:
    """1.0 if any relevant item is in the top k, else 0.0."""
    return float(any(_hits(recommended, relevant, k, False)))


def ndcg_at_k(recommended: Sequence[Any], relevant: Collection[Any], k: int) -> float:
    """Binary-relevance NDCG with log2(rank + 1) discount; ideal DCG over min(k, |relevant|)."""
    hits = _hits(recommended, relevant, k, True)
    dcg = sum(1.0 / math.log2(i + 2) for i, hit in enumerate(hits) if hit)
    ideal = sum(1.0 / math.log2(i + 2) for i in range(min(check_k(k), len(set(relevant)))))
    return dcg / ideal


def ndcg_from_hits(hits: np.ndarray, n_relevant: np.ndarray, k: int) -> np.ndarray:
    """`ndcg_at_k` of many ranked lists at once (the blend-weight search): `hits` is lists x k
    (True where the item at that rank is relevant; shorter lists padded with False) and
    `n_relevant` each list's number of relevant items (>= 1). Same discount, same ideal DCG."""
    k = check_k(k)
    hits = np.asarray(hits, bool)[:, :k]
    n_relevant = np.asarray(n_relevant, np.int64)
    if hits.shape[0] != len(n_relevant) or (n_relevant < 1).any():
        raise ValueError("n_relevant: one count >= 1 per row of hits.")
    disc = np.array([1.0 / math.log2(i + 2) for i in range(k)])
    dcg = hits.astype(np.float64) @ disc[: hits.shape[1]]
    ideal = np.cumsum(disc)[np.minimum(n_relevant, k) - 1]
    return dcg / ideal


def average_precision_at_k(recommended: Sequence[Any], relevant: Collection[Any], k: int) -> float:
    """AP@k: mean of precision@i at each hit i <= k, divided by min(k, |relevant|)."""
    hits = _hits(recommended, relevant, k, True)
    total, n_hits = 0.0, 0
    for i, hit in enumerate(hits, start=1):
        if hit:
            n_hits += 1
            total += n_hits / i
    return total / min(check_k(k), len(set(relevant)))


def catalogue_coverage_at_k(
    rec_lists: Iterable[Sequence[Any]], catalogue_size: int, k: int
) -> float:
    """Distinct items appearing in any top-k list, divided by the catalogue size."""
    k = check_k(k)
    if isinstance(catalogue_size, bool) or catalogue_size < 1:
        raise ValueError(f"catalogue_size: {catalogue_size!r} must be at least 1.")
    seen: set[Any] = set()
    for i, recs in enumerate(rec_lists):
        seen.update(_check_ids(recs, f"rec_lists[{i}]", unique=True)[:k])
    return len(seen) / catalogue_size


def _genre_set(value: Any) -> frozenset[str]:
    if isinstance(value, str):
        return frozenset(g for g in value.split("|") if g)
    return frozenset(value)


def intra_list_diversity(
    rec_list: Sequence[Any], item_genres: Mapping[Any, Collection[str] | str]
) -> float:
    """Mean pairwise Jaccard distance between the genre sets of the listed items.

    Genres may be given as collections or pipe-separated strings. Two items without any genre
    count as identical (distance 0).
    """
    items = _check_ids(rec_list, "rec_list", unique=True)
    if len(items) < 2:
        raise ValueError("rec_list: needs at least 2 items to measure diversity.")
    missing = [i for i in items if i not in item_genres]
    if missing:
        raise ValueError(f"item_genres: has no genres for items {missing[:5]}.")
    sets = [_genre_set(item_genres[i]) for i in items]
    distances = []
    for a in range(len(sets)):
        for b in range(a + 1, len(sets)):
            union = sets[a] | sets[b]
            distances.append(1.0 - len(sets[a] & sets[b]) / len(union) if union else 0.0)
    return float(np.mean(distances))


def novelty_at_k(
    rec_lists: Iterable[Sequence[Any]],
    item_popularity: Mapping[Any, float],
    n_users: int,
    k: int | None = None,
) -> float:
    """Mean self-information -log2(popularity / n_users) of the recommended items.

    `item_popularity` is the number of users who interacted with each item; it is clipped to
    [1, n_users] so never-seen items count as seen once. Each list is averaged first, then the
    lists (every user weighs the same). `k` truncates the lists (None: whole lists).
    """
    if k is not None:
        k = check_k(k)
    if isinstance(n_users, bool) or n_users < 1:
        raise ValueError(f"n_users: {n_users!r} must be at least 1.")
    per_list = []
    for i, recs in enumerate(rec_lists):
        items = _check_ids(recs, f"rec_lists[{i}]", unique=True)[:k]
        if not items:
            continue
        missing = [item for item in items if item not in item_popularity]
        if missing:
            raise ValueError(f"item_popularity: has no popularity for items {missing[:5]}.")
        pops = np.array([item_popularity[item] for item in items], dtype="float64")
        if np.isnan(pops).any() or (pops < 0).any():
            raise ValueError("item_popularity: values must be non-negative numbers.")
        pops = np.clip(pops, 1.0, float(n_users))
        per_list.append(float(np.mean(-np.log2(pops / n_users))))
    if not per_list:
        raise ValueError("rec_lists: no non-empty recommendation list given.")
    return float(np.mean(per_list))


def mean_intra_list_diversity(
    rec_lists: Iterable[Sequence[Any]],
    item_genres: Mapping[Any, Collection[str] | str],
    k: int | None = None,
) -> float:
    """`intra_list_diversity` averaged over the lists with at least 2 items (after truncating to
    `k`); every user weighs the same."""
    if k is not None:
        k = check_k(k)
    values = [
        intra_list_diversity(list(recs)[:k], item_genres)
        for recs in rec_lists
        if len(list(recs)[:k]) >= 2
    ]
    if not values:
        raise ValueError("rec_lists: no list with at least 2 items given.")
    return float(np.mean(values))


def average_popularity_at_k(
    rec_lists: Iterable[Sequence[Any]], item_popularity: Mapping[Any, float], k: int
) -> float:
    """ARP@k (Abdollahpouri et al. 2019): mean popularity (e.g. number of training ratings) of
    the recommended items, averaged per list, then over lists. Items missing from
    `item_popularity` count as 0."""
    k = check_k(k)
    per_list = []
    for i, recs in enumerate(rec_lists):
        items = _check_ids(recs, f"rec_lists[{i}]", unique=True)[:k]
        if items:
            per_list.append(float(np.mean([item_popularity.get(it, 0.0) for it in items])))
    if not per_list:
        raise ValueError("rec_lists: no non-empty recommendation list given.")
    return float(np.mean(per_list))


def popularity_lift_at_k(
    rec_lists: Sequence[Sequence[Any]],
    histories: Sequence[Collection[Any]],
    item_popularity: Mapping[Any, float],
    k: int,
) -> float:
    """Popularity bias: per user, mean popularity of the top-k recommendations divided by the
    mean popularity of the items in that user's own history, averaged over users.

    1.0 means the recommendations are as mainstream as the user's taste; above 1 the
    recommender pushes more popular items than the user usually picks. Users with an empty list
    or a history of only zero-popularity items are skipped.
    """
    k = check_k(k)
    if len(rec_lists) != len(histories):
        raise ValueError(
            f"histories: has {len(histories)} entries for {len(rec_lists)} recommendation lists."
        )
    ratios = []
    for i, (recs, history) in enumerate(zip(rec_lists, histories, strict=True)):
        items = _check_ids(recs, f"rec_lists[{i}]", unique=True)[:k]
        hist = list(history)
        if not items or not hist:
            continue
        hist_pop = float(np.mean([item_popularity.get(it, 0.0) for it in hist]))
        if hist_pop <= 0:
            continue
        ratios.append(float(np.mean([item_popularity.get(it, 0.0) for it in items])) / hist_pop)
    if not ratios:
        raise ValueError("rec_lists: no user with both recommendations and a history given.")
    return float(np.mean(ratios))
