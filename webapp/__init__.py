"""Movie Roulette web app: search with autocomplete, movie pages with reviews and their
sentiment, personal recommendations, a newcomer path, and the roulette spin.

`create_app(AppConfig(...))` builds the Flask app; `python -m webapp` (or `make app`) runs it.
"""

from __future__ import annotations

from webapp.app import create_app
from webapp.config import AppConfig

__all__ = ["AppConfig", "create_app"]
