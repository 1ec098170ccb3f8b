"""Behavioural checks of a hybrid recommender: properties any sane model must have."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import pandas as pd

from movie_roulette import columns as C
from movie_roulette.evaluation.seen import SeenRatings
from movie_roulette.evaluation.threads import one_blas_thread
from movie_roulette.exceptions import BehaviouralCheckFailed


class HybridLike(Protocol):
    def recommend_items(
        self, user_id: int, k: int = 10, exclude_seen: bool = True, genre: str | None = None
    ) -> Any: ...

    def recommend_from_ratings(
        self, ratings: Mapping[int, float], k: int = 10, genre: str | None = None
    ) -> Any: ...


@dataclass
class BehaviourReport:
    passed: bool
    checks: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"passed": self.passed, "checks": [dict(c) for c in self.checks]}

    def to_text(self) -> str:
        n_failed = sum(not c["passed"] for c in self.checks)
        status = "PASSED" if self.passed else "FAILED"
        lines = [f"Behavioural checks {status}: {n_failed} of {len(self.checks)} failed."]
        for check in self.checks:
            mark = "ok    " if check["passed"] else "FAILED"
            lines.append(f"  {mark} {check['name']}: {check['detail']}")
        return "\n".join(lines)


def raise_for_failure(report: BehaviourReport) -> None:
    if not report.passed:
        raise BehaviouralCheckFailed(report.to_text())


def _ids(recs: Any) -> list[Any]:
    items = getattr(recs, "items", recs)
    return [it[0] if isinstance(it, tuple | list) else it.movie_id for it in items]


def _scores(recs: Any) -> list[float]:
    items = getattr(recs, "items", recs)
    return [float(it[1] if isinstance(it, tuple | list) else it.score) for it in items]


def _genres(catalogue: pd.DataFrame) -> dict[Any, set[str]]:
    values = catalogue[C.GENRES].fillna("").astype(str)
    return {
        mid: {g for g in text.split("|") if g and g != "(no genres listed)"}
        for mid, text in zip(catalogue[C.MOVIE_ID], values, strict=True)
    }


def _share(ids: Sequence[Any], genre: str, genres: Mapping[Any, set[str]]) -> float:
    return sum(genre in genres.get(i, set()) for i in ids) / len(ids) if ids else 0.0


@dataclass
class _Context:
    model: HybridLike
    train: SeenRatings
    catalogue: pd.DataFrame
    k: int
    users: list[Any]
    recs: dict[Any, Any]
    genres: dict[Any, set[str]]


def _check_no_seen(ctx: _Context) -> tuple[bool, str]:
    seen = ctx.train.rows_of(C.USER_ID, ctx.users).groupby(C.USER_ID)[C.MOVIE_ID]
    seen_by_user = {u: set(m) for u, m in seen}
    bad = {u: sorted(set(_ids(ctx.recs[u])) & seen_by_user.get(u, set()))[:5] for u in ctx.users}
    bad = {u: m for u, m in bad.items() if m}
    if bad:
        first = next(iter(bad.items()))
        return False, (
            f"{len(bad)} of {len(ctx.users)} users got movies they already rated, "
            f"e.g. user {first[0]}: {first[1]}"
        )
    return True, f"none of {len(ctx.users)} sampled users got a movie they already rated"


def _check_k_unique_known(ctx: _Context) -> tuple[bool, str]:
    known = set(ctx.catalogue[C.MOVIE_ID])
    problems = []
    for u in ctx.users:
        ids = _ids(ctx.recs[u])
        if len(ids) != ctx.k:
            problems.append(f"user {u}: {len(ids)} items instead of {ctx.k}")
        elif len(set(ids)) != len(ids):
            problems.append(
                f"user {u}: duplicate ids {sorted({i for i in ids if ids.count(i) > 1})}"
            )
        elif not set(ids) <= known:
            problems.append(f"user {u}: ids not in the catalogue {sorted(set(ids) - known)[:5]}")
    if problems:
        return False, f"{len(problems)} of {len(ctx.users)} lists are wrong: " + "; ".join(
            problems[:3]
        )
    return True, f"{len(ctx.users)} lists of exactly {ctx.k} unique catalogue movies"


def _check_deterministic(ctx: _Context, n: int = 5) -> tuple[bool, str]:
    for u in ctx.users[:n]:
        again = ctx.model.recommend_items(u, k=ctx.k, exclude_seen=True)
        first = ctx.recs[u]
        if _ids(again) != _ids(first) or _scores(again) != _scores(first):
            return False, f"user {u}: two identical calls gave {_ids(first)} then {_ids(again)}"
        if getattr(again, "fallback", None) != getattr(first, "fallback", None):
            return False, f"user {u}: fallback changed between two identical calls"
    return True, f"repeated calls for {min(n, len(ctx.users))} users gave identical output"


def _pick_genre(ctx: _Context, fan_size: int, baseline: Mapping[str, float]) -> str | None:
    counts: dict[str, int] = {}
    for gs in ctx.genres.values():
        for g in gs:
            counts[g] = counts.get(g, 0) + 1
    enough = [g for g, n in counts.items() if n >= 3 * fan_size]
    # the most common genre that real users are not already shown half of the time
    candidates = sorted(
        (g for g in enough if baseline.get(g, 0.0) < 0.5), key=lambda g: (-counts[g], g)
    )
    return candidates[0] if candidates else None


def _genre_fan_movies(ctx: _Context, genre: str, fan_size: int) -> list[int]:
    """The fan's favourites: popular movies that are *about* the genre.

    Among the genre's movies in the more popular half (so the model knows them well), the
    ones with the fewest other genres come first, then the most popular: a fan whose high
    ratings are all in one genre, not a fan of multi-genre blockbusters that merely list it.
    """
    frame = ctx.catalogue[[C.MOVIE_ID, C.POPULARITY]].drop_duplicates(C.MOVIE_ID)
    frame = frame[[genre in ctx.genres.get(m, set()) for m in frame[C.MOVIE_ID]]]
    if frame.empty:
        return []
    frame = frame[frame[C.POPULARITY] >= frame[C.POPULARITY].median()].copy()
    frame["n_genres"] = [len(ctx.genres.get(m, set())) for m in frame[C.MOVIE_ID]]
    frame = frame.sort_values(["n_genres", C.POPULARITY, C.MOVIE_ID], ascending=[True, False, True])
    return [int(m) for m in frame[C.MOVIE_ID].head(fan_size)]


def _check_genre_fan(
    ctx: _Context, fan_size: int, min_gain: float, min_ratio: float, genre: str | None
) -> tuple[bool, str]:
    lists = [_ids(ctx.recs[u]) for u in ctx.users]
    all_genres = {g for gs in ctx.genres.values() for g in gs}
    baseline = {
        g: float(np.mean([_share(ids, g, ctx.genres) for ids in lists])) for g in all_genres
    }
    genre = genre or _pick_genre(ctx, fan_size, baseline)
    if genre is None:
        return False, f"no genre has at least {3 * fan_size} movies; cannot build a genre fan"
    liked = _genre_fan_movies(ctx, genre, fan_size)
    recs = ctx.model.recommend_from_ratings({int(m): 5.0 for m in liked}, k=ctx.k)
    fan_share = _share(_ids(recs), genre, ctx.genres)
    base = baseline.get(genre, 0.0)
    gain_ok = fan_share - base >= min_gain
    ratio_ok = base > 0 and fan_share >= min_ratio * base
    which = []
    if gain_ok:
        which.append(f"gain >= +{min_gain:.2f}")
    if ratio_ok:
        which.append(f"ratio >= {min_ratio:g}x")
    verdict = (
        "met " + " and ".join(which)
        if which
        else (f"needs +{min_gain:.2f} absolute or {min_ratio:g}x")
    )
    detail = (
        f"a fan who rated {len(liked)} popular mostly-{genre} movies 5.0 got "
        f"{fan_share:.0%} {genre} in the top {ctx.k}, "
        f"vs {base:.0%} for {len(lists)} real users ({verdict})"
    )
    return gain_ok or ratio_ok, detail


def _check_cold_start(ctx: _Context) -> tuple[bool, str]:
    unknown = int(ctx.train.max(C.USER_ID)) + 1000
    recs = ctx.model.recommend_items(unknown, k=ctx.k, exclude_seen=True)
    ids = _ids(recs)
    fallback = getattr(recs, "fallback", None)
    ok = len(ids) == ctx.k and len(set(ids)) == ctx.k and fallback is not None
    return bool(
        ok
    ), f"unknown user {unknown} got {len(set(ids))} unique movies, fallback={fallback!r}"


def _check_serve_pool(ctx: _Context, max_changed: float) -> tuple[bool, str]:
    """A model serving known users from a head pool (`serve_pool`, models/hybrid/pool.py) gives
    the sampled users the lists it gives them scoring every movie, but for `max_changed`."""
    size = getattr(ctx.model, "serve_pool", None)
    if size is None:
        return True, "no serve_pool: every movie is scored"
    if not getattr(ctx.model, "pool_in_use", lambda: True)():
        return True, f"serve_pool {size} is not used on this catalogue: every movie is scored"
    try:
        ctx.model.serve_pool = None  # type: ignore[attr-defined]
        whole = {u: _ids(ctx.model.recommend_items(u, k=ctx.k)) for u in ctx.users}
    finally:
        ctx.model.serve_pool = size  # type: ignore[attr-defined]
    changed = [u for u in ctx.users if whole[u] != _ids(ctx.recs[u])]
    detail = (
        f"scoring only the {size} most-rated movies (model.serve_pool) changed {len(changed)} of "
        f"{len(ctx.users)} sampled users' top-{ctx.k} (at most {max_changed:.0%} may change)"
    )
    if len(changed) > max_changed * len(ctx.users):
        return False, f"{detail}, e.g. user {changed[0]}: raise model.serve_pool or set it to null"
    return True, detail


@one_blas_thread
def run_behavioural_checks(
    model: HybridLike,
    train: pd.DataFrame | SeenRatings,
    catalogue: pd.DataFrame,
    k: int = 10,
    seed: int = 42,
    sample_users: int = 50,
    *,
    fan_size: int = 10,
    min_genre_gain: float = 0.25,
    min_genre_ratio: float = 2.0,
    genre: str | None = None,
    max_pool_changed: float = 0.05,
) -> BehaviourReport:
    """Run the six behavioural checks; a check that raises counts as failed (never crashes).

    genre_fan passes when the fan's share of the genre beats the sampled real users' average
    share by `min_genre_gain` (absolute) or by a factor of `min_genre_ratio`; the detail says
    which criterion was met. serve_pool passes when the model scores every movie, or when its
    head pool changes at most `max_pool_changed` of the sampled users' lists.
    """
    if k < 1:
        raise ValueError(f"k: {k} must be at least 1.")
    if sample_users < 1:
        raise ValueError(f"sample_users: {sample_users} must be at least 1.")
    rng = np.random.default_rng(seed)
    train = SeenRatings.of(train)
    all_users = train.unique(C.USER_ID)
    size = min(sample_users, all_users.size)
    users = sorted(rng.choice(all_users, size=size, replace=False).tolist())
    recs = {u: model.recommend_items(u, k=k, exclude_seen=True) for u in users}
    ctx = _Context(model, train, catalogue, k, users, recs, _genres(catalogue))
    checks: list[tuple[str, Callable[[], tuple[bool, str]]]] = [
        ("no_seen_movies", lambda: _check_no_seen(ctx)),
        ("k_unique_known", lambda: _check_k_unique_known(ctx)),
        ("deterministic", lambda: _check_deterministic(ctx)),
        (
            "genre_fan",
            lambda: _check_genre_fan(ctx, fan_size, min_genre_gain, min_genre_ratio, genre),
        ),
        ("cold_start", lambda: _check_cold_start(ctx)),
        ("serve_pool", lambda: _check_serve_pool(ctx, max_pool_changed)),
    ]
    results = []
    for name, check in checks:
        try:
            passed, detail = check()
        except Exception as err:  # noqa: BLE001 - a crashing check is a failed check
            passed, detail = False, f"raised {type(err).__name__}: {err}"
        results.append({"name": name, "passed": bool(passed), "detail": detail})
    return BehaviourReport(passed=all(r["passed"] for r in results), checks=results)
