"""Start (or stop) the ZenML dashboard and the MLflow UI on loopback and print their URLs.

make dashboards          # python dashboards.py --config $(CONFIG): then the latest run's reports
make dashboards-stop     # python dashboards.py --stop

ZenML: `zenml login --local` starts the local ZenML server (a daemon) against this machine's
ZenML store and connects the client to it. MLflow: `mlflow ui` against the tracking URI of the
project stack's experiment tracker (the same store the pipelines log to and the registry uses).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import click

os.environ.setdefault("ZENML_ANALYTICS_OPT_IN", "false")
HOST = "127.0.0.1"
BIN = Path(sys.executable).parent


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((HOST, port)) == 0


def _pid_file() -> Path:
    from movie_roulette.data.download import default_cache_dir

    return default_cache_dir() / "mlflow-ui.pid"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


def start_mlflow_ui(tracking_uri: str, port: int, timeout: float = 90.0) -> str:
    url = f"http://{HOST}:{port}"
    pid_file = _pid_file()
    if pid_file.exists() and _alive(int(pid_file.read_text())) and _port_open(port):
        return url
    if _port_open(port):
        raise click.ClickException(
            f"Port {port} is taken by another program; pass --mlflow-port to use another one."
        )
    log = pid_file.with_suffix(".log")
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            [str(BIN / "mlflow"), "ui", "--backend-store-uri", tracking_uri,
             "--host", HOST, "--port", str(port)],
            stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    pid_file.write_text(str(proc.pid))
    deadline = time.monotonic() + timeout
    while not _port_open(port):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise click.ClickException(f"The MLflow UI did not start; see {log}.")
        time.sleep(0.5)
    return url


def stop_mlflow_ui() -> bool:
    pid_file = _pid_file()
    if not pid_file.exists():
        return False
    pid = int(pid_file.read_text())
    if _alive(pid):
        os.killpg(pid, signal.SIGTERM)  # the UI and its gunicorn/uvicorn workers
    pid_file.unlink()
    return True


def zenml(*args: str) -> str:
    result = subprocess.run(
        [str(BIN / "zenml"), *args], capture_output=True, text=True, timeout=300, check=False
    )
    if result.returncode != 0:
        raise click.ClickException(f"zenml {' '.join(args)} failed:\n{result.stderr[-2000:]}")
    return result.stdout + result.stderr


@click.command()
@click.option("--zenml-port", default=8237, show_default=True)
@click.option("--mlflow-port", default=5000, show_default=True)
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path(__file__).resolve().parent / "configs" / "quickstart.yaml",
    help="Whose reports to list (its model_name).  [default: configs/quickstart.yaml]",
)
@click.option("--stop", is_flag=True, help="Stop both dashboards.")
def main(zenml_port: int, mlflow_port: int, config_path: Path, stop: bool) -> None:
    """Start the ZenML dashboard and the MLflow UI on loopback; print where they are and the
    latest run's reports."""
    if stop:
        zenml("logout", "--local")
        click.echo("ZenML local server stopped.")
        click.echo("MLflow UI stopped." if stop_mlflow_ui() else "No MLflow UI was running.")
        return
    from movie_roulette.config import load_config
    from reports import reports_view
    from stack_setup import ensure_stack, mlflow_tracking_uri

    ensure_stack()
    tracking_uri = mlflow_tracking_uri()  # read before the client switches to the server
    mlflow_url = start_mlflow_ui(tracking_uri, mlflow_port)
    zenml("login", "--local", "--ip-address", HOST, "--port", str(zenml_port))
    zenml_url = f"http://{HOST}:{zenml_port}"
    click.echo(f"ZenML dashboard: {zenml_url}  (runs: DAG, step logs, artifact visualisations)")
    click.echo(f"MLflow UI:       {mlflow_url}  (experiments, metrics, model versions)")
    click.echo(f"MLflow tracking URI: {tracking_uri}")
    click.echo(reports_view(load_config(config_path).model_name, zenml_url, mlflow_url))
    click.echo("Stop both with `make dashboards-stop`.")


if __name__ == "__main__":
    main()
