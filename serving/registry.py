"""MLflow registry helpers used by the ZenML steps (logging from code, stages, loading bundles)."""

from __future__ import annotations

import json
import tempfile
import warnings
from pathlib import Path
from typing import Any

import mlflow
from mlflow.tracking import MlflowClient

from movie_roulette import bundle
from movie_roulette.bundle import ModelBundle
from movie_roulette.rollback import stamp

PYFUNC_MODEL_FILE = Path(__file__).with_name("pyfunc_model.py")
LIBRARY_DIR = Path(bundle.__file__).resolve().parent
ARTIFACT_PATH = "model"
PRODUCTION_ALIAS = "champion"


def _pip_requirements() -> list[str]:
    import numpy
    import pandas
    import pyarrow
    import pydantic
    import scipy
    import sklearn

    return [
        f"mlflow=={mlflow.__version__}",
        f"numpy=={numpy.__version__}",
        f"pandas=={pandas.__version__}",
        f"pydantic=={pydantic.__version__}",
        f"pyarrow=={pyarrow.__version__}",
        f"scipy=={scipy.__version__}",
        f"scikit-learn=={sklearn.__version__}",
    ]


def pyfunc_kwargs() -> dict[str, Any]:
    """How the model is packaged: from code, with the library shipped along. The signature is
    MLflow's reading of `predict`'s annotation, `list[movie_roulette.request.Request]`."""
    return {
        "python_model": str(PYFUNC_MODEL_FILE),
        "code_paths": [str(LIBRARY_DIR)],
        "pip_requirements": _pip_requirements(),
    }


def log_and_register(
    model_bundle: ModelBundle,
    model_name: str,
    metadata: dict[str, Any],
    tags: dict[str, str],
    description: str | None = None,
) -> str:
    """Log the bundle as a pyfunc model from code inside the active run; return the new version."""
    with tempfile.TemporaryDirectory() as tmp:
        path = bundle.save(
            Path(tmp) / "bundle",
            model_bundle.model,
            model_bundle.catalogue,
            metadata,
            reviews=model_bundle.reviews,
            sentiment=model_bundle.sentiment,
        )
        with warnings.catch_warnings():
            # The answers differ by kind, so the output is declared a list of maps; MLflow warns
            # that it will not validate them, which is as intended.
            warnings.filterwarnings("ignore", message=".*Any type hint is inferred as AnyType")
            info = mlflow.pyfunc.log_model(
                name=ARTIFACT_PATH,
                artifacts={"bundle": str(path)},
                registered_model_name=model_name,
                **pyfunc_kwargs(),
                metadata={"movie_roulette": json.loads(json.dumps(metadata, default=str))},
            )
    version = str(info.registered_model_version)
    client = MlflowClient()
    for key, value in tags.items():
        client.set_model_version_tag(model_name, version, key, str(value))
    if description:
        client.update_model_version(model_name, version, description=description)
    return version


# ISO-8601 UTC times (movie_roulette.rollback.stamp; older versions hold unix floats, still read)
PRODUCTION_SINCE_TAG = "production_since"  # when a version was promoted (rollback history)
ROLLED_BACK_TAG = "rolled_back_at"  # when a rollback took a version out of production


def set_stage(model_name: str, version: str, stage: str, *, record_promotion: bool = True) -> None:
    """Move a version to a stage through the stack's model registry (MLflow 3: aliases).

    A promotion to production stamps the version with `production_since`, the history a
    rollback walks back through (`serving.rollback`).
    """
    from zenml.client import Client
    from zenml.model_registries.base_model_registry import ModelVersionStage

    registry = Client().active_stack.model_registry
    if registry is None:
        raise RuntimeError("The active ZenML stack has no model registry; run `make setup`.")
    registry.update_model_version(
        name=model_name, version=version, stage=ModelVersionStage[stage.upper()]
    )
    if stage.upper() == "PRODUCTION" and record_promotion:
        configure_mlflow()
        MlflowClient().set_model_version_tag(
            model_name, str(version), PRODUCTION_SINCE_TAG, stamp()
        )


def configure_mlflow() -> None:
    """Point the mlflow client at the active ZenML stack's tracking + registry backend."""
    from zenml.client import Client

    tracker = Client().active_stack.experiment_tracker
    if tracker is None:
        raise RuntimeError("The active ZenML stack has no experiment tracker; run `make setup`.")
    tracker.configure_mlflow()  # type: ignore[attr-defined]


def production_version(model_name: str) -> str | None:
    """The version that holds the production alias, or None."""
    configure_mlflow()
    client = MlflowClient()
    try:
        return str(client.get_model_version_by_alias(model_name, PRODUCTION_ALIAS).version)
    except mlflow.exceptions.MlflowException:
        return None


def trained_configs(configs_dir: Path, skip_model: str | None = None) -> list[tuple[Path, str]]:
    """(config file, production version) for each config in `configs_dir` whose model has a
    production version: what to pass as CONFIG= to `make app` / `make serve`."""
    from movie_roulette.config import load_config
    from movie_roulette.exceptions import ConfigError

    found, seen = [], set()
    for path in sorted(Path(configs_dir).glob("*.yaml")):
        try:
            name = load_config(path).model_name
        except ConfigError:
            continue
        if name == skip_model or name in seen:
            continue
        seen.add(name)
        version = production_version(name)
        if version is not None:
            found.append((path, version))
    return found


def no_production_message(
    model_name: str, config_path: Path, configs_dir: Path, command: str = "make app"
) -> str:
    """Why there is nothing to serve for this config, and the CONFIG= of models there are."""
    message = (
        f"Model {model_name!r} ({config_path}) has no production version yet: train it with "
        f"`python run_pipeline.py --config {config_path}`"
    )
    others = trained_configs(configs_dir, skip_model=model_name)
    if others:
        hints = ", ".join(f"CONFIG={path.relative_to(configs_dir.parent)}" for path, _ in others)
        message += f", or use a trained model: {hints} (e.g. `{command} {hints.split(', ')[0]}`)"
    return message + "."


def download_bundle(model_name: str, version: str, dst: Path) -> Path:
    """Download a registered version's bundle folder; return its local path."""
    configure_mlflow()
    local = mlflow.artifacts.download_artifacts(
        artifact_uri=f"models:/{model_name}/{version}", dst_path=str(dst)
    )
    return Path(local) / "artifacts" / "bundle"


def load_production_bundle(model_name: str) -> tuple[str, ModelBundle] | None:
    """(version, bundle) of the current production version, or None when there is none."""
    version = production_version(model_name)
    if version is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        return version, bundle.load(download_bundle(model_name, version, Path(tmp)))
