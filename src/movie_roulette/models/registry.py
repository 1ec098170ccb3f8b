"""Every model class, registered for plain-format state: meta['class'] -> recommender class.

Each `Recommender` subclass registers itself when its module is imported
(`Recommender.__init_subclass__`); importing this module imports every model module, so
`model_from_state` knows them all.
"""

from __future__ import annotations

from movie_roulette.models import (  # noqa: F401  (imported to register their classes)
    collaborative,
    content,
    factor_als,
    genre_taste,
    hybrid,
    implicit,
    popularity,
    review_sentiment,
    scalable,
)
from movie_roulette.models.base import model_from_state

__all__ = ["model_from_state"]
