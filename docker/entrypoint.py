"""The project image's entrypoint: one image, one command per role of the team stack.

    pipeline [run_pipeline.py args]   run a pipeline (the image's default role)
    model-server                      serve a registered version (MODEL_VERSION, else the
                                      production alias) with MLflow's scoring server
    webapp                            the web app, on the bundle of the served version
    mlflow-server                     MLflow tracking server: PostgreSQL backend, served artifacts
    zenml-server                      the ZenML server (uvicorn + ZenML's FastAPI app)

Settings come from the environment (docker/stack.sh passes them from .env); nothing secret is
baked into the image. Waits (PostgreSQL, MLflow, a production version) are bounded and print
what is being waited for and how to fix it.
"""

from __future__ import annotations

import os
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

APP_DIR = Path(os.environ.get("MOVIE_ROULETTE_APP_DIR", "/app"))
PRODUCTION_ALIAS = "champion"  # serving.registry.PRODUCTION_ALIAS (not imported: no mlflow here)


def env(name: str, default: str | None = None) -> str:
    value = os.environ.get(name, default)
    if value is None or value == "":
        sys.exit(f"entrypoint: {name} is not set: pass it with -e {name}=... (see .env.example).")
    return value


def say(message: str) -> None:
    print(f"entrypoint: {message}", file=sys.stderr, flush=True)


def wait_for(
    what: str, check: Callable[[], str | None], timeout: float, fix: str, every: float = 1.0
) -> None:
    """Poll `check` (None = ready, else the reason) until ready or `timeout` seconds passed."""
    deadline = time.monotonic() + timeout
    reason = check()
    announced = False
    while reason is not None:
        if time.monotonic() > deadline:
            sys.exit(f"entrypoint: {what} is not ready after {timeout:.0f} s ({reason}). {fix}")
        if not announced:
            say(f"waiting for {what} ({reason}) ...")
            announced = True
        time.sleep(every)
        reason = check()


def http_ok(url: str) -> Callable[[], str | None]:
    def check() -> str | None:
        try:
            with urllib.request.urlopen(url, timeout=3) as response:  # noqa: S310 (fixed URL)
                return None if response.status == 200 else f"HTTP {response.status}"
        except (urllib.error.URLError, OSError) as err:
            return str(getattr(err, "reason", err))

    return check


def postgres_ready(uri: str) -> Callable[[], str | None]:
    def check() -> str | None:
        import psycopg2

        try:
            psycopg2.connect(
                uri.replace("postgresql+psycopg2://", "postgresql://"), connect_timeout=3
            ).close()
        except psycopg2.OperationalError as err:
            return str(err).strip().splitlines()[0]
        return None

    return check


def mlflow_server(args: list[str]) -> None:
    backend = env("MLFLOW_BACKEND_STORE_URI")
    wait_for(
        "PostgreSQL",
        postgres_ready(backend),
        float(env("WAIT_SECONDS", "60")),
        "Start it (make stack-up starts mr-postgres first) and check POSTGRES_* in .env.",
    )
    os.execvp(
        "mlflow",
        [
            "mlflow",
            "server",
            "--backend-store-uri",
            backend,
            "--serve-artifacts",
            "--artifacts-destination",
            env("MLFLOW_ARTIFACTS_DESTINATION", "/mlflow/artifacts"),
            "--host",
            env("MLFLOW_HOST", "127.0.0.1"),
            "--port",
            env("MLFLOW_PORT", "5050"),
            "--workers",
            env("MLFLOW_WORKERS", "2"),
            *args,
        ],
    )


def zenml_server(args: list[str]) -> None:
    # ZenML reads ZENML_STORE_URL, ZENML_SERVER_AUTO_ACTIVATE, ZENML_DEFAULT_USER_NAME/_PASSWORD
    # and ZENML_SERVER_JWT_SECRET_KEY from the environment (set by docker/stack.sh).
    os.chdir(env("ZENML_SERVER_DIR", "/zenml"))  # not /app: no ZenML repository here
    os.environ.setdefault("ZENML_SERVER_DEPLOYMENT_TYPE", "docker")
    os.environ.setdefault("ZENML_ANALYTICS_OPT_IN", "false")
    os.execvp(
        "uvicorn",
        [
            "uvicorn",
            "zenml.zen_server.zen_server_api:app",
            "--host",
            env("ZENML_HOST", "127.0.0.1"),
            "--port",
            env("ZENML_PORT", "8238"),
            "--no-server-header",
            "--log-level",
            "warning",
            *args,
        ],
    )


def served_version(model_name: str) -> str:
    """MODEL_VERSION, else the version holding the production alias (waits for one)."""
    import mlflow
    from mlflow.tracking import MlflowClient

    tracking = env("MLFLOW_TRACKING_URI")
    wait_for(
        f"the MLflow server at {tracking}",
        http_ok(f"{tracking.rstrip('/')}/health"),
        float(env("WAIT_SECONDS", "60")),
        "Start it with `make stack-up`.",
    )
    if os.environ.get("MODEL_VERSION"):
        return os.environ["MODEL_VERSION"]
    client = MlflowClient()
    found: dict[str, str] = {}

    def has_production() -> str | None:
        try:
            found["v"] = str(
                client.get_model_version_by_alias(model_name, PRODUCTION_ALIAS).version
            )
        except mlflow.exceptions.MlflowException:
            return f"{model_name!r} has no @{PRODUCTION_ALIAS} version yet"
        return None

    wait_for(
        f"a production version of {model_name!r}",
        has_production,
        float(env("MODEL_WAIT_SECONDS", "86400")),
        "Train one: `make team-run` (stack_setup.py --team + run_pipeline.py).",
        every=5.0,
    )
    return found["v"]


def model_server(args: list[str]) -> None:
    name = env("MODEL_NAME", "movie_roulette")
    version = served_version(name)
    say(f"serving {name} version {version}")
    os.execvp(
        "mlflow",
        [
            "mlflow",
            "models",
            "serve",
            "-m",
            f"models:/{name}/{version}",
            "--env-manager",
            "local",
            "--host",
            env("MODEL_HOST", "127.0.0.1"),
            "--port",
            env("MODEL_PORT", "8101"),
            "--workers",
            env("MODEL_WORKERS", "2"),
            *args,
        ],
    )


def webapp(args: list[str]) -> None:
    import mlflow

    name = env("MODEL_NAME", "movie_roulette")
    version = served_version(name)
    target = Path(env("BUNDLE_CACHE", str(Path.home() / "bundles"))) / f"{name}-v{version}"
    if not (target / "artifacts" / "bundle").is_dir():
        say(f"downloading the bundle of {name} version {version}")
        target.mkdir(parents=True, exist_ok=True)
        mlflow.artifacts.download_artifacts(
            artifact_uri=f"models:/{name}/{version}", dst_path=str(target)
        )
    os.execvp(
        sys.executable,
        [
            sys.executable,
            "-m",
            "webapp",
            "--bundle",
            str(target / "artifacts" / "bundle"),
            "--server-url",
            env("MODEL_SERVER_URL"),
            "--config",
            env("PIPELINE_CONFIG", "configs/team.yaml"),
            "--event-log",
            env("EVENT_LOG", "/data/events.jsonl"),
            "--host",
            env("APP_HOST", "127.0.0.1"),
            "--port",
            env("APP_PORT", "8181"),
            *args,
        ],
    )


def pipeline(args: list[str]) -> None:
    os.execvp(sys.executable, [sys.executable, str(APP_DIR / "run_pipeline.py"), *args])


ROLES: dict[str, Callable[[list[str]], None]] = {
    "pipeline": pipeline,
    "model-server": model_server,
    "webapp": webapp,
    "mlflow-server": mlflow_server,
    "zenml-server": zenml_server,
}


def main(argv: list[str]) -> None:
    if not argv or argv[0] in {"-h", "--help"}:
        print(__doc__)
        return
    role, *rest = argv
    if role not in ROLES:
        # Anything else runs as a command (ZenML's local_docker orchestrator passes its own).
        os.execvp(role, argv)
    os.chdir(APP_DIR)
    ROLES[role](rest)


if __name__ == "__main__":
    main(sys.argv[1:])
