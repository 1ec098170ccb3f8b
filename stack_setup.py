"""Idempotent set-up of the project's ZenML stack: the local one, or (--team) the team stack.

local orchestrator + local artifact store + MLflow experiment tracker + MLflow model registry
+ MLflow model deployer (ZenML's, with a fixed port: flavor `movie_roulette_mlflow`, see
serving/zenml_deployer.py). Running it twice changes nothing; a component with the same name but
another flavor is reported instead of silently replaced.

`--team` (docs/team-stack.md): connect this client to the team's ZenML server and register the
stack `movie_roulette_team`, whose experiment tracker and model registry are the team's MLflow
server (PostgreSQL backend, served artifacts). Settings come from the environment or .env
(MR_ZENML_PORT/_USER/_PASSWORD, MR_MLFLOW_PORT/_USER/_PASSWORD, or MOVIE_ROULETTE_ZENML_URL and
MOVIE_ROULETTE_MLFLOW_URL); `make stack-setup` runs it with ZENML_CONFIG_PATH=.team/zenml so the
user's own ZenML client config is left alone. Once the team stack is active, `ensure_stack()`
(run_pipeline.py) keeps it and checks both servers answer before any step runs.
"""

from __future__ import annotations

import argparse
import logging
import os
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

STACK_NAME = "movie_roulette_local"
COMPONENTS: dict[str, tuple[str, str]] = {
    # component type -> (component name, flavor)
    "orchestrator": ("default", "local"),
    "artifact_store": ("default", "local"),
    "experiment_tracker": ("mlflow_tracker", "mlflow"),
    "model_registry": ("mlflow_registry", "mlflow"),
    "model_deployer": ("movie_roulette_deployer", "movie_roulette_mlflow"),
}
CUSTOM_FLAVORS = {
    "model_deployer": "serving.zenml_deployer.MovieRouletteModelDeployerFlavor",
}
TRACKING_URI_ENV = "MOVIE_ROULETTE_MLFLOW_TRACKING_URI"
TEAM_STACK_NAME = "movie_roulette_team"
# --docker: the same stack with ZenML's local_docker orchestrator (every step in a container of
# the project image, used as built: nothing is pulled or built by ZenML).
TEAM_DOCKER_STACK_NAME = "movie_roulette_team_docker"
TEAM_DOCKER_ORCHESTRATOR = ("team_docker", "local_docker")
TEAM_MLFLOW_SECRET = "movie_roulette_mlflow"
FAST_FAIL_MLFLOW_ENV = {
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "3",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "30",
}
ENV_FILE_VAR = "MR_ENV_FILE"  # like docker/stack.sh: another settings file than ./.env

log = logging.getLogger(__name__)


def _component_config(component_type: str) -> dict[str, Any]:
    if component_type == "experiment_tracker" and os.environ.get(TRACKING_URI_ENV):
        return {"tracking_uri": os.environ[TRACKING_URI_ENV]}
    return {}


def ensure_stack(activate: bool = True) -> str:
    """Create (if missing) and activate the project's stack; return its name.

    When the team stack is the active one (after `stack_setup.py --team`), keep it: check that
    its servers answer (a clear error now, not a failed step later) and return its name."""
    from zenml.client import Client

    client = Client()
    active = client.active_stack_model.name
    if active in (TEAM_STACK_NAME, TEAM_DOCKER_STACK_NAME):
        check_tracking_server(mlflow_tracking_uri())
        # MLflow server gone mid-run: fail the step in seconds, not after MLflow's default
        # 7 retries with exponential backoff (minutes). The environment can still override.
        for name, value in FAST_FAIL_MLFLOW_ENV.items():
            os.environ.setdefault(name, value)
        return active
    return _ensure(client, STACK_NAME, COMPONENTS, {}, activate)


def failure_hint() -> str:
    """After a failed run: on a team stack whose MLflow server stopped answering, say so."""
    from zenml.client import Client

    if Client().active_stack_model.name not in (TEAM_STACK_NAME, TEAM_DOCKER_STACK_NAME):
        return ""
    try:
        check_tracking_server(mlflow_tracking_uri())
    except TeamStackError as err:
        return "\n" + str(err).replace("Nothing was run.", "Then run the pipeline again.")
    return ""


def run_settings() -> dict[str, Any]:
    """Pipeline settings the active stack needs: on the team's docker stack, steps run in the
    project image as built (MR_IMAGE, default movie-roulette:latest; `make images`)."""
    from zenml.client import Client

    if Client().active_stack_model.name != TEAM_DOCKER_STACK_NAME:
        return {}
    from zenml.config import DockerSettings

    image = team_setting("MR_IMAGE", "movie-roulette:latest")
    return {"docker": DockerSettings(parent_image=image, skip_build=True)}


def _ensure(
    client: Any,
    stack_name: str,
    wanted: dict[str, tuple[str, str]],
    configs: dict[str, dict[str, Any]],
    activate: bool,
) -> str:
    """Register `wanted` components (config from `configs`, else the defaults) and the stack."""
    from zenml.enums import StackComponentType
    from zenml.models import FlavorFilter

    components: dict[StackComponentType, str] = {}
    for type_name, (name, flavor) in wanted.items():
        ctype = StackComponentType(type_name)
        if (
            type_name in CUSTOM_FLAVORS
            and not client.zen_store.list_flavors(FlavorFilter(name=flavor, type=ctype)).items
        ):
            client.create_flavor(source=CUSTOM_FLAVORS[type_name], component_type=ctype)
            log.info("Registered ZenML %s flavor %r.", type_name, flavor)
        existing = client.list_stack_components(type=ctype, name=name)
        if existing.items:
            found = existing.items[0]
            if found.flavor_name != flavor:
                raise RuntimeError(
                    f"A ZenML {type_name} named {name!r} exists with flavor "
                    f"{found.flavor_name!r}, not {flavor!r}. Rename or delete it "
                    f"(zenml {type_name.replace('_', '-')} delete {name}) and run again."
                )
            config = configs.get(type_name)
            if config and any(found.configuration.get(k) != v for k, v in config.items()):
                client.update_stack_component(name, ctype, configuration=config)
                log.info("Updated ZenML %s %r: %s.", type_name, name, sorted(config))
        else:
            client.create_stack_component(
                name=name,
                flavor=flavor,
                component_type=ctype,
                configuration=configs.get(type_name, _component_config(type_name)),
            )
            log.info("Registered ZenML %s %r (%s).", type_name, name, flavor)
        components[ctype] = name

    stacks = client.list_stacks(name=stack_name)
    if not stacks.items:
        client.create_stack(name=stack_name, components=components)
        log.info("Registered ZenML stack %r.", stack_name)
    else:  # an older set-up may hold other components: point the stack at ours
        stack = client.get_stack(stack_name)
        current = {t: [c.name for c in cs] for t, cs in stack.components.items()}
        updates = {t: [n] for t, n in components.items() if current.get(t) != [n]}
        if updates:
            client.update_stack(stack_name, component_updates=updates)
            log.info("Updated ZenML stack %r: %s.", stack_name, sorted(map(str, updates)))
    if activate and client.active_stack_model.name != stack_name:
        client.activate_stack(stack_name)
    return stack_name


def mlflow_tracking_uri() -> str:
    """The tracking URI the stack's MLflow experiment tracker uses."""
    from zenml.client import Client

    tracker = Client().active_stack.experiment_tracker
    if tracker is None:
        raise RuntimeError("The active ZenML stack has no experiment tracker; run ensure_stack().")
    return tracker.get_tracking_uri()  # type: ignore[attr-defined]


class TeamStackError(RuntimeError):
    """A team server is unreachable or a setting is missing; the message names the fix."""


def team_setting(name: str, default: str | None = None) -> str:
    """An MR_* setting: the environment, else .env (git-ignored), else `default`."""
    if os.environ.get(name):
        return os.environ[name]
    env_file = Path(os.environ.get(ENV_FILE_VAR) or Path(__file__).with_name(".env"))
    if env_file.is_file():
        for line in env_file.read_text().splitlines():
            key, sep, value = line.partition("=")
            if sep and key.strip() == name and value.strip():
                return value.strip()
    if default is None:
        raise TeamStackError(
            f"{name} is not set: export it or put it in {env_file} "
            "(`make stack-up` writes one; see .env.example)."
        )
    return default


def _http_error(url: str) -> str | None:
    """None when `url` answers 200, else the reason."""
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 (http(s) only)
            return None if response.status == 200 else f"HTTP {response.status}"
    except (urllib.error.URLError, OSError) as err:
        return str(getattr(err, "reason", err))


def check_tracking_server(tracking_uri: str) -> None:
    """Fail now, naming the fix, when a remote MLflow tracking server does not answer."""
    if not tracking_uri.startswith(("http://", "https://")):
        return
    reason = _http_error(f"{tracking_uri.rstrip('/')}/health")
    if reason is not None:
        raise TeamStackError(
            f"The MLflow tracking server at {tracking_uri} does not answer ({reason}): start the "
            "team stack with `make stack-up` (status: `make stack-status`). Nothing was run."
        )


def team_urls() -> tuple[str, str]:
    """(ZenML server URL, MLflow tracking URI) of the team stack."""
    zenml_url = os.environ.get("MOVIE_ROULETTE_ZENML_URL") or (
        f"http://127.0.0.1:{team_setting('MR_ZENML_PORT', '8238')}"
    )
    mlflow_url = os.environ.get("MOVIE_ROULETTE_MLFLOW_URL") or (
        f"http://127.0.0.1:{team_setting('MR_MLFLOW_PORT', '5050')}"
    )
    return zenml_url, mlflow_url


def connect_team_server(zenml_url: str) -> None:
    """Point this client's ZenML config (ZENML_CONFIG_PATH) at the team's ZenML server."""
    reason = _http_error(f"{zenml_url}/health")
    if reason is not None:
        raise TeamStackError(
            f"The ZenML server at {zenml_url} does not answer ({reason}): start the team stack "
            "with `make stack-up`."
        )
    from zenml.config.global_config import GlobalConfiguration
    from zenml.zen_stores.rest_zen_store import RestZenStoreConfiguration

    GlobalConfiguration().set_store(
        RestZenStoreConfiguration(
            url=zenml_url,
            username=team_setting("MR_ZENML_USER", "default"),
            password=team_setting("MR_ZENML_PASSWORD"),
        )
    )


def ensure_team_stack(artifact_dir: Path | None = None, docker: bool = False) -> str:
    """Connect to the team's ZenML server and register + activate the team stack.

    The artifact store's folder defaults to `<ZenML local stores>/movie_roulette_team`: inside
    the local stores path, which ZenML's local_docker orchestrator mounts into step containers."""
    zenml_url, mlflow_url = team_urls()
    check_tracking_server(mlflow_url)
    connect_team_server(zenml_url)
    from zenml.client import Client
    from zenml.config.global_config import GlobalConfiguration

    if artifact_dir is None:
        artifact_dir = Path(GlobalConfiguration().local_stores_path) / TEAM_STACK_NAME

    client = Client()
    values = {
        "username": team_setting("MR_MLFLOW_USER", "team"),
        "password": team_setting("MR_MLFLOW_PASSWORD"),
    }
    try:
        secret = client.get_secret(TEAM_MLFLOW_SECRET)
        if secret.secret_values != values:
            client.update_secret(TEAM_MLFLOW_SECRET, add_or_update_values=values)
    except KeyError:
        client.create_secret(TEAM_MLFLOW_SECRET, values=values)
    artifact_dir.mkdir(parents=True, exist_ok=True)
    wanted = {**COMPONENTS, "artifact_store": ("team_artifacts", "local")}
    if docker:
        wanted["orchestrator"] = TEAM_DOCKER_ORCHESTRATOR
    configs = {
        # host networking: the step containers reach the servers on 127.0.0.1 as the host does
        "orchestrator": {"run_args": {"network_mode": "host"}} if docker else {},
        "artifact_store": {"path": str(artifact_dir.resolve())},
        "experiment_tracker": {
            "tracking_uri": mlflow_url,
            "tracking_username": f"{{{{{TEAM_MLFLOW_SECRET}.username}}}}",
            "tracking_password": f"{{{{{TEAM_MLFLOW_SECRET}.password}}}}",
        },
    }
    name = TEAM_DOCKER_STACK_NAME if docker else TEAM_STACK_NAME
    return _ensure(client, name, wanted, configs, activate=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--team", action="store_true", help="connect to the team stack (make stack-up first)"
    )
    parser.add_argument(
        "--artifact-dir",
        type=Path,
        default=Path(os.environ["MR_ARTIFACT_DIR"]) if os.environ.get("MR_ARTIFACT_DIR") else None,
        help="--team: the ZenML artifact store's folder (default: in ZenML's local stores)",
    )
    parser.add_argument(
        "--docker",
        action="store_true",
        help="--team: ZenML's local_docker orchestrator (steps in the project image)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    try:
        name = ensure_team_stack(args.artifact_dir, args.docker) if args.team else ensure_stack()
    except TeamStackError as err:
        parser.exit(2, f"stack_setup: {err}\n")
    print(f"Active stack: {name}")
    print(f"MLflow tracking URI: {mlflow_tracking_uri()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
