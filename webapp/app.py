"""The app factory: loads the catalogue once, wires the client, metrics and security."""

from __future__ import annotations

import logging

from flask import Flask

from movie_roulette.search import TitleIndex
from serving.client import ModelServerClient
from webapp import blueprints, security
from webapp.catalogue import CatalogueStore
from webapp.config import AppConfig
from webapp.experiment import ArmRouter
from webapp.feedback import FeedbackLog
from webapp.metrics import AppMetrics
from webapp.posters import PosterFetcher
from webapp.services import EXTENSION, Services

log = logging.getLogger(__name__)


MAX_BODY_BYTES = 64 * 1024
MAX_FORM_FIELDS = 200


def create_app(config: AppConfig | None = None, store: CatalogueStore | None = None) -> Flask:
    """Build the app; `config` defaults to AppConfig.from_env(), `store` to the bundle's data."""
    config = config or AppConfig.from_env()
    store = store or CatalogueStore.from_bundle(config.bundle_path)
    app = Flask(__name__)
    app.config.update(SECRET_KEY=config.secret_key, TESTING=config.testing, JSON_SORT_KEYS=False)
    # The app's forms are a rating or a page of 12 newcomer ratings: a bigger body is refused
    # (413) before it is parsed (Flask limits no urlencoded body by default).
    app.config.update(MAX_CONTENT_LENGTH=MAX_BODY_BYTES, MAX_FORM_PARTS=MAX_FORM_FIELDS)
    metrics = AppMetrics()
    index = TitleIndex(store.index_rows())
    client = ModelServerClient(
        config.server_url, config.server_timeout, observer=metrics.observe_server_call
    )
    app.extensions[EXTENSION] = Services(
        config=config,
        store=store,
        index=index,
        client=client,
        metrics=metrics,
        posters=PosterFetcher(
            config.tmdb_image_base,
            config.poster_cache_dir,
            config.poster_timeout,
            enabled=config.remote_posters,
        ),
        feedback=FeedbackLog(config.feedback_log, metrics.feedback),
        router=ArmRouter(
            config.experiment_state_dir,
            config.feedback_log,
            client,
            lambda url: ModelServerClient(
                url, config.server_timeout, observer=metrics.observe_server_call
            ),
        ),
    )
    metrics.init_app(app)
    security.init_app(app)
    blueprints.register(app)
    log.info(
        "web app: %d movies, %d known users, model server %s, feedback log %s",
        len(store),
        len(store.user_ids),
        config.server_url,
        config.feedback_log or "off",
    )
    return app
