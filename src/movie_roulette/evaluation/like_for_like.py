"""Candidate vs production on the same information, user group by user group.

The candidate was trained on train + valid; production on whatever data it had. Scoring both on
the candidate's test split is only fair when they know the same about each test user:

* users both models know ("known_to_both"): each model ranks with its own data, and production
  also skips the movies the candidate saw as the user's history (train + valid), so neither
  spends a slot on a movie the other could not count;
* users only the candidate knows ("new_to_production"): production is handed the same history
  the candidate trained on, through its newcomer path (`recommend_from_ratings`, a fold-in);
* test ratings production was trained on are not fresh for it: a few are dropped from the
  comparison; when production saw more than `MAX_SEEN_SHARE` of them (a training run on the same
  data as production), production's recipe is refitted on the candidate's train + valid first.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from movie_roulette import columns as C
from movie_roulette.evaluation.offline import ranking_metrics, rating_metrics
from movie_roulette.evaluation.seen import Part, SeenRatings, seen_ratings
from movie_roulette.exceptions import UnknownUserError

KNOWN = "known_to_both"
NEW = "new_to_production"
MAX_SEEN_SHARE = 0.05  # production trained on more of the test rows than this: refit its recipe
RATING_METRICS = frozenset({"rmse", "mae", "rating_coverage"})  # `rating_metrics`' keys


@dataclass(frozen=True)
class GroupComparison:
    """Both models' metric on one group of test users, and what production was given."""

    name: str
    users: int  # test users in the group
    ranked_users: int  # of them, users with a relevant test movie (the ranking metrics' mean)
    test_rows: int
    candidate: float
    production: float
    production_input: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Comparison:
    groups: list[GroupComparison]
    notes: list[str]  # what was done to make the comparison fair (dropped rows, refit)

    def to_dict(self) -> dict[str, Any]:
        return {"groups": [g.to_dict() for g in self.groups], "notes": list(self.notes)}


def _movie_id(item: Any) -> int:
    return int(item[0] if isinstance(item, tuple | list) else item.movie_id)


class _SkippingHistory:
    """Production's own ranking without the movies the candidate saw as the user's history."""

    def __init__(self, model: Any, history: Mapping[int, set[int]]) -> None:
        self.model, self.history = model, history

    def recommend(self, user_id: int, k: int = 10, exclude_seen: bool = True) -> list[Any]:
        skip = self.history.get(user_id, set())
        recs = self.model.recommend(user_id, k + len(skip), exclude_seen=exclude_seen)
        return [r for r in recs if _movie_id(r) not in skip][:k]

    def predict_rating(self, user_id: int, movie_ids: Any) -> np.ndarray:
        return self.model.predict_rating(user_id, movie_ids)


class _FoldIn:
    """Production answering a user it never saw from the history the candidate trained on."""

    def __init__(self, model: Any, history: Mapping[int, dict[int, float]]) -> None:
        self.model, self.history = model, history

    def recommend(self, user_id: int, k: int = 10, exclude_seen: bool = True) -> list[Any]:
        ratings = self.history.get(user_id)
        if not ratings:
            raise UnknownUserError(f"user {user_id} has no history to fold in")
        answer = self.model.recommend_from_ratings(ratings, k=k)
        return [(item.movie_id, item.score) for item in answer.items]

    def predict_rating(self, user_id: int, movie_ids: Any) -> np.ndarray:
        raise NotImplementedError("the fold-in path ranks; it does not predict ratings")


@dataclass(frozen=True)
class ComparableProduction:
    """Production made comparable on a candidate's split (`comparable_production`): the model
    (refitted in place when it had to be) and what was done, as notes for the decision and the
    card."""

    model: Any
    notes: tuple[str, ...]
    refitted: bool


def comparable_production(
    production: Any,
    seen: pd.DataFrame | SeenRatings,
    test: pd.DataFrame,
    catalogue: pd.DataFrame | None,
) -> ComparableProduction:
    """Production as it can be judged on the candidate's test split: a served model was fitted
    on the test ratings too, so when it saw more than `MAX_SEEN_SHARE` of them its recipe
    (components, blend weights) is refitted on the candidate's training ratings `seen`, in place
    (`fit` reads the rating columns, no copy). Done once per run (the pipeline's
    `load_comparable_production` step) and shared by the model card and the promotion: the
    result is comparable already, so a second call changes nothing (its share is then 0)."""
    share = production_seen_share(production, test)
    if share > MAX_SEEN_SHARE and hasattr(production, "refit"):
        production = production.refit(SeenRatings.of(seen).parts, catalogue)
        note = (
            f"production was trained on {share:.0%} of the test ratings: its recipe (components, "
            "blend weights) was refitted on the candidate's training ratings to be compared"
        )
        return ComparableProduction(production, (note,), refitted=True)
    if share > 0:
        note = f"production was trained on {share:.1%} of the test ratings"
        return ComparableProduction(production, (note,), refitted=False)
    return ComparableProduction(production, (), refitted=False)


def production_seen_share(production: Any, test: pd.DataFrame) -> float:
    """Share of the test rows whose (user, movie) production was trained on."""
    if test.empty:
        return 0.0
    return float(_seen_by(production, test).mean())


def _seen_by(model: Any, frame: pd.DataFrame) -> np.ndarray:
    mask = np.zeros(len(frame), bool)
    users = frame[C.USER_ID].to_numpy()
    movies = frame[C.MOVIE_ID].to_numpy()
    for user in np.unique(users):
        if not model.knows_user(int(user)):
            continue
        rows = np.flatnonzero(users == user)
        mask[rows] = np.isin(movies[rows], model.seen_movie_ids(int(user)))
    return mask


def _metric(model: Any, seen: SeenRatings, test: pd.DataFrame, metric: str, **kw: Any) -> float:
    """`metric` as `evaluate` gives it, computing only its family: a ranking metric needs no
    rating predictions (the rating stack on every test row of both models) and an error metric
    no rankings."""
    if test.empty:
        return float("nan")
    if metric in RATING_METRICS:
        return float(rating_metrics(model, test)[metric])
    return float(ranking_metrics(model, seen, test, **kw)[metric])  # (every other key of evaluate)


def compare_like_with_like(
    candidate: Any,
    production: Any,
    train: Part,
    valid: Part,
    test: pd.DataFrame,
    metric: str,
    k: int = 10,
    threshold: float = 4.0,
    refit_on_train_and_valid: bool = True,
    production_catalogue: pd.DataFrame | None = None,
    prepared_notes: Sequence[str] = (),
) -> Comparison:
    """Both models' `metric` per user group on the candidate's test split (see module doc).

    When production's recipe has to be refitted, `production` is refitted in place; a production
    made comparable already (`comparable_production`) is used as it is, and `prepared_notes`
    (what was done to it) go into the comparison's notes.
    """
    seen = seen_ratings(train, valid, refit_on_train_and_valid)
    notes = list(prepared_notes)
    comparable = comparable_production(production, seen, test, production_catalogue)
    production = comparable.model
    if comparable.refitted:
        notes.extend(comparable.notes)
    elif comparable.notes:  # a few test ratings production saw: left out of the comparison
        fresh = ~_seen_by(production, test)
        notes.append(f"{int((~fresh).sum())} test ratings production was trained on were left out")
        test = test[fresh]
    # the test users' histories only (as dicts: every user's were ~2 GB at 25M ratings)
    own = seen.rows_of(C.USER_ID, test[C.USER_ID].unique())
    history = {
        int(u): dict(zip(g[C.MOVIE_ID].astype(int), g[C.RATING].astype(float), strict=True))
        for u, g in own.groupby(C.USER_ID)
    }
    del own
    users = test[C.USER_ID].astype(int)
    known = users.map(lambda u: bool(production.knows_user(int(u)))).to_numpy(bool)
    kw = {"k": k, "threshold": threshold}
    groups = []
    for name, mask in ((KNOWN, known), (NEW, ~known)):
        part = test[mask]
        if name == KNOWN:
            skip = {u: set(h) for u, h in history.items()}
            prod_model: Any = _SkippingHistory(production, skip)
            how = "its own training data; the candidate's history movies are skipped"
        elif hasattr(production, "recommend_from_ratings"):
            prod_model = _FoldIn(production, history)
            how = "the users' training ratings folded in (newcomer path)"
        else:
            prod_model, how = production, "nothing: this model has no newcomer path"
        ranked = int(part[part[C.RATING] >= threshold][C.USER_ID].nunique())
        groups.append(
            GroupComparison(
                name=name,
                users=int(part[C.USER_ID].nunique()),
                ranked_users=ranked,
                test_rows=len(part),
                candidate=_metric(candidate, seen, part, metric, **kw),
                production=_metric(prod_model, seen, part, metric, **kw),
                production_input=how,
            )
        )
    return Comparison(groups=groups, notes=notes)


__all__ = [
    "KNOWN",
    "MAX_SEEN_SHARE",
    "NEW",
    "Comparison",
    "ComparableProduction",
    "GroupComparison",
    "comparable_production",
    "compare_like_with_like",
    "production_seen_share",
]
