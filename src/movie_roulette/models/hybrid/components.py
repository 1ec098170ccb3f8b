"""The hybrid's component sets, built from the pipeline config, and the up-front memory check.

* "dense" (`model.component_set: dense`, the default): EASE (and its liked / centred variants),
  dense item-kNN, SVD, content, popularity: the most accurate on small catalogues.
* "scalable": implicit ALS, sparse item-kNN, EASE capped at `model.implicit.ease_max_items` (and
  the same variants, capped), SVD (unless `model.use_svd: false`), content, popularity: cost
  grows with the ratings, not with the catalogue squared (docs/scale.md).
"""

from __future__ import annotations

from collections.abc import Mapping

from movie_roulette.config import ModelConfig
from movie_roulette.exceptions import MemoryBudgetError
from movie_roulette.models.base import Recommender
from movie_roulette.models.collaborative import SVDRecommender
from movie_roulette.models.content import ContentRecommender
from movie_roulette.models.genre_taste import GenreTasteRecommender
from movie_roulette.models.implicit import (
    EASERecommender,
    ItemKNNRecommender,
    memory_budget_bytes,
)
from movie_roulette.models.popularity import PopularityRecommender
from movie_roulette.models.scalable import ALSRecommender, SparseItemKNNRecommender

# what the hybrid itself holds per rating while fitting (the frame, its index arrays, the
# baselines' arrays, the components' copies of the user histories)
HYBRID_BYTES_PER_RATING = 120


def _eases(cfg: ModelConfig, max_items: int | None) -> dict[str, Recommender]:
    imp = cfg.implicit
    common = {
        "l2": imp.l2,
        "min_item_ratings": imp.min_item_ratings,
        "max_items": max_items,
        "memory_budget_gb": cfg.memory_budget_gb,
    }
    eases: dict[str, Recommender] = {"ease": EASERecommender(min_rating=imp.min_rating, **common)}
    if imp.liked_min_rating is not None:
        eases["ease_liked"] = EASERecommender(min_rating=imp.liked_min_rating, **common)
    if imp.centered_ease:
        eases["ease_centered"] = EASERecommender(weighting="centered", **common)
    return eases


def _svd(cfg: ModelConfig, seed: int) -> SVDRecommender:
    return SVDRecommender(
        n_factors=cfg.svd.n_factors,
        n_epochs=cfg.svd.n_epochs,
        lr_all=cfg.svd.lr_all,
        reg_all=cfg.svd.reg_all,
        seed=seed,
    )


def _content(cfg: ModelConfig) -> ContentRecommender:
    return ContentRecommender(
        like_threshold=cfg.content.like_threshold,
        max_features=cfg.content.max_features,
        n_neighbours=cfg.content.n_neighbours,
    )


def content_components(cfg: ModelConfig) -> dict[str, Recommender]:
    """Content, genre taste (when enabled) and popularity: the components every set ends with."""
    out: dict[str, Recommender] = {"content": _content(cfg)}
    if cfg.genre_taste.enabled:
        out["genre_taste"] = GenreTasteRecommender(smoothing=cfg.genre_taste.smoothing)
    return {**out, "popularity": PopularityRecommender()}


def make_components(cfg: ModelConfig, seed: int) -> dict[str, Recommender]:
    """The component set `cfg.component_set` names, configured from the pipeline config."""
    imp = cfg.implicit
    if cfg.component_set == "scalable":
        als = cfg.als
        out: dict[str, Recommender] = {
            **_eases(cfg, imp.ease_max_items),
            "als": ALSRecommender(
                factors=als.factors,
                regularization=als.regularization,
                alpha=als.alpha,
                iterations=als.iterations,
                min_rating=als.min_rating,
                seed=seed,
            ),
            "itemknn": SparseItemKNNRecommender(
                n_neighbours=imp.knn_neighbours,
                min_item_ratings=imp.min_item_ratings,
                max_user_items=imp.knn_max_user_items,
                seed=seed,
            ),
        }
        if cfg.use_svd:
            out["svd"] = _svd(cfg, seed)
        return {**out, **content_components(cfg)}
    return {
        **_eases(cfg, imp.ease_max_items),
        "itemknn": ItemKNNRecommender(
            n_neighbours=imp.knn_neighbours, min_item_ratings=imp.min_item_ratings
        ),
        "svd": _svd(cfg, seed),
        **content_components(cfg),
    }


def check_memory_budget(
    components: Mapping[str, Recommender],
    n_users: int,
    n_movies: int,
    n_ratings: int,
    budget_gb: float | None,
) -> dict[str, float]:
    """Raise MemoryBudgetError before any fit when the largest component's fit (components fit
    one after another) plus what the hybrid holds is estimated above the budget; the message
    names the estimate, the component and the setting that lowers it. Returns the estimates
    (GB) by component."""
    budget = memory_budget_bytes(budget_gb)
    own = HYBRID_BYTES_PER_RATING * n_ratings
    estimates = {
        name: comp.estimate_fit_bytes(n_users, n_movies, n_ratings)
        for name, comp in components.items()
    }
    gb = {name: round(v / 2**30, 3) for name, v in estimates.items()}
    if not estimates:
        return gb
    worst = max(estimates, key=lambda n: estimates[n])
    need = own + estimates[worst]
    if need <= budget:
        return gb
    where = (
        f"the memory budget of {budget / 2**30:.1f} GB (model.memory_budget_gb)"
        if budget_gb is not None
        else f"this machine's {budget / 2**30:.1f} GB of memory"
    )
    comp = components[worst]
    raise MemoryBudgetError(
        f"Training the hybrid on {n_ratings:,} ratings ({n_users:,} users, {n_movies:,} movies) "
        f"needs about {need / 2**30:.1f} GB: {estimates[worst] / 2**30:.1f} GB for component "
        f"{worst!r} ({type(comp).__name__}) plus {own / 2**30:.1f} GB held by the hybrid; more "
        f"than {where}. Change {comp.budget_setting}, or use model.component_set: scalable "
        "(its components grow with the ratings), or raise model.memory_budget_gb."
    )
