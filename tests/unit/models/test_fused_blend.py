"""The served blend (`models.hybrid.fused`) equals the materialised one (`blend.zscore` of every
component over every movie, then the weighted sum), including unknown movies, non-finite scores,
log1p scales, fold-in calibration and scores with a large mean and a tiny spread."""

from __future__ import annotations

import numpy as np
import pytest

from movie_roulette.models.base import top_k_indices
from movie_roulette.models.hybrid import blend, fused


def materialised(
    own: dict[str, np.ndarray],
    positions: dict[str, np.ndarray],
    scales: dict[str, str],
    weights: dict[str, float],
    n: int,
    excluded: np.ndarray,
    top_z: dict[str, float] | None,
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    candidates = np.ones(n, bool)
    candidates[excluded] = False
    total, zs = np.zeros(n), {}
    for name, values in own.items():
        if weights.get(name, 0.0) == 0.0:
            continue
        z = blend.zscore(blend.aligned(values, positions[name], scales[name]), candidates)
        if top_z is not None:
            z = blend.calibrate(z, candidates, top_z.get(name))
        zs[name] = z
        total += weights[name] * z
    return total, zs


def case(seed: int, n: int = 300) -> tuple:
    rng = np.random.default_rng(seed)
    positions = {
        "everything": np.arange(n),  # identity
        "shuffled": rng.permutation(n),  # knows every movie, in another order
        "capped": np.where(rng.random(n) < 0.6, -1, 0),  # knows 40 %
        "counts": np.arange(n),  # log1p scale
        "unweighted": np.arange(n),
    }
    known = positions["capped"] >= 0
    positions["capped"][known] = rng.permutation(int(known.sum()))
    own = {
        "everything": rng.normal(size=n).astype(np.float32),
        "shuffled": rng.normal(3.5, 0.4, size=n),
        "capped": rng.gumbel(size=int(known.sum())).astype(np.float32),
        "counts": rng.poisson(20, size=n).astype(np.float64),
        "unweighted": rng.normal(size=n),
    }
    scales = {name: "raw" for name in own} | {"counts": "log1p"}
    weights = {"everything": 0.7, "shuffled": 0.2, "capped": 1.3, "counts": 0.4, "unweighted": 0}
    excluded = np.unique(rng.choice(n, 25, replace=False))
    return own, positions, scales, weights, excluded


def alignments(positions: dict, scales: dict) -> dict[str, fused.Alignment]:
    return {name: fused.Alignment.of(pos, scales[name]) for name, pos in positions.items()}


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("top_z", [None, {"everything": 1.5, "capped": 0.8, "counts": 9.0}])
def test_fused_blend_equals_the_materialised_blend(seed: int, top_z: dict | None) -> None:
    own, positions, scales, weights, excluded = case(seed)
    n = len(positions["everything"])
    mixed = fused.fused_blend(own, weights, alignments(positions, scales), n, excluded, top_z)
    total, zs = materialised(own, positions, scales, weights, n, excluded, top_z)
    np.testing.assert_allclose(mixed.scores(), total, rtol=1e-10, atol=1e-10)
    assert set(mixed.maps) == set(zs) == {"everything", "shuffled", "capped", "counts"}
    picks = np.array([0, 5, 17, 120, n - 1])
    got = mixed.z_at(alignments(positions, scales), picks)
    for name, z in zs.items():
        np.testing.assert_allclose(got[name], z[picks], rtol=1e-10, atol=1e-10)


def test_non_finite_scores_count_as_unknown_like_zscore() -> None:
    own, positions, scales, weights, excluded = case(3)
    own["everything"] = own["everything"].copy()
    own["everything"][[2, 40, 41]] = [np.nan, np.inf, -np.inf]
    n = len(positions["everything"])
    mixed = fused.fused_blend(own, weights, alignments(positions, scales), n, excluded, None)
    total, zs = materialised(own, positions, scales, weights, n, excluded, None)
    np.testing.assert_allclose(mixed.scores(), total, rtol=1e-10, atol=1e-10)
    got = mixed.z_at(alignments(positions, scales), np.array([2, 40, 41, 3]))
    np.testing.assert_allclose(got["everything"], zs["everything"][[2, 40, 41, 3]], atol=1e-10)


def test_zmap_matches_zstats_and_handles_degenerate_scores() -> None:
    rng = np.random.default_rng(4)
    v = rng.normal(1e6, 1e-3, size=500)  # a large mean and a tiny spread: two-pass statistics
    excluded = np.array([0, 9, 499])
    keep = np.ones(500, bool)
    keep[excluded] = False
    zm = fused.zmap(v, excluded)
    mean, std, floor = blend.zstats(v, keep)
    assert zm is not None
    assert zm.mean == pytest.approx(mean, rel=1e-14)
    assert zm.std == pytest.approx(std, rel=1e-6)
    assert zm.floor == pytest.approx(floor, rel=1e-5)
    assert fused.zmap(np.full(10, 2.5), np.array([1])) is None  # no spread: z = 0
    assert fused.zmap(np.arange(3.0), np.array([0, 1])) is None  # one candidate left
    # the minimum sits at an excluded movie: the floor is the candidates' minimum
    w = np.array([-9.0, 1.0, 2.0, 3.0])
    zm = fused.zmap(w, np.array([0]))
    assert zm is not None and zm.floor == pytest.approx((1.0 - 2.0) / np.std([1.0, 2, 3]))


def test_a_weightless_blend_is_all_zeros() -> None:
    own, positions, scales, _, excluded = case(5)
    n = len(positions["everything"])
    mixed = fused.fused_blend(own, {}, alignments(positions, scales), n, excluded, None)
    assert not mixed.scores().any() and mixed.maps == {}


@pytest.mark.parametrize("n", [50, 9_000, 62_000])
def test_top_k_of_finite_scores_equals_the_general_top_k(n: int) -> None:
    """`top_k_indices(finite=True)` (a sampled threshold on large catalogues) gives the general
    path's answer: ties by the lower index, -inf left out, fewer finite scores than k."""
    rng = np.random.default_rng(n)
    for trial in range(20):
        scores = rng.normal(size=n).round(1 if trial % 2 else 6)  # rounded: many ties
        scores[rng.choice(n, n // 3, replace=False)] = -np.inf
        if trial == 3:  # one outlier far above the rest: the sampled threshold may miss
            scores[7] = 1e9
        if trial == 4:  # fewer finite scores than k
            scores[:] = -np.inf
            scores[[3, 11]] = [1.0, 2.0]
        for k in (1, 10, 20, 200):
            np.testing.assert_array_equal(
                top_k_indices(scores, k, finite=True), top_k_indices(scores, k)
            )
