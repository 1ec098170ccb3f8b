"""The faster per-request scoring paths (issue 13, serving targets) answer what the previous
ones answered: the previous implementations are kept here as references, and a served request's
top-k with its scores, components and reasons is compared for a sample of users and movies."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from scipy import sparse

from movie_roulette import bundle
from movie_roulette.config import ModelConfig, SplitConfig
from movie_roulette.data.demo import generate_demo
from movie_roulette.data.split import train_valid_test
from movie_roulette.explain import Explainer
from movie_roulette.models import content as content_module
from movie_roulette.models.base import top_k_indices
from movie_roulette.models.collaborative import SVDRecommender
from movie_roulette.models.content import ContentRecommender
from movie_roulette.models.hybrid import HybridRecommender, blend, train_hybrid
from movie_roulette.models.implicit import EASERecommender, ItemKNNRecommender
from movie_roulette.models.rows import one_row, sum_rows
from movie_roulette.results import Fallback, Recommendations, RecommendedItem
from movie_roulette.service import RecommenderService

# ---- the previous implementations ------------------------------------------------------------


def ease_before(self: EASERecommender, movie_idx: np.ndarray, ratings: np.ndarray) -> np.ndarray:
    rows, w = self._profile_rows(movie_idx, ratings)
    if len(rows) == 0:
        return np.zeros(self.n_movies, np.float32)
    return self.B[rows].sum(axis=0) if w is None else w @ self.B[rows]


def knn_before(self: ItemKNNRecommender, movie_idx: np.ndarray, ratings: np.ndarray) -> np.ndarray:
    if len(movie_idx) == 0:
        return np.zeros(self.n_movies)
    x = np.zeros(self.n_movies, np.float32)
    x[movie_idx] = 1.0
    return np.asarray(self.sim_rank.T @ x).ravel()


def content_before(
    self: ContentRecommender, movie_idx: np.ndarray, ratings: np.ndarray
) -> np.ndarray:
    if len(movie_idx) == 0 or self.item_matrix.shape[1] == 0:
        return np.zeros(self.n_movies)
    w = self.profile_weights(ratings)
    profile = np.asarray(self.item_matrix[movie_idx].T @ w).ravel()
    norm = float(np.sqrt(profile @ profile))
    if norm == 0:
        return np.zeros(self.n_movies)
    return np.asarray(self.item_matrix @ profile).ravel() / norm


def svd_all_before(self: SVDRecommender, user_idx: int) -> np.ndarray:
    return self.global_mean + self.bu[user_idx] + self.bi + self.qi @ self.pu[user_idx]


def svd_fold_in_before(
    self: SVDRecommender, movie_idx: np.ndarray, ratings: np.ndarray
) -> tuple[float, np.ndarray]:
    """The ridge fold-in as the k x k system (whatever the number of ratings)."""
    if len(movie_idx) == 0:
        return 0.0, np.zeros(self.n_factors)
    n = len(movie_idx)
    res = np.asarray(ratings, np.float64) - self.global_mean - self.bi[movie_idx]
    bu = float(res.sum() / (n + self.reg_all * n + 1.0))
    q = self.qi[movie_idx]
    lam = self.reg_all * n + 1e-3
    return bu, np.linalg.solve(q.T @ q + lam * np.eye(self.n_factors), q.T @ (res - bu))


def svd_profile_before(
    self: SVDRecommender, movie_idx: np.ndarray, ratings: np.ndarray
) -> np.ndarray:
    bu, pu = svd_fold_in_before(self, movie_idx, ratings)
    return self.global_mean + bu + self.bi + self.qi @ pu


def cosines_before(self: Explainer, left: list[int], right: list[int]) -> np.ndarray:
    return np.asarray((self._matrix[left] @ self._matrix[right].T).todense())


def _blend_before(
    self: HybridRecommender, raw: dict, candidates: np.ndarray, fold_in: bool = False
) -> tuple[np.ndarray, dict]:
    """The materialised blend: every component's z-scores over every movie, then the sum."""
    z = {n: blend.zscore(v, candidates) for n, v in raw.items() if self.weights.get(n, 0.0) != 0.0}
    if fold_in:
        z = {n: blend.calibrate(v, candidates, self.top_z.get(n)) for n, v in z.items()}
    total = np.zeros(self.n_movies)
    for name, values in z.items():
        total += self.weights[name] * values
    return total, z


def _items_before(
    self: HybridRecommender, total: np.ndarray, z: dict, allowed: np.ndarray, k: int
) -> list[RecommendedItem]:
    scores = np.where(allowed, total, -np.inf)
    return [
        RecommendedItem(
            int(self.movie_ids[j]), float(scores[j]), {n: float(v[j]) for n, v in z.items()}
        )
        for j in top_k_indices(scores, k)
    ]


def recommend_items_before(
    self: HybridRecommender,
    user_id: int,
    k: int = 10,
    exclude_seen: bool = True,
    genre: str | None = None,
) -> Recommendations:
    allowed = self.genre_mask(genre)
    if not self.knows_user(user_id):
        return Recommendations(self._cold_start(k, allowed), fallback=Fallback.COLD_START)
    candidates = np.ones(self.n_movies, bool)
    candidates[self.seen(self.user_index(user_id))[0]] = False
    raw = {n: self._aligned(n, v) for n, v in self._own_scores(user_id, ranking=True).items()}
    total, z = _blend_before(self, raw, candidates)
    if exclude_seen:
        allowed = allowed & candidates
    return Recommendations(_items_before(self, total, z, allowed, k), fallback=None)


def recommend_from_ratings_before(
    self: HybridRecommender, ratings: dict, k: int = 10, genre: str | None = None
) -> Recommendations:
    allowed = self.genre_mask(genre).copy()
    rated = self.movie_positions(np.fromiter(ratings.keys(), np.int64, len(ratings)))
    allowed[rated[rated >= 0]] = False
    known = {m: float(r) for m, r in ratings.items() if self.movie_positions([m])[0] >= 0}
    if not known:
        return Recommendations(self._cold_start(k, allowed), fallback=Fallback.COLD_START)
    candidates = np.ones(self.n_movies, bool)
    candidates[rated[rated >= 0]] = False
    raw = {n: self._aligned(n, v) for n, v in self._profile_own_scores(known, True).items()}
    total, z = _blend_before(self, raw, candidates, fold_in=True)
    used = [n for n in z if self.components[n].personal] or list(z)
    items = _items_before(self, total, z, allowed, k)
    return Recommendations(items, fallback=Fallback.FOLD_IN, used=tuple(used))


BEFORE = [
    (EASERecommender, "_score_profile", ease_before),
    (ItemKNNRecommender, "_score_profile", knn_before),
    (ContentRecommender, "_score_profile", content_before),
    (SVDRecommender, "_score_all", svd_all_before),
    (SVDRecommender, "_score_profile", svd_profile_before),
    (SVDRecommender, "fold_in", svd_fold_in_before),
    (Explainer, "_cosines", cosines_before),
    (HybridRecommender, "recommend_items", recommend_items_before),
    (HybridRecommender, "recommend_from_ratings", recommend_from_ratings_before),
]


@pytest.fixture(scope="module")
def model_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    demo = generate_demo(seed=5, n_movies=400, n_users=150, mean_ratings_per_user=40)
    train, valid, _ = train_valid_test(demo.ratings, SplitConfig(), seed=5)
    model = train_hybrid(train, valid, demo.catalogue, ModelConfig(), seed=5)
    path = tmp_path_factory.mktemp("equivalence") / "bundle"
    return bundle.save(path, model, demo.catalogue, {"purpose": "equivalence"})


def answers(path: Path, users: list[int], movies: list[int]) -> list[dict]:
    service = RecommenderService(bundle.load(path))  # built under the active implementation
    service._answers.max_entries = 0  # every answer computed
    out = []
    for user in users:
        out.append(service.handle({"kind": "recommend", "user_id": user, "k": 20}))
        out.append(service.handle({"kind": "recommend", "user_id": user, "genre": "Drama"}))
    for movie in movies:
        out.append(service.handle({"kind": "similar", "movie_id": movie, "k": 20}))
    profile = json.dumps(dict(zip(map(str, movies[:3]), (5, 2, 4), strict=True)))
    out.append(service.handle({"kind": "recommend", "ratings": profile, "k": 20}))
    return out


def same_answers(now: list[dict], then: list[dict]) -> None:
    assert len(now) == len(then)
    for a, b in zip(now, then, strict=True):
        assert [it["movie_id"] for it in a["items"]] == [it["movie_id"] for it in b["items"]]
        assert [it["reasons"] for it in a["items"]] == [it["reasons"] for it in b["items"]]
        np.testing.assert_allclose(
            [it["score"] for it in a["items"]], [it["score"] for it in b["items"]], atol=2e-6
        )


def test_served_answers_are_the_previous_implementations_answers(
    model_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = bundle.load(model_path).model
    assert isinstance(model, HybridRecommender)
    rng = np.random.default_rng(0)
    users = sorted(int(u) for u in rng.choice(model.user_ids, 60, replace=False))
    movies = sorted(int(m) for m in rng.choice(model.movie_ids, 40, replace=False))
    now = answers(model_path, users, movies)
    with monkeypatch.context() as patch:
        for cls, name, function in BEFORE:
            patch.setattr(cls, name, function)
        then = answers(model_path, users, movies)
    same_answers(now, then)


def test_component_scores_equal_the_previous_ones(model_path: Path) -> None:
    model = bundle.load(model_path).model
    assert isinstance(model, HybridRecommender)
    checked = set()
    for comp in model.components.values():
        for uidx in range(0, comp.n_users, 7):
            rows, ratings = comp.seen(uidx)
            if isinstance(comp, EASERecommender):
                binary = comp.weighting == "binary"
                got, want = comp._score_profile(rows, ratings), ease_before(comp, rows, ratings)
                if binary:  # the same float32 additions in the same order: bit for bit
                    np.testing.assert_array_equal(got, want)
                else:  # weighted: BLAS's gemv adds in another order
                    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
                checked.add(f"ease:{comp.weighting}")
            elif isinstance(comp, ItemKNNRecommender):
                got, want = comp._score_profile(rows, ratings), knn_before(comp, rows, ratings)
                np.testing.assert_array_equal(got, want)
                checked.add("itemknn")
            elif isinstance(comp, ContentRecommender):
                got = comp._score_profile(rows, ratings)
                np.testing.assert_array_equal(got, content_before(comp, rows, ratings))
                checked.add("content")
            elif isinstance(comp, SVDRecommender):
                got, want = comp._score_all(uidx), svd_all_before(comp, uidx)
                np.testing.assert_allclose(got, want, rtol=1e-6)
                got = comp._score_profile(rows[:5], ratings[:5])
                np.testing.assert_allclose(got, svd_profile_before(comp, rows[:5], ratings[:5]))
                checked.add("svd")
    assert checked == {"ease:binary", "ease:centered", "itemknn", "content", "svd"}


@pytest.mark.parametrize("ratio", [0, 10**9], ids=["columns", "mat-vec"])
def test_content_short_profiles_score_as_the_full_mat_vec(
    model_path: Path, monkeypatch: pytest.MonkeyPatch, ratio: int
) -> None:
    """A profile of a few movies (`similar`, a newcomer) is scored from its features' columns
    or by the mat-vec (ratio 0 forces the first, a huge ratio the second): the same scores as
    the previous mat-vec over a dense profile, up to the order of the additions."""
    monkeypatch.setattr(content_module, "SPARSE_PROFILE_RATIO", ratio)
    comp = bundle.load(model_path).model.components["content"]
    assert isinstance(comp, ContentRecommender)
    rng = np.random.default_rng(3)
    columns_read = 0
    for n in (1, 1, 2, 3):
        for _ in range(25):
            rows = np.sort(rng.choice(comp.n_movies, n, replace=False))
            ratings = rng.choice([1.0, 3.0, 4.0, 4.5, 5.0], n)
            entries = int(np.diff(comp.item_matrix.indptr)[rows].sum())
            columns_read += ratio == 0 and entries <= content_module.SPARSE_PROFILE_ENTRIES
            got = comp._score_profile(rows, ratings)
            want = content_before(comp, rows, ratings)
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)
    assert columns_read > 50 or ratio != 0  # the columns' path was exercised


def test_svd_fold_in_of_few_ratings_is_the_ridge_solution(model_path: Path) -> None:
    """Fewer ratings than factors: the n x n system gives the k x k system's (bu, pu)."""
    comp = bundle.load(model_path).model.components["svd"]
    assert isinstance(comp, SVDRecommender)
    rng = np.random.default_rng(4)
    for n in (1, 2, 5, comp.n_factors - 1, comp.n_factors, comp.n_factors + 3):
        rows = rng.choice(comp.n_movies, min(n, comp.n_movies), replace=False)
        ratings = rng.choice([0.5, 2.0, 3.5, 5.0], len(rows))
        bu, pu = comp.fold_in(rows, ratings)
        want_bu, want_pu = svd_fold_in_before(comp, rows, ratings)
        assert bu == want_bu
        np.testing.assert_allclose(pu, want_pu, rtol=1e-9, atol=1e-12)


def test_sum_rows_is_the_plain_or_weighted_sum_of_the_rows() -> None:
    rng = np.random.default_rng(1)
    matrix = rng.normal(size=(50, 30)).astype(np.float32)
    rows = np.array([3, 7, 7, 0, 49])  # repeated rows count twice, like matrix[rows].sum(0)
    np.testing.assert_array_equal(sum_rows(matrix, rows, None), matrix[rows].sum(axis=0))
    weights = rng.uniform(0.1, 2, size=len(rows)).astype(np.float32)
    np.testing.assert_allclose(sum_rows(matrix, rows, weights), weights @ matrix[rows], rtol=1e-5)
    assert sum_rows(matrix, rows, None).dtype == np.float32
    for one, weight in ((np.array([4]), None), (np.array([4]), np.float32([1.7]))):
        got = sum_rows(matrix, one, weight)  # the one-row path: the same as the sparse product
        want = np.asarray(one_row(one, weight, 50, np.float32) @ matrix).ravel()
        np.testing.assert_array_equal(got, want)
        assert got.dtype == np.float32 and not np.shares_memory(got, matrix)


def test_explainer_cosines_equal_the_sparse_products(model_path: Path) -> None:
    loaded = bundle.load(model_path)
    explainer = Explainer(loaded.model, loaded.catalogue)
    rng = np.random.default_rng(2)
    n = explainer._matrix.shape[0]
    for _ in range(30):
        left = [int(i) for i in rng.choice(n, int(rng.integers(1, 50)), replace=False)]
        right = [int(i) for i in rng.choice(n, int(rng.integers(1, 20)), replace=False)]
        np.testing.assert_allclose(
            explainer._cosines(left, right), cosines_before(explainer, left, right), atol=1e-6
        )
    empty = sparse.csr_matrix((3, 4), dtype=np.float32)  # rows without any feature
    explainer._matrix = empty
    assert explainer._cosines([0, 1], [2]).tolist() == [[0.0], [0.0]]
