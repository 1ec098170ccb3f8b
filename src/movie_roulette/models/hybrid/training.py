"""`train_hybrid`: what the pipeline's training step runs."""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext

import pandas as pd

from movie_roulette import columns as C
from movie_roulette.config import ModelConfig
from movie_roulette.models.base import Recommender
from movie_roulette.models.hybrid.components import check_memory_budget, make_components
from movie_roulette.models.hybrid.model import HybridRecommender
from movie_roulette.models.review_sentiment import add_sentiment_component
from movie_roulette.progress import Progress
from movie_roulette.ratings_source import Part, as_source, distinct_values

# entered around each fit with the parts it fits ("train"; "train", "valid"; ...): the Spark
# engine points its ALS fitter at those parts' files there (`spark.als.als_rows_from`)
FitScope = Callable[[tuple[str, ...]], AbstractContextManager[None]]


def no_scope(parts: tuple[str, ...]) -> AbstractContextManager[None]:
    return nullcontext()


def train_hybrid(
    train: Part,
    valid: Part,
    catalogue: pd.DataFrame | None,
    cfg: ModelConfig,
    seed: int,
    k: int = 10,
    threshold: float = 4.0,
    use_sentiment: bool | None = None,
    sentiment_prior: float = 5.0,
    tune_ranking: bool = True,
    components: dict[str, Recommender] | None = None,
    fit_scope: FitScope = no_scope,
) -> HybridRecommender:
    """Fit the components on train, tune blend weights and rating stack on valid, then (if
    cfg.refit_on_train_and_valid) refit the components on train + valid keeping the weights.
    `tune_ranking=False` skips the blend-weight search (for rating-only evaluations).

    `components` (unfitted) replaces the set `cfg` names (`make_components`): the Spark engine
    passes its ALS components here, so both engines share this recipe. `fit_scope` is entered
    around each fit with the names of the parts it fits (`FitScope`).

    `train` and `valid` are frames or `RatingsSource`s (the Spark engine's part files): the
    fits read a source a batch at a time and never hold its frame (`Recommender.fit_frames`);
    the blend search holds the rows of its sampled users only (`HybridRecommender.tune`).

    `use_sentiment` adds the review-sentiment component (None: when the catalogue carries
    scored reviews; see models.review_sentiment). Before anything is fitted, the memory the
    largest fit plans to hold is checked against `cfg.memory_budget_gb` (MemoryBudgetError
    naming the setting to change). Timings and validation scores are in `model.fit_info`.
    """
    start = time.perf_counter()
    components = add_sentiment_component(
        components if components is not None else make_components(cfg, seed),
        catalogue,
        use_sentiment,
        sentiment_prior,
    )
    train, valid = as_source(train), as_source(valid)
    full = (train, valid) if len(valid) else (train,)
    estimates = check_memory_budget(
        components,
        len(distinct_values(full, C.USER_ID)),
        len(distinct_values(full, C.MOVIE_ID)),
        sum(len(f) for f in full),
        cfg.memory_budget_gb,
    )
    model = HybridRecommender(components, serve_pool=cfg.serve_pool)
    model.fit_info["memory_estimate_gb"] = estimates
    model.progress = progress = Progress("train_hybrid")
    with fit_scope(("train",)):
        model.fit(train, catalogue)
    if len(valid):
        with progress.phase("tuning the blend on the validation split"):
            model.tune(
                valid,  # (a source: only the sampled users' rows are read into memory)
                k=k,
                threshold=threshold,
                max_users=cfg.tune_max_users,
                ranking=tune_ranking,
                seed=seed,
            )
    if cfg.refit_on_train_and_valid and len(valid):
        with progress.phase("refitting every component on train + valid"):
            with fit_scope(("train", "valid")):
                model.refit([train, valid], catalogue)  # (as their concatenation, not built)
    model.progress = None
    model.fit_info["total_fit_seconds"] = round(time.perf_counter() - start, 3)
    progress.done(f"{len(components)} components")
    return model
