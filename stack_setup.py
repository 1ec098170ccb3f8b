"""Idempotent set-up of the project's ZenML local stack.

local orchestrator + local artifact store + MLflow experiment tracker + MLflow model registry
+ MLflow model deployer (ZenML's, with a fixed port: flavor `movie_roulette_mlflow`, see
serving/zenml_deployer.py). Running it twice changes nothing; a component with the same name but
another flavor is reported instead of silently replaced.
"""

from __future__ import annotations

import logging
import os
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

log = logging.getLogger(__name__)


def _component_config(component_type: str) -> dict[str, Any]:
    if component_type == "experiment_tracker" and os.environ.get(TRACKING_URI_ENV):
        return {"tracking_uri": os.environ[TRACKING_URI_ENV]}
    return {}


def ensure_stack(activate: bool = True) -> str:
    """Create (if missing) and activate the project's stack; return its name."""
    from zenml.client import Client
    from zenml.enums import StackComponentType
    from zenml.models import FlavorFilter

    client = Client()
    components: dict[StackComponentType, str] = {}
    for type_name, (name, flavor) in COMPONENTS.items():
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
        else:
            client.create_stack_component(
                name=name,
                flavor=flavor,
                component_type=ctype,
                configuration=_component_config(type_name),
            )
            log.info("Registered ZenML %s %r (%s).", type_name, name, flavor)
        components[ctype] = name

    stacks = client.list_stacks(name=STACK_NAME)
    if not stacks.items:
        client.create_stack(name=STACK_NAME, components=components)
        log.info("Registered ZenML stack %r.", STACK_NAME)
    else:  # an older set-up may hold other components: point the stack at ours
        stack = client.get_stack(STACK_NAME)
        current = {t: [c.name for c in cs] for t, cs in stack.components.items()}
        updates = {t: [n] for t, n in components.items() if current.get(t) != [n]}
        if updates:
            client.update_stack(STACK_NAME, component_updates=updates)
            log.info("Updated ZenML stack %r: %s.", STACK_NAME, sorted(map(str, updates)))
    if activate and client.active_stack_model.name != STACK_NAME:
        client.activate_stack(STACK_NAME)
    return STACK_NAME


def mlflow_tracking_uri() -> str:
    """The tracking URI the stack's MLflow experiment tracker uses."""
    from zenml.client import Client

    tracker = Client().active_stack.experiment_tracker
    if tracker is None:
        raise RuntimeError("The active ZenML stack has no experiment tracker; run ensure_stack().")
    return tracker.get_tracking_uri()  # type: ignore[attr-defined]


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    print(f"Active stack: {ensure_stack()}")
    print(f"MLflow tracking URI: {mlflow_tracking_uri()}")
