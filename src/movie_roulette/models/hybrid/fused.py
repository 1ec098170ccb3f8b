"""The served blend in a few passes per component: z-scores kept as affine maps, not arrays.

`blend.zscore` materialises each component's z-scores over every movie (a masked copy of the
candidates, a finite filter, mean, std, the z array, a `where` for unknown movies) and the blend
then adds them up: ~8 passes over the catalogue per component, 1.6 ms of a 25M-rating request's
6.3 ms (docs/scale.md 6f). A z-score is affine in the component's score, so the weighted sum
only needs each component's mean and standard deviation over the candidates (all movies minus
the excluded ones): the sum and the sum of squares over every movie (two BLAS passes) minus
those over the few excluded movies. The blend is then `sum_i (w_i / std_i) * v_i` (one pass
per component) plus, per movie, constants that are the same for all movies but the ones a
component does not know; the z-score of one component at one movie is computed only for the
top-k picks (their reasons). Same answers as `blend.zscore` up to rounding (~1e-12 relative);
`tests/unit/models/test_fused_blend.py` checks it against the materialised blend.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy.linalg import blas

from movie_roulette.models.component_api import ScoreScale
from movie_roulette.models.hybrid import blend

# below this ratio of variance to squared mean, the one-pass variance loses digits: two passes
_CANCELLATION = 1e-8


@dataclass(frozen=True)
class ZMap:
    """One component's z-score as an affine map of its (scaled) score over the candidates:
    z = factor * (v - mean) / std; `floor` (already times `factor`) where it does not know the
    movie. `factor` < 1 is the fold-in calibration (`blend.calibrate`)."""

    mean: float
    std: float
    floor: float
    factor: float = 1.0

    def z(self, values: np.ndarray) -> np.ndarray:
        """z-scores of scaled scores; NaN (unknown movie) -> `floor`."""
        z = self.factor * (np.asarray(values, np.float64) - self.mean) / self.std
        return np.where(np.isfinite(z), z, self.floor)


def _masked_extreme(v: np.ndarray, excluded: np.ndarray, highest: bool) -> float:
    """max (or min) of v outside `excluded` positions."""
    value = float(v.max() if highest else v.min())
    if len(excluded) and (v[excluded] == value).any():
        keep = np.ones(len(v), bool)
        keep[excluded] = False
        rest = v[keep]
        value = float(rest.max() if highest else rest.min())
    return value


def zmap(
    v: np.ndarray,
    excluded: np.ndarray,
    calibrate_to: float | None = None,
    sums: tuple[float, float] | None = None,
    floor: bool = True,
) -> ZMap | None:
    """The z-map of `v` (float64 scores, all finite, over the movies a component knows) over the
    candidates: every position but `excluded` (unique positions). None where `blend.zstats` is
    None (fewer than two candidates, or no spread): the component's z is 0 everywhere. `sums`:
    v's sum and sum of squares when known; `floor` False: no floor needed (NaN), one pass less."""
    n = len(v) - len(excluded)
    if n < 2:
        return None
    if sums is None:
        sums = float(v.sum()), float(v @ v)
    out = v[excluded]
    total, squares = sums[0] - float(out.sum()), sums[1] - float(out @ out)
    mean = total / n
    var = squares / n - mean * mean
    if var <= _CANCELLATION * mean * mean:  # exact two-pass statistics (rare: near-constant v)
        keep = np.ones(len(v), bool)
        keep[excluded] = False
        stats = blend.zstats(v, keep)
        if stats is None:
            return None
        mean, std, _ = stats
    else:
        std = float(np.sqrt(var))
    if std <= 1e-12:
        return None
    lowest = (_masked_extreme(v, excluded, highest=False) - mean) / std if floor else math.nan
    factor = 1.0
    if calibrate_to is not None:
        top = (_masked_extreme(v, excluded, highest=True) - mean) / std
        factor = calibrate_to / top if top > calibrate_to > 0 else 1.0
    return ZMap(mean, std, lowest * factor, factor)


@dataclass
class Alignment:
    """Where one component's movies sit among the blend's: `known` blend positions it knows,
    `source` its own positions of them, `inverse` each blend position's index in `known` (-1:
    unknown), `unknown` the blend positions it does not know, `scale` its score scale."""

    known: np.ndarray
    source: np.ndarray
    inverse: np.ndarray
    unknown: np.ndarray
    identity: bool  # source is 0..n-1 and known is every blend position
    scale: ScoreScale
    # (scores array, its scaled values, their sum, sum of squares): a component whose scores are
    # the same for everyone (popularity) is scaled and summed once, not per request
    _fixed: tuple[np.ndarray, np.ndarray, float, float] | None = field(default=None, repr=False)

    @classmethod
    def of(cls, positions: np.ndarray, scale: ScoreScale) -> Alignment:
        """From the component's position of each blend movie (-1: unknown)."""
        known = np.flatnonzero(positions >= 0)
        source = positions[known].astype(np.int64)
        inverse = np.full(len(positions), -1, np.int64)
        inverse[known] = np.arange(len(known))
        identity = len(known) == len(positions) and bool((source == np.arange(len(source))).all())
        return cls(known, source, inverse, np.flatnonzero(positions < 0), identity, scale)

    def values(self, own: np.ndarray) -> np.ndarray:
        """The component's scores (its own positions) at the known blend positions, float64,
        on the blend's scale."""
        own = np.asarray(own)
        v = (
            own.astype(np.float64)
            if self.identity
            else own[self.source].astype(np.float64, copy=False)
        )
        return blend.scaled(self.scale, v)

    def remember(self, own: np.ndarray) -> None:
        """`own` will be passed again unchanged (the scores of a non-personal component)."""
        v = self.values(own)
        v.flags.writeable = False
        self._fixed = (own, v, float(v.sum()), float(v @ v))

    def prepared(self, own: np.ndarray) -> tuple[np.ndarray, tuple[float, float], bool]:
        """(scaled values at the known blend positions, their sum and sum of squares, shared):
        `shared` values belong to the alignment (`remember`) and must not be modified."""
        if self._fixed is not None and self._fixed[0] is own:
            return self._fixed[1], (self._fixed[2], self._fixed[3]), True
        v = self.values(own)
        with np.errstate(invalid="ignore", over="ignore"):  # non-finite scores: see fused_blend
            sums = float(v.sum()), float(v @ v)
        return v, sums, False

    def at(self, own: np.ndarray, blend_positions: np.ndarray) -> np.ndarray:
        """Scaled scores at a few blend positions (NaN where unknown)."""
        idx = self.inverse[blend_positions]
        out = np.full(len(idx), np.nan)
        ok = idx >= 0
        out[ok] = np.asarray(own)[self.source[idx[ok]]]
        return blend.scaled(self.scale, out)


@dataclass
class Blend:
    """The blended ranking score of one request: `total[j] + offset` for movie j; `maps` the
    z-map of each weighted component (None: z = 0), `own` their raw scores, for the picks'
    per-component z-scores."""

    total: np.ndarray
    offset: float
    maps: dict[str, ZMap | None]
    own: dict[str, np.ndarray]

    def scores(self) -> np.ndarray:
        return self.total + self.offset

    def z_at(
        self, alignments: dict[str, Alignment], positions: np.ndarray
    ) -> dict[str, np.ndarray]:
        """Each component's z-score at the given blend positions."""
        out = {}
        for name, zm in self.maps.items():
            if zm is None:
                out[name] = np.zeros(len(positions))
            else:
                out[name] = zm.z(alignments[name].at(self.own[name], positions))
        return out


def fused_blend(
    own: dict[str, np.ndarray],
    weights: dict[str, float],
    alignments: dict[str, Alignment],
    n_movies: int,
    excluded: np.ndarray,
    top_z: dict[str, float] | None = None,
) -> Blend:
    """Weighted sum of each component's z-scores over the blend's `n_movies`, z-scored over all
    movies but `excluded` (unique blend positions); `own`: each component's raw scores over its
    own movies. `top_z` (fold-in): calibrate each component to its validation top z."""
    total = np.zeros(n_movies)
    offset = 0.0
    maps: dict[str, ZMap | None] = {}
    for name, scores in own.items():
        w = weights.get(name, 0.0)
        if w == 0.0:
            continue
        al = alignments[name]
        v, sums, shared = al.prepared(scores)
        inside = al.inverse[excluded]
        inside = inside[inside >= 0]
        broken = np.empty(0, np.int64)
        if not (math.isfinite(sums[0]) and math.isfinite(sums[1])):
            # NaN or infinite scores are read as unknown, as `blend.zscore` does
            broken = np.flatnonzero(~np.isfinite(v))
            v = v.copy() if shared else v
            v[broken] = 0.0
            inside = np.union1d(inside, broken)
            sums = None
        floor = len(al.unknown) > 0 or len(broken) > 0
        zm = zmap(v, inside, None if top_z is None else top_z.get(name), sums, floor)
        maps[name] = zm
        if zm is None:
            continue
        a = w * zm.factor / zm.std
        # movies it does not know get the floor; `offset` takes the -a * mean back from them
        at_floor = w * zm.floor + a * zm.mean if floor else 0.0
        if al.identity:
            blas.daxpy(v, total, a=a)  # total += a * v, one pass, v untouched
        else:
            part = v * a
            if len(al.unknown) > len(al.known):  # most movies unknown: add to all, contiguous
                total += at_floor
                part -= at_floor
                total[al.known] += part
            else:
                total[al.known] += part
                total[al.unknown] += at_floor
        if len(broken):
            total[al.known[broken]] += at_floor
        offset -= a * zm.mean
    return Blend(total, offset, maps, dict(own))
