"""Test-wide isolation: a private ZenML store and MLflow backend, never the user's."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

# Must happen before anything imports zenml or mlflow: ZenML reads its global config once.
_ISOLATED = Path(tempfile.mkdtemp(prefix="movie-roulette-tests-"))
os.environ["ZENML_CONFIG_PATH"] = str(_ISOLATED / "zenml")
os.environ["ZENML_ANALYTICS_OPT_IN"] = "false"
os.environ["ZENML_LOGGING_VERBOSITY"] = os.environ.get("ZENML_LOGGING_VERBOSITY", "WARN")
os.environ["GX_ANALYTICS_ENABLED"] = "False"
os.environ["MOVIE_ROULETTE_CACHE_DIR"] = str(_ISOLATED / "cache")
os.environ.pop("MOVIE_ROULETTE_DATA_DIR", None)
os.environ.pop("MLFLOW_TRACKING_URI", None)

REPO_ROOT = Path(__file__).resolve().parents[1]
# set to keep the private store after the run (to inspect a failure)
KEEP_ENV = "MOVIE_ROULETTE_KEEP_TEST_STORE"


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Remove the private store once every fixture (and the servers they started) is torn down:
    one full run leaves 1-4 GB of ZenML artifacts and MLflow models, and runs that kept them
    filled this machine's disk (a later run then failed with "No space left on device")."""
    if os.environ.get(KEEP_ENV):
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.ensure_newline()
            reporter.write_line(f"test store kept at {_ISOLATED} ({KEEP_ENV} is set)")
        return
    shutil.rmtree(_ISOLATED, ignore_errors=True)


def _shared_data() -> Path:
    configured = os.environ.get("MOVIE_ROULETTE_SHARED_DATA")
    return Path(configured) if configured else REPO_ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data_dir() -> Path:
    path = _shared_data()
    if not (path / "ml-latest-small" / "ratings.csv").is_file():
        pytest.fail(
            f"Real data not found at {path}. Put the shared data folder beside the repository "
            "(../shared/data) or set MOVIE_ROULETTE_SHARED_DATA."
        )
    return path


@pytest.fixture(scope="session")
def isolated_root() -> Path:
    return _ISOLATED


@pytest.fixture(scope="session")
def api_fixtures_dir() -> Path:
    path = _shared_data() / "api-fixtures"
    if not (path / "tmdb" / "movie-details.json").is_file():
        pytest.fail(f"Recorded API fixtures not found at {path} (expected tmdb/ and imdb/).")
    return path


@pytest.fixture()
def fixture_server(api_fixtures_dir: Path):  # noqa: ANN201
    """A running local TMDB/IMDb fixture server (see tests/fixture_server.py)."""
    from tests.fixture_server import FixtureServer

    with FixtureServer(api_fixtures_dir) as server:
        yield server


# py4j (Spark's Python-JVM bridge) leaves its gateway sockets to the garbage collector; the
# "unclosed socket" ResourceWarning then surfaces as an unraisable-exception warning in whatever
# test runs next. Tolerated for the Spark-marked tests only: everywhere else a leak is an error.
SPARK_SOCKET_WARNINGS = (
    "ignore::pytest.PytestUnraisableExceptionWarning",
    "ignore:unclosed <socket.socket:ResourceWarning",
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if item.get_closest_marker("spark") is not None:
            for spec in SPARK_SOCKET_WARNINGS:
                item.add_marker(pytest.mark.filterwarnings(spec))


@pytest.fixture(scope="session")
def packaged(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo model packaged as the pipeline registers it (pyfunc from code, the bundle as an
    artifact), in a folder MLflow can load or serve."""
    from tests.webapp_support import build_demo_bundle, save_pyfunc

    work = tmp_path_factory.mktemp("pyfunc")
    return save_pyfunc(build_demo_bundle(work / "bundle", enriched=False), work / "model")
