"""Production, prepared once per run for the model card and the promotion (typed, not a dict).

`prepare_production` makes the registry's production version comparable on a candidate's split
(`like_for_like.comparable_production`: its recipe refitted on the candidate's training ratings
when it was trained on the test split) and records what was done. The pipeline's
`load_comparable_production` step returns it; `build_model_card` and `promote_model` take it, so
production is refitted once per run, not once per step.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Any

import pandas as pd

from movie_roulette.bundle import ModelBundle
from movie_roulette.evaluation.like_for_like import comparable_production
from movie_roulette.evaluation.seen import SeenRatings


@dataclass(frozen=True)
class PreparedProduction:
    """Production as the card and the promotion compare with it; no version and no bundle when
    there is no production version yet."""

    version: str | None = None
    bundle: ModelBundle | None = None
    notes: tuple[str, ...] = ()  # what was done to make it comparable: the refit, if any
    refit_seconds: float = 0.0

    def __post_init__(self) -> None:
        if (self.version is None) != (self.bundle is None):
            raise ValueError("a prepared production has both a version and a bundle, or neither")

    @property
    def refitted(self) -> bool:
        """Its recipe was refitted on the candidate's training ratings (the one note says so)."""
        return bool(self.notes)

    @property
    def model(self) -> Any:
        return None if self.bundle is None else self.bundle.model

    @property
    def catalogue(self) -> pd.DataFrame | None:
        return None if self.bundle is None else self.bundle.catalogue

    def summary(self) -> dict[str, Any]:
        """Everything but the bundle, as JSON-able values (the artifact's metadata)."""
        return {
            "version": self.version,
            "notes": list(self.notes),
            "refitted": self.refitted,
            "refit_seconds": self.refit_seconds,
        }

    def describe(self) -> str:
        """One line for the run's console: what production is and what was done to it."""
        if self.version is None:
            return "No production version: nothing to compare the candidate with."
        head = f"Production version {self.version}"
        if not self.refitted:
            return f"{head}: had not seen the test ratings, compared as it is."
        return f"{head}: {'; '.join(self.notes)} ({self.refit_seconds:.0f} s)."


def prepare_production(
    production: tuple[str, ModelBundle] | None,
    seen: pd.DataFrame | SeenRatings,
    test: pd.DataFrame,
) -> PreparedProduction:
    """`production` as `(version, bundle)` from the registry (or None), made comparable on the
    candidate's split: `seen` its training ratings, `test` the test rows it is judged on."""
    if production is None:
        return PreparedProduction()
    version, loaded = production
    start = time.perf_counter()
    made = comparable_production(loaded.model, seen, test, loaded.catalogue)
    seconds = round(time.perf_counter() - start, 3) if made.refitted else 0.0
    return PreparedProduction(
        version=str(version),
        bundle=replace(loaded, model=made.model),
        notes=made.notes if made.refitted else (),
        refit_seconds=seconds,
    )


__all__ = ["PreparedProduction", "prepare_production"]
