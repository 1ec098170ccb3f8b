"""The app's services (catalogue, model-server client, metrics, ...), one per app instance:
`services()` inside a request, like flaskr's `get_db()`. The blueprints import this module, not
the app factory (which imports the blueprints)."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from movie_roulette.search import TitleIndex
from serving.client import ModelServerClient
from webapp.catalogue import CatalogueStore
from webapp.config import AppConfig
from webapp.experiment import ArmRouter
from webapp.feedback import FeedbackLog
from webapp.metrics import AppMetrics
from webapp.posters import PosterFetcher

EXTENSION = "movie_roulette"


@dataclass
class Services:
    config: AppConfig
    store: CatalogueStore
    index: TitleIndex
    client: ModelServerClient
    metrics: AppMetrics
    posters: PosterFetcher
    feedback: FeedbackLog
    router: ArmRouter


def services() -> Services:
    return current_app.extensions[EXTENSION]
