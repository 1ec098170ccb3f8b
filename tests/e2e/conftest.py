"""Browser tests: the web app in a real headless Chromium (the system's Debian `chromium`, driven
by Playwright; never a downloaded browser) against the real MLflow scoring server serving the
pyfunc model exactly as the registry logs it."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.webapp_support import build_demo_bundle, free_port, save_pyfunc

REPO_ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO_ROOT / "test-artifacts" / "e2e"
CHROMIUM = os.environ.get("MOVIE_ROULETTE_CHROMIUM", "/usr/bin/chromium")
SERVER_START_TIMEOUT = 180


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def e2e_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_demo_bundle(tmp_path_factory.mktemp("e2e") / "bundle", enriched=True)


@pytest.fixture(scope="session")
def model_server(e2e_bundle: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`mlflow models serve` on a free loopback port; yields its URL."""
    work = tmp_path_factory.mktemp("mlflow-serve")
    model = save_pyfunc(e2e_bundle, work / "model")
    port = free_port()
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    log_path = work / "server.log"
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [str(bin_dir / "mlflow"), "models", "serve", "-m", str(model), "--env-manager",
             "local", "--host", "127.0.0.1", "--port", str(port)],
            env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while True:
            try:
                if requests.get(f"{url}/ping", timeout=1).ok:
                    break
            except requests.RequestException:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"mlflow models serve did not start:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.5)
        yield url
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)  # uvicorn runs as a child of the mlflow CLI
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        shutil.copy(log_path, ARTIFACTS / "mlflow-server.log")


def _serve_app(bundle: Path, server_url: str, event_log: Path | None = None) -> Iterator[str]:
    from werkzeug.serving import make_server

    from webapp import AppConfig, create_app

    app = create_app(
        AppConfig(
            bundle_path=bundle, server_url=server_url, remote_posters=False, event_log=event_log
        )
    )
    server = make_server("127.0.0.1", free_port(), app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join()


@pytest.fixture(scope="session")
def event_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The feedback log of the app at `app_url` (clicks, ratings, accepted spins)."""
    return tmp_path_factory.mktemp("feedback") / "events.jsonl"


@pytest.fixture(scope="session")
def app_url(e2e_bundle: Path, model_server: str, event_log: Path) -> Iterator[str]:
    yield from _serve_app(e2e_bundle, model_server, event_log)


@pytest.fixture(scope="session")
def down_app_url(e2e_bundle: Path) -> Iterator[str]:
    """The web app pointed at a port where no model server listens."""
    yield from _serve_app(e2e_bundle, f"http://127.0.0.1:{free_port()}")


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).is_file():
        pytest.fail(
            f"No Chromium at {CHROMIUM}: install Debian's `chromium` package (apt-get install -y "
            "chromium; .ci/run does this) or set MOVIE_ROULETTE_CHROMIUM to the browser binary."
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield browser
        browser.close()


class Page:
    """A fresh browser context + page that records console errors (CSP violations included)."""

    def __init__(self, browser: Any, **context: Any) -> None:
        self.context = browser.new_context(**context)
        self.page = self.context.new_page()
        self.page.set_default_timeout(20_000)
        self.errors: list[str] = []
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    wrapped = Page(browser, viewport={"width": 1280, "height": 860})
    yield wrapped
    wrapped.context.close()
