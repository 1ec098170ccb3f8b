"""The model-card audit: who the model serves well or badly, what it exposes, and why it ranks.

`audit_model(model, seen, test, catalogue, settings, users=None)` measures one fitted model on a
held-out split (`seen`: the ratings the model was fitted on; `test`: the held-out ratings):

* popularity bias: share of recommendations from the long tail (the least-rated
  `long_tail_share` of the catalogue's movies, by rating count in `seen`) vs that share in the
  users' own histories, exposure Gini over the catalogue, ARP@k and popularity lift;
* per user group (activity terciles, mainstreamness terciles, the columns of an optional users
  table): NDCG@k, recall@k, coverage@k, the popularity figures and genre miscalibration (KL
  divergence between the genre mix of the history and of the top-k, Steck 2018);
* item-side exposure by release decade and by genre vs their share in the catalogue and ratings;
* explainability (hybrid models only): blend weights, each component's mean share of the score,
  the exact per-component decomposition of a sample of users' top-k, and a counterfactual check
  of the "because you rated X highly" reason.

Groups with fewer than `min_group_users` users are reported as too small (no numbers). The
metrics are those of `evaluation.metrics` (the same NDCG@k as the offline evaluation).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from movie_roulette import columns as C
from movie_roulette.config import AUDIT_METRICS
from movie_roulette.evaluation import metrics as M
from movie_roulette.evaluation.seen import SeenRatings
from movie_roulette.evaluation.threads import one_blas_thread
from movie_roulette.explain import Explainer
from movie_roulette.features.text import split_genres
from movie_roulette.fingerprint import frame_checksum

ACTIVITY = "activity"
MAINSTREAM = "mainstream"
ALL = "all"
TERCILES = {ACTIVITY: ("light", "medium", "heavy"), MAINSTREAM: ("niche", "middle", "mainstream")}
DEMOGRAPHIC_COLUMNS = ("age_group", "age", "gender", "occupation")
CALIBRATION_ALPHA = 0.01  # q~ = (1 - a) q + a p keeps KL(p || q~) finite (Steck 2018)
UNKNOWN_DECADE = "unknown"
# figures where a higher value is better (the gate reads this); the others are "lower is better"
HIGHER_IS_BETTER = {"ndcg": True, "recall": True, "coverage": True, "long_tail_share": True}
GROUP_METRICS = AUDIT_METRICS


@dataclass(frozen=True)
class AuditSettings:
    k: int = 10
    threshold: float = 4.0  # a test rating at or above it is relevant
    long_tail_share: float = 0.8  # the least-rated share of the catalogue that is the long tail
    min_group_users: int = 20  # smaller groups are reported as too small
    explain_users: int = 20  # users whose top-k is decomposed and counterfactually checked
    counterfactual_candidates: int = 10  # liked movies tried besides the cited one
    max_users: int | None = None  # audit a seeded sample of this many test users (None = all)
    seed: int = 42

    def __post_init__(self) -> None:
        M.check_k(self.k)
        if not 0.0 < self.long_tail_share < 1.0:
            raise ValueError(f"long_tail_share: {self.long_tail_share} must be in (0, 1).")
        if self.min_group_users < 1:
            raise ValueError(f"min_group_users: {self.min_group_users} must be at least 1.")
        if self.explain_users < 0 or self.counterfactual_candidates < 0:
            raise ValueError("explain_users, counterfactual_candidates: must be at least 0.")
        if self.max_users is not None and self.max_users < 1:
            raise ValueError(f"max_users: {self.max_users} must be at least 1 (or None).")


@dataclass(frozen=True)
class DataSummary:
    seen_ratings: int
    test_ratings: int
    users: int
    movies: int
    seen_sha256: str
    test_sha256: str
    catalogue_sha256: str
    first_rating: str | None  # ISO date of the earliest seen/test rating (None: no timestamps)
    last_rating: str | None


@dataclass(frozen=True)
class PopularityBias:
    long_tail_share: float  # share of recommendation slots from the long tail
    history_long_tail_share: float  # share of the users' seen ratings from the long tail
    exposure_gini: float  # Gini of recommendation counts over the catalogue (1 = all on one)
    arp: float  # mean seen-rating count of the recommended movies (ARP@k)
    pop_lift: float  # ARP relative to the user's own history (1 = as mainstream as the user)
    long_tail_movies: int
    catalogue_movies: int


@dataclass(frozen=True)
class GroupFigures:
    """One user group. Every figure is None when the group is too small."""

    dimension: str  # "all", "activity", "mainstream" or a users-table column
    name: str
    users: int
    too_small: bool
    ndcg: float | None = None
    recall: float | None = None
    coverage: float | None = None
    long_tail_share: float | None = None
    history_long_tail_share: float | None = None
    arp: float | None = None
    pop_lift: float | None = None
    miscalibration: float | None = None

    @property
    def key(self) -> str:
        return ALL if self.dimension == ALL else f"{self.dimension}:{self.name}"


@dataclass(frozen=True)
class GroupGap:
    dimension: str
    metric: str
    best: str
    worst: str
    gap: float  # best - worst (groups large enough only)


@dataclass(frozen=True)
class ExposureRow:
    bucket: str
    exposure_share: float  # share of recommendation slots
    catalogue_share: float  # share of catalogue movies
    ratings_share: float  # share of seen ratings


@dataclass(frozen=True)
class ItemFairness:
    by_decade: list[ExposureRow]
    by_genre: list[ExposureRow]
    movies_without_year: int


@dataclass(frozen=True)
class ItemExplanation:
    rank: int
    movie_id: int
    title: str
    score: float  # the served blend score
    contributions: dict[str, float]  # weight * z per component; they sum to `score`
    cited: int | None  # the movie of "because you rated X highly", if any
    cited_title: str | None = None


@dataclass(frozen=True)
class UserExplanation:
    user_id: int
    items: list[ItemExplanation]


@dataclass(frozen=True)
class Counterfactual:
    """Fold-in check of "because you rated X highly": the user's seen ratings are folded in with
    and without X; `rank_changed` counts cited items whose rank moved, `cited_matters_most` those
    where removing X lowers the item more than removing any other of the tried liked movies."""

    checked: int
    rank_changed: int
    cited_matters_most: int
    mean_rank_drop: float | None

    @property
    def matters_most_share(self) -> float | None:
        return self.cited_matters_most / self.checked if self.checked else None


@dataclass(frozen=True)
class Explainability:
    weights: dict[str, float]
    mean_share: dict[str, float]  # mean |contribution| / sum |contributions| over top-k items
    users: list[UserExplanation]
    counterfactual: Counterfactual
    max_decomposition_error: float  # |sum(contributions) - score|, max over sampled items


@dataclass(frozen=True)
class Audit:
    settings: AuditSettings
    data: DataSummary
    users_audited: int
    popularity: PopularityBias
    groups: list[GroupFigures]
    gaps: list[GroupGap]
    items: ItemFairness
    explainability: Explainability | None
    notes: list[str] = field(default_factory=list)  # what is missing and what was done

    def group(self, key: str) -> GroupFigures | None:
        return next((g for g in self.groups if g.key == key), None)

    def worst(self, metric: str) -> GroupFigures | None:
        """The large-enough group (not "all") with the worst value of `metric`."""
        sign = 1.0 if HIGHER_IS_BETTER.get(metric, False) else -1.0
        usable = [
            g
            for g in self.groups
            if g.dimension != ALL and not g.too_small and getattr(g, metric) is not None
        ]
        return min(usable, key=lambda g: sign * getattr(g, metric)) if usable else None

    def figure(self, metric: str, group: str) -> float | None:
        """One metric of one group ("all", "activity:light", ... or "worst")."""
        found = self.worst(metric) if group == "worst" else self.group(group)
        return None if found is None else getattr(found, metric)

    def figures(self) -> dict[str, float]:
        """Every number as a flat metric (for MLflow / ZenML metadata)."""
        k = self.settings.k
        out: dict[str, float] = {"users_audited": float(self.users_audited)}
        for key, value in asdict(self.popularity).items():
            out[f"popularity.{key}"] = float(value)
        for g in self.groups:
            if g.too_small:
                continue
            for metric in GROUP_METRICS:
                value = getattr(g, metric)
                if value is not None:
                    out[figure_key(metric, g.key, k)] = float(value)
        for metric in GROUP_METRICS:
            worst = self.figure(metric, "worst")
            if worst is not None:
                out[figure_key(metric, "worst", k)] = float(worst)
        for gap in self.gaps:
            out[f"gap.{gap.dimension}.{gap.metric}"] = gap.gap
        for kind, rows in (("decade", self.items.by_decade), ("genre", self.items.by_genre)):
            for row in rows:
                out[f"exposure.{kind}.{row.bucket}"] = row.exposure_share
        if self.explainability is not None:
            ex = self.explainability
            for name, share in ex.mean_share.items():
                out[f"explain.share.{name}"] = share
            cf = ex.counterfactual
            out["explain.counterfactual.checked"] = float(cf.checked)
            out["explain.counterfactual.rank_changed"] = float(cf.rank_changed)
            if cf.matters_most_share is not None:
                out["explain.counterfactual.cited_matters_most_share"] = cf.matters_most_share
            out["explain.max_decomposition_error"] = ex.max_decomposition_error
        return {key.replace(" ", "_"): value for key, value in out.items()}

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# ---------------------------------------------------------------------------------- helpers
def figure_key(metric: str, group: str, k: int) -> str:
    """The flat name of a group figure: "group.activity:light.ndcg@10"."""
    suffix = f"@{k}" if metric in ("ndcg", "recall", "coverage") else ""
    return f"group.{group}.{metric}{suffix}".replace(" ", "_")


def gini(values: Sequence[float] | np.ndarray) -> float:
    """Gini coefficient of non-negative values (0 = equal exposure, ->1 = all on one)."""
    x = np.sort(np.asarray(values, np.float64))
    if x.size == 0 or x.sum() <= 0:
        return 0.0
    n = x.size
    return float((2.0 * np.arange(1, n + 1) - n - 1) @ x / (n * x.sum()))


def _genre_mix(movies: Sequence[int], genres: Mapping[int, list[str]]) -> dict[str, float]:
    """Each movie spreads weight 1 equally over its genres; normalised to sum 1."""
    mix: Counter[str] = Counter()
    for m in movies:
        gs = genres.get(m) or []
        for g in gs:
            mix[g] += 1.0 / len(gs)
    total = sum(mix.values())
    return {g: v / total for g, v in mix.items()} if total else {}


def miscalibration(history: dict[str, float], recs: dict[str, float]) -> float | None:
    """KL(p || q~), p the history's genre mix, q~ = (1 - a) q + a p (None: no genres)."""
    if not history or not recs:
        return None
    kl = 0.0
    for genre, p in history.items():
        q = (1 - CALIBRATION_ALPHA) * recs.get(genre, 0.0) + CALIBRATION_ALPHA * p
        kl += p * math.log(p / q)
    return float(kl)


def _terciles(values: pd.Series, names: tuple[str, str, str]) -> pd.Series:
    """Label each value by tercile (ranks break ties, so the three groups are equal-sized)."""
    ranks = values.rank(method="first")
    bins = np.ceil(3 * ranks / max(len(values), 1)).clip(1, 3).astype(int)
    return bins.map({1: names[0], 2: names[1], 3: names[2]})


def _mean(values: Sequence[float | None]) -> float | None:
    vals = [v for v in values if v is not None and not math.isnan(v)]
    return float(np.mean(vals)) if vals else None


def _iso(ts: Any) -> str | None:
    if pd.isna(ts):
        return None
    return pd.Timestamp(int(ts), unit="s").date().isoformat()


# ---------------------------------------------------------------------------------- the audit
@dataclass
class _UserRow:
    user_id: int
    recs: list[int]
    relevant: set[int]
    history: list[int]
    ndcg: float
    recall: float
    long_tail: float
    history_long_tail: float
    miscalibration: float | None
    components: list[dict[str, float]]
    scores: list[float]


def _recommend(model: Any, user: int, k: int) -> tuple[list[int], list[float], list[dict]]:
    if hasattr(model, "recommend_items"):
        recs = model.recommend_items(user, k)
        return (
            [it.movie_id for it in recs.items],
            [it.score for it in recs.items],
            [dict(it.components) for it in recs.items],
        )
    pairs = model.recommend(user, k, exclude_seen=True)
    return [int(m) for m, _ in pairs], [float(s) for _, s in pairs], [{} for _ in pairs]


@one_blas_thread
def audit_model(
    model: Any,
    seen: pd.DataFrame | SeenRatings,
    test: pd.DataFrame,
    catalogue: pd.DataFrame,
    settings: AuditSettings | None = None,
    users: pd.DataFrame | None = None,
) -> Audit:
    """Audit `model` (fitted on `seen`: one frame, or the parts it was fitted on) on the `test`
    users (see the module docstring)."""
    s = settings or AuditSettings()
    seen = SeenRatings.of(seen)
    needed = (C.USER_ID, C.MOVIE_ID, C.RATING)
    for name, missing in (
        ("seen", seen.missing(needed)),
        ("test", [c for c in needed if c not in test.columns]),
    ):
        if missing:
            raise ValueError(f"{name}: missing column(s) {missing}; pass a ratings frame.")
    if C.MOVIE_ID not in catalogue.columns:
        raise ValueError(f"catalogue: missing column '{C.MOVIE_ID}'.")
    notes: list[str] = []
    cat = catalogue.drop_duplicates(C.MOVIE_ID).set_index(C.MOVIE_ID)
    cat.index = cat.index.astype(int)
    counts = seen.value_counts(C.MOVIE_ID)  # ratings per movie, computed once
    counts.index = counts.index.astype(int)
    movies = sorted(set(cat.index) | set(counts.index.tolist()))
    popularity = {m: float(counts.get(m, 0)) for m in movies}
    order = sorted(movies, key=lambda m: (popularity[m], m))  # least rated first
    tail = set(order[: int(round(s.long_tail_share * len(order)))])
    genres_col = cat[C.GENRES] if C.GENRES in cat.columns else pd.Series(dtype=str)
    genres = {int(m): split_genres(g) for m, g in genres_col.items()}
    if not genres_col.astype(bool).any():
        notes.append("the catalogue has no genres: calibration and genre exposure are empty")
    titles = cat[C.TITLE].astype(str).to_dict() if C.TITLE in cat.columns else {}

    relevant_rows = test[test[C.RATING] >= s.threshold]
    relevant = relevant_rows.groupby(C.USER_ID)[C.MOVIE_ID].apply(lambda s_: set(map(int, s_)))
    candidates = [int(u) for u in relevant.index if model.knows_user(int(u))]
    unknown = len(relevant) - len(candidates)
    if unknown:
        notes.append(f"{unknown} test users unknown to the model were left out")
    if s.max_users is not None and len(candidates) > s.max_users:
        rng = np.random.default_rng(s.seed)
        candidates = sorted(rng.choice(candidates, s.max_users, replace=False).tolist())
        notes.append(f"a seeded sample of {s.max_users} test users was audited")
    if not candidates:
        raise ValueError(
            "test: no test user with a relevant rating is known to the model; nothing to audit."
        )

    # the audited users' histories only (every user's as Python lists: ~1.5 GB at 25M ratings)
    audited = seen.rows_of(C.USER_ID, candidates)
    history = audited.groupby(C.USER_ID)[C.MOVIE_ID].apply(lambda s_: [int(m) for m in s_])
    del audited
    rows: list[_UserRow] = []
    for user in candidates:
        recs, scores, comps = _recommend(model, user, s.k)
        hist = history.get(user, [])
        rel = relevant[user]
        rows.append(
            _UserRow(
                user_id=user,
                recs=recs,
                relevant=rel,
                history=hist,
                ndcg=M.ndcg_at_k(recs, rel, s.k),
                recall=M.recall_at_k(recs, rel, s.k),
                long_tail=float(np.mean([m in tail for m in recs])) if recs else 0.0,
                history_long_tail=float(np.mean([m in tail for m in hist])) if hist else 0.0,
                miscalibration=miscalibration(_genre_mix(hist, genres), _genre_mix(recs, genres)),
                components=comps,
                scores=scores,
            )
        )

    frame = pd.DataFrame({"user_id": [r.user_id for r in rows]}).set_index("user_id")
    frame["n"] = [len(r.history) for r in rows]
    frame["pop"] = [
        float(np.mean([np.log1p(popularity.get(m, 0.0)) for m in r.history])) if r.history else 0.0
        for r in rows
    ]
    dims: dict[str, pd.Series] = {
        ACTIVITY: _terciles(frame["n"], TERCILES[ACTIVITY]),
        MAINSTREAM: _terciles(frame["pop"], TERCILES[MAINSTREAM]),
    }
    dims.update(_demographics(users, frame.index, notes))

    by_user = {r.user_id: r for r in rows}
    groups = [_group(ALL, ALL, rows, s, popularity, len(movies))]
    for dim, labels in dims.items():
        for name in _ordered_labels(dim, labels):
            members = [by_user[u] for u in labels.index[labels == name]]
            groups.append(_group(dim, str(name), members, s, popularity, len(movies)))
    small = [g.key for g in groups if g.too_small]
    if small:
        notes.append(
            f"groups with fewer than {s.min_group_users} users are too small to report: "
            + ", ".join(small)
        )
    overall = groups[0]
    exposure = Counter(m for r in rows for m in r.recs)
    pop_bias = PopularityBias(
        long_tail_share=float(overall.long_tail_share or 0.0),
        history_long_tail_share=float(overall.history_long_tail_share or 0.0),
        exposure_gini=gini([exposure.get(m, 0) for m in movies]),
        arp=float(overall.arp or 0.0),
        pop_lift=float(overall.pop_lift or 0.0),
        long_tail_movies=len(tail),
        catalogue_movies=len(movies),
    )
    items = _item_fairness(cat, movies, counts, exposure, genres, notes)
    explain = _explainability(model, rows, catalogue, s, titles, notes)
    return Audit(
        settings=s,
        data=_data_summary(seen, test, catalogue, len(movies)),
        users_audited=len(rows),
        popularity=pop_bias,
        groups=groups,
        gaps=_gaps(groups),
        items=items,
        explainability=explain,
        notes=notes,
    )


def _ordered_labels(dim: str, labels: pd.Series) -> list[Any]:
    if dim in TERCILES:
        return [n for n in TERCILES[dim] if (labels == n).any()]
    return sorted(labels.dropna().unique(), key=str)


def _demographics(
    users: pd.DataFrame | None, index: pd.Index, notes: list[str]
) -> dict[str, pd.Series]:
    if users is None:
        notes.append("no users table: no demographic groups (age, gender, occupation)")
        return {}
    if C.USER_ID not in users.columns:
        raise ValueError(f"users: missing column '{C.USER_ID}'; one row per user is expected.")
    table = users.drop_duplicates(C.USER_ID).set_index(C.USER_ID)
    present = [c for c in DEMOGRAPHIC_COLUMNS if c in table.columns]
    if not present:
        notes.append(
            f"the users table has none of the columns {list(DEMOGRAPHIC_COLUMNS)}: "
            "no demographic groups"
        )
    out = {}
    for col in present:
        values = table[col].reindex(index)
        if values.isna().any():
            notes.append(f"users.{col}: {int(values.isna().sum())} audited users have no value")
        out[col] = values.astype("object").where(values.notna(), "unknown").astype(str)
    return out


def _group(
    dim: str,
    name: str,
    members: list[_UserRow],
    s: AuditSettings,
    popularity: Mapping[int, float],
    n_movies: int,
) -> GroupFigures:
    if len(members) < s.min_group_users:
        return GroupFigures(dimension=dim, name=name, users=len(members), too_small=True)
    lists = [r.recs for r in members]
    nonempty = [r for r in lists if r]
    lift = None
    if nonempty and any(r.history for r in members):
        try:
            lift = M.popularity_lift_at_k(lists, [r.history for r in members], popularity, s.k)
        except ValueError:
            lift = None
    return GroupFigures(
        dimension=dim,
        name=name,
        users=len(members),
        too_small=False,
        ndcg=float(np.mean([r.ndcg for r in members])),
        recall=float(np.mean([r.recall for r in members])),
        coverage=M.catalogue_coverage_at_k(lists, max(n_movies, 1), s.k),
        long_tail_share=float(np.mean([r.long_tail for r in members])),
        history_long_tail_share=float(np.mean([r.history_long_tail for r in members])),
        arp=M.average_popularity_at_k(nonempty, popularity, s.k) if nonempty else None,
        pop_lift=lift,
        miscalibration=_mean([r.miscalibration for r in members]),
    )


def _gaps(groups: list[GroupFigures]) -> list[GroupGap]:
    out = []
    for dim in dict.fromkeys(g.dimension for g in groups if g.dimension != ALL):
        usable = [g for g in groups if g.dimension == dim and not g.too_small]
        if len(usable) < 2:
            continue
        for metric in ("ndcg", "recall", "miscalibration"):
            vals = [g for g in usable if getattr(g, metric) is not None]
            if len(vals) < 2:
                continue
            sign = 1.0 if HIGHER_IS_BETTER.get(metric, False) else -1.0
            best = max(vals, key=lambda g: sign * getattr(g, metric))
            worst = min(vals, key=lambda g: sign * getattr(g, metric))
            gap = abs(getattr(best, metric) - getattr(worst, metric))
            out.append(GroupGap(dim, metric, best.name, worst.name, float(gap)))
    return out


def _item_fairness(
    cat: pd.DataFrame,
    movies: list[int],
    rated: pd.Series,  # ratings per movie in the seen ratings
    exposure: Counter[int],
    genres: Mapping[int, list[str]],
    notes: list[str],
) -> ItemFairness:
    years = (
        pd.to_numeric(cat[C.YEAR], errors="coerce").reindex(movies)
        if C.YEAR in cat.columns
        else pd.Series(np.nan, index=movies)
    )
    missing = int(years.isna().sum())
    if missing == len(movies):
        notes.append("the catalogue has no release years: exposure by decade is not available")
        decades: dict[int, str] = {}
    else:
        if missing:
            notes.append(f"{missing} movies have no release year (decade '{UNKNOWN_DECADE}')")
        decades = {
            m: (UNKNOWN_DECADE if pd.isna(y) else f"{int(y) // 10 * 10}s") for m, y in years.items()
        }
    slots = sum(exposure.values()) or 1
    n_ratings = max(int(rated.sum()), 1)

    def table(bucket_of: Mapping[int, list[str]]) -> list[ExposureRow]:
        buckets = sorted({b for bs in bucket_of.values() for b in bs})
        rows = []
        for b in buckets:
            weight = {m: 1.0 / len(bs) for m, bs in bucket_of.items() if b in bs}
            rows.append(
                ExposureRow(
                    bucket=b,
                    exposure_share=sum(exposure.get(m, 0) * w for m, w in weight.items()) / slots,
                    catalogue_share=sum(weight.values()) / max(len(movies), 1),
                    ratings_share=sum(rated.get(m, 0) * w for m, w in weight.items()) / n_ratings,
                )
            )
        return rows

    by_decade = table({m: [d] for m, d in decades.items()}) if decades else []
    by_genre = table({m: genres[m] for m in movies if genres.get(m)})
    return ItemFairness(by_decade=by_decade, by_genre=by_genre, movies_without_year=missing)


def _data_summary(
    seen: SeenRatings, test: pd.DataFrame, catalogue: pd.DataFrame, n_movies: int
) -> DataSummary:
    # (read from the parts a batch at a time: no concatenation, no frame of every seen rating)
    lows, highs = [], []
    if C.TIMESTAMP in test.columns and len(test):
        lows.append(test[C.TIMESTAMP].min())
        highs.append(test[C.TIMESTAMP].max())
    lows.append(seen.min(C.TIMESTAMP))  # (NaN when no part has timestamps)
    highs.append(seen.max(C.TIMESTAMP))
    lows = [v for v in lows if pd.notna(v)]
    highs = [v for v in highs if pd.notna(v)]
    first = _iso(min(lows)) if lows else None
    last = _iso(max(highs)) if highs else None
    users = np.union1d(seen.unique(C.USER_ID), test[C.USER_ID].dropna().unique())
    return DataSummary(
        seen_ratings=len(seen),
        test_ratings=len(test),
        users=len(users),
        movies=n_movies,
        seen_sha256=seen.checksum(),
        test_sha256=frame_checksum(test),
        catalogue_sha256=frame_checksum(catalogue),
        first_rating=first,
        last_rating=last,
    )


# ---------------------------------------------------------------------------------- explain
def contributions(
    components: Mapping[str, float], weights: Mapping[str, float]
) -> dict[str, float]:
    """A recommended item's blend score split by component: weight * z (they sum to the score)."""
    return {n: float(weights.get(n, 0.0) * z) for n, z in components.items()}


def _explainability(
    model: Any,
    rows: list[_UserRow],
    catalogue: pd.DataFrame,
    s: AuditSettings,
    titles: Mapping[int, str],
    notes: list[str],
) -> Explainability | None:
    weights = dict(getattr(model, "weights", {}) or {})
    if not weights or not hasattr(model, "recommend_items"):
        notes.append("explainability: the model is not a blend of components")
        return None
    shares: dict[str, list[float]] = {n: [] for n in weights if weights[n] != 0.0}
    for r in rows:
        for comp in r.components:
            parts = contributions(comp, weights)
            total = sum(abs(v) for v in parts.values())
            if total <= 0:
                continue
            for n in shares:
                shares[n].append(abs(parts.get(n, 0.0)) / total)
    mean_share = {n: float(np.mean(v)) if v else 0.0 for n, v in shares.items()}

    explainer = Explainer(model, catalogue)
    rng = np.random.default_rng(s.seed)
    n_sample = min(s.explain_users, len(rows))
    sample = sorted(rng.choice(len(rows), n_sample, replace=False).tolist()) if n_sample else []
    users, worst_error = [], 0.0
    checked = changed = most = 0
    drops: list[float] = []
    for i in sample:
        r = rows[i]
        profile = explainer.user_profile(r.user_id)
        cited = explainer.cited_movies(r.recs, profile) if profile else {}
        items = []
        for rank, (movie, score, comp) in enumerate(
            zip(r.recs, r.scores, r.components, strict=True), start=1
        ):
            parts = contributions(comp, weights)
            worst_error = max(worst_error, abs(sum(parts.values()) - score))
            items.append(
                ItemExplanation(
                    rank=rank,
                    movie_id=movie,
                    title=titles.get(movie, str(movie)),
                    score=score,
                    contributions=parts,
                    cited=cited.get(movie),
                    cited_title=titles.get(cited[movie]) if movie in cited else None,
                )
            )
        users.append(UserExplanation(user_id=r.user_id, items=items))
        if cited and profile is not None and hasattr(model, "score_ratings"):
            result = _counterfactual(model, r.user_id, cited, profile.liked, s)
            checked += result[0]
            changed += result[1]
            most += result[2]
            drops.extend(result[3])
    counterfactual = Counterfactual(
        checked=checked,
        rank_changed=changed,
        cited_matters_most=most,
        mean_rank_drop=float(np.mean(drops)) if drops else None,
    )
    return Explainability(
        weights=weights,
        mean_share=mean_share,
        users=users,
        counterfactual=counterfactual,
        max_decomposition_error=float(worst_error),
    )


def _rank(scores: np.ndarray, allowed: np.ndarray, j: int) -> int:
    """1-based rank of position j among the allowed positions (ties: lower rank first)."""
    return int(np.sum(allowed & (scores > scores[j]))) + 1


def _counterfactual(
    model: Any,
    user_id: int,
    cited: Mapping[int, int],
    liked: list[int],
    s: AuditSettings,
) -> tuple[int, int, int, list[float]]:
    idx, values = model.seen(model.user_index(user_id))
    profile = dict(
        zip(model.movie_ids[idx].tolist(), np.asarray(values, np.float64).tolist(), strict=True)
    )
    allowed = np.ones(model.n_movies, bool)
    allowed[idx] = False
    base = model.score_ratings(profile)
    pos = {int(m): int(p) for m, p in zip(cited, model.movie_positions(list(cited)), strict=True)}
    tried = list(dict.fromkeys([*cited.values(), *liked[: s.counterfactual_candidates]]))
    ranks: dict[int, dict[int, int]] = {}
    for removed in tried:
        if removed not in profile:
            continue
        without = {m: r for m, r in profile.items() if m != removed}
        scores = model.score_ratings(without) if without else base
        ranks[removed] = {m: _rank(scores, allowed, p) for m, p in pos.items() if p >= 0}
    checked = changed = most = 0
    drops = []
    for movie, anchor in cited.items():
        p = pos.get(movie, -1)
        if p < 0 or anchor not in ranks:
            continue
        before = _rank(base, allowed, p)
        after = {removed: r[movie] for removed, r in ranks.items()}
        checked += 1
        drop = after[anchor] - before
        drops.append(float(drop))
        changed += int(drop != 0)
        most += int(drop > 0 and drop >= max(a - before for a in after.values()))
    return checked, changed, most, drops


__all__ = [
    "ALL",
    "Audit",
    "AuditSettings",
    "Counterfactual",
    "DataSummary",
    "Explainability",
    "ExposureRow",
    "GroupFigures",
    "GroupGap",
    "ItemExplanation",
    "ItemFairness",
    "PopularityBias",
    "UserExplanation",
    "audit_model",
    "contributions",
    "figure_key",
    "gini",
    "miscalibration",
]
