"""`python -m webapp` / `make app`: find the model bundle and the model server, then serve the
web app with gunicorn on loopback.

The bundle: --bundle PATH, else $MOVIE_ROULETTE_BUNDLE, else the version the running model
server serves (or the production version) from the MLflow registry of the ZenML stack,
downloaded once into .movie_roulette/app-bundles/. The server URL: --server-url, else
$MOVIE_ROULETTE_SERVER_URL, else the running server's URL, else serving.host:serving.port of
the config.

The feedback log (clicks, ratings and accepted spins of picked users): --event-log PATH, else
$MOVIE_ROULETTE_EVENT_LOG, else the config's `monitoring.batches.event_log_path`
(continuous.event_log, else <continuous.state_dir or <cache>/continuous/<model_name>>/events.jsonl),
the log a continuous-training run with the same config reads. --no-feedback-log or
MOVIE_ROULETTE_LOG_FEEDBACK=0 switches it off.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import click

from movie_roulette import bundle as bundle_io
from movie_roulette.exceptions import BundleError

log = logging.getLogger("webapp")
CACHE = Path(".movie_roulette") / "app-bundles"


def _registry_bundle(config_path: Path) -> tuple[Path, str | None]:
    """(bundle folder, URL of the server serving it or None), through the ZenML stack."""
    from movie_roulette.config import load_config
    from serving import deployment, registry

    cfg = load_config(config_path)
    running = [s for s in deployment.list_servers(cfg.model_name) if s.running and s.url]
    if running:
        version, url = running[0].model_version, running[0].url
    else:
        version, url = registry.production_version(cfg.model_name), None
        if version is None:
            configs = Path(__file__).resolve().parents[1] / "configs"
            message = registry.no_production_message(cfg.model_name, config_path, configs)
            raise click.ClickException(f"{message} Or pass --bundle PATH.")
    target = CACHE / f"{cfg.model_name}-v{version}"
    try:
        bundle_io.read_manifest(target)
    except BundleError:
        click.echo(f"Downloading the bundle of {cfg.model_name} version {version} ...")
        CACHE.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=CACHE) as tmp:
            downloaded = registry.download_bundle(cfg.model_name, version, Path(tmp))
            staging = CACHE / f".{target.name}.tmp"
            shutil.rmtree(staging, ignore_errors=True)
            shutil.copytree(downloaded, staging)
            shutil.rmtree(target, ignore_errors=True)
            os.replace(staging, target)
    return target, url or f"http://{cfg.serving.host}:{cfg.serving.port}"


def feedback_log_path(config_path: Path, explicit: Path | None) -> Path:
    """--event-log, else $MOVIE_ROULETTE_EVENT_LOG, else the pipeline config's event log."""
    if explicit is not None:
        return explicit
    if os.environ.get("MOVIE_ROULETTE_EVENT_LOG", "").strip():
        return Path(os.environ["MOVIE_ROULETTE_EVENT_LOG"].strip())
    from movie_roulette.config import load_config
    from movie_roulette.monitoring.batches import event_log_path

    return event_log_path(load_config(config_path))


def experiment_dir(config_path: Path) -> Path:
    """Where `run_pipeline.py --experiment` keeps experiment.json: the config's state dir."""
    from movie_roulette.config import load_config
    from movie_roulette.monitoring.batches import state_dir

    return state_dir(load_config(config_path))


def serve(app: Any, host: str, port: int, threads: int) -> None:
    from gunicorn.app.base import BaseApplication

    class _Gunicorn(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", 1)  # one process: the catalogue and index are loaded once
            self.cfg.set("worker_class", "gthread")
            self.cfg.set("threads", threads)
            self.cfg.set("accesslog", "-")
            self.cfg.set("timeout", 60)

        def load(self) -> Any:
            return app

    _Gunicorn().run()


@click.command()
@click.option(
    "--bundle", "bundle_path", type=click.Path(path_type=Path), help="Model bundle folder."
)
@click.option("--server-url", help="Model server URL (default: the running server).")
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path, exists=True),
    default="configs/quickstart.yaml",
    show_default=True,
    help="Pipeline config: model name and serving port.",
)
@click.option(
    "--event-log",
    "event_log",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Feedback log file (default: $MOVIE_ROULETTE_EVENT_LOG, else the config's event log).",
)
@click.option(
    "--no-feedback-log",
    "no_feedback_log",
    is_flag=True,
    help="Do not log clicks, ratings and accepted spins (also MOVIE_ROULETTE_LOG_FEEDBACK=0).",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(1, 65535))
@click.option("--threads", default=8, show_default=True, type=click.IntRange(1, 64))
def main(
    bundle_path: Path | None,
    server_url: str | None,
    config_path: Path,
    event_log: Path | None,
    no_feedback_log: bool,
    host: str,
    port: int,
    threads: int,
) -> None:
    """Serve the Movie Roulette web app."""
    from webapp import AppConfig, create_app

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    bundle_path = bundle_path or (
        Path(os.environ["MOVIE_ROULETTE_BUNDLE"])
        if os.environ.get("MOVIE_ROULETTE_BUNDLE")
        else None
    )
    found_url = None
    if bundle_path is None:
        bundle_path, found_url = _registry_bundle(config_path)
    url = server_url or os.environ.get("MOVIE_ROULETTE_SERVER_URL") or found_url
    try:
        overrides: dict[str, object] = {
            "server_url": url,
            "event_log": feedback_log_path(config_path, event_log),
        }
        if no_feedback_log:
            overrides["log_feedback"] = False
        if not os.environ.get("MOVIE_ROULETTE_EXPERIMENT_DIR", "").strip():
            overrides["experiment_dir"] = experiment_dir(config_path)
        config = AppConfig.from_env(bundle_path, **overrides)
        app = create_app(config)
    except (BundleError, ValueError) as err:
        raise click.ClickException(str(err)) from err
    click.echo(f"Movie Roulette web app on http://{host}:{port} (model server {url or 'default'})")
    click.echo(f"Feedback log: {config.feedback_log or 'off'}")
    serve(app, host, port, threads)


if __name__ == "__main__":
    main()
