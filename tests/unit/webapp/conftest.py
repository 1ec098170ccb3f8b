"""Fixtures for the web-app route tests: demo bundles with and without the optional columns,
and a real HTTP model server speaking the scoring-server contract."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.webapp_support import build_demo_bundle, contract_server, free_port, make_app


@pytest.fixture(scope="session", params=["enriched", "plain"])
def bundle_path(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_demo_bundle(
        tmp_path_factory.mktemp(request.param) / "bundle", enriched=request.param == "enriched"
    )


@pytest.fixture(scope="session")
def enriched_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_demo_bundle(tmp_path_factory.mktemp("rich") / "bundle", enriched=True)


@pytest.fixture(scope="session")
def server_url(bundle_path: Path) -> Iterator[str]:
    with contract_server(bundle_path) as url:
        yield url


@pytest.fixture
def app(bundle_path: Path, server_url: str) -> Flask:
    return make_app(bundle_path, server_url)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def down_client(bundle_path: Path) -> FlaskClient:
    """The app pointed at a port where nothing listens: the model server is down."""
    return make_app(
        bundle_path, f"http://127.0.0.1:{free_port()}", server_timeout=2.0
    ).test_client()
