"""What the hybrid returns: ranked items with each component's z-score, and the fallback used."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

COLD_START = "cold_start:popularity+content"


@dataclass(frozen=True)
class RecommendedItem:
    movie_id: int
    score: float
    components: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Recommendations:
    items: list[RecommendedItem]
    fallback: str | None = None

    @property
    def movie_ids(self) -> list[int]:
        return [item.movie_id for item in self.items]

    def to_dict(self) -> dict[str, Any]:
        return {
            "items": [
                {"movie_id": i.movie_id, "score": i.score, "components": dict(i.components)}
                for i in self.items
            ],
            "fallback": self.fallback,
        }
