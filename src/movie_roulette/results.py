"""What the model answers, as types: ranked `Recommendations`, a `RatingPrediction`, and the
`Fallback` each may carry.

A fallback says how an answer was made when the model could not use everything it knows about
the person asking (Surprise's `Prediction.details` plays this role). Its `value` is the string the
model server puts into the `"fallback"` field of its JSON answers (docs/serving.md); None means
no fallback: a known user answered by the full blend.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any


class Fallback(Enum):
    """Every fallback of the recommender; the value is the JSON `fallback` field (an Enum, not a
    str: comparing with a string or dumping it to JSON unconverted fails loudly)."""

    # an unknown user, or a newcomer none of whose rated movies the model knows: popularity
    # mixed with content diversity (HybridRecommender.cold_start_scores)
    COLD_START = "cold_start:popularity+content"
    # a newcomer's own ratings folded into the components without refitting
    # (`Recommendations.used` names the components that could score them)
    FOLD_IN = "fold_in"
    # a rating for an unknown user: the global mean plus the movie's bias
    UNKNOWN_USER = "unknown_user:item_baseline"
    # a rating of a movie the model never saw rated: the user's baseline
    UNKNOWN_MOVIE = "unknown_movie:user_baseline"

    def __str__(self) -> str:
        return str(self.value)

    @classmethod
    def from_json(cls, value: Any) -> Fallback | None:
        """The fallback of an answer's `"fallback"` field; None for null or a value this code
        does not know. Model versions registered before this type said "fold_in:<components>"
        and "unknown_user:baseline"; a rollback serves them again, so those are read too."""
        if value is None or isinstance(value, cls):
            return value
        if not isinstance(value, str):
            return None
        try:
            return cls(value)
        except ValueError:
            head = value.partition(":")[0]
            return _LEGACY_HEADS.get(head)


_LEGACY_HEADS = {
    "cold_start": Fallback.COLD_START,
    "fold_in": Fallback.FOLD_IN,
    "unknown_user": Fallback.UNKNOWN_USER,
    "unknown_movie": Fallback.UNKNOWN_MOVIE,
}


def fallback_json(fallback: Fallback | None) -> str | None:
    """The `"fallback"` field of a JSON answer."""
    return None if fallback is None else fallback.value


@dataclass(frozen=True)
class RecommendedItem:
    movie_id: int
    score: float
    components: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Recommendations:
    """A ranked list, best first, and how it was made (`fallback`; `used`: for a fold-in, the
    components that could score the newcomer's ratings)."""

    items: list[RecommendedItem]
    fallback: Fallback | None = None
    used: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.fallback is not None and not isinstance(self.fallback, Fallback):
            raise TypeError(f"fallback: expected a Fallback or None, got {self.fallback!r}")

    @property
    def movie_ids(self) -> list[int]:
        return [item.movie_id for item in self.items]

    def to_dict(self) -> dict[str, Any]:
        return {
            "items": [
                {"movie_id": i.movie_id, "score": i.score, "components": dict(i.components)}
                for i in self.items
            ],
            "fallback": fallback_json(self.fallback),
        }


@dataclass(frozen=True)
class RatingPrediction:
    """One predicted rating (clipped to the rating scale) and the fallback that made it."""

    user_id: int
    movie_id: int
    value: float
    fallback: Fallback | None = None

    def __post_init__(self) -> None:
        if self.fallback is not None and not isinstance(self.fallback, Fallback):
            raise TypeError(f"fallback: expected a Fallback or None, got {self.fallback!r}")


__all__ = [
    "Fallback",
    "RatingPrediction",
    "RecommendedItem",
    "Recommendations",
    "fallback_json",
]
