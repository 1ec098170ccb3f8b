# Movie Roulette — `make run` (set up + train on the embedded demo data) and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# ZenML's MLflow deployer starts `uvicorn` by name: the venv's bin/ must be on PATH.
export PATH := $(abspath $(VENV))/bin:$(PATH)
export ZENML_ANALYTICS_OPT_IN := false
export GX_ANALYTICS_ENABLED := False
CONFIG ?= configs/quickstart.yaml
APP_PORT ?= 8080

.PHONY: spark-cluster spark-cluster-stop spark-cluster-status
.PHONY: install setup run run-movielens serve serve-list serve-stop app continuous dashboards dashboards-stop test test-unit lint format clean
.PHONY: lock wheels base-image images stack-up stack-down stack-status stack-restart-serving stack-destroy stack-setup team-run test-docker

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

install: $(VENV)/.installed

setup: install  ## register + activate the local ZenML stack (idempotent)
	$(PY) stack_setup.py

run: setup  ## train on the embedded demo dataset
	$(PY) run_pipeline.py --config $(CONFIG)

run-movielens: setup  ## train on real MovieLens (+ optional IMDb, TMDB) data (MOVIE_ROULETTE_DATA_DIR); then `make app CONFIG=configs/movielens.yaml`
	$(PY) run_pipeline.py --config configs/movielens.yaml

serve: setup  ## (re)deploy the production model on 127.0.0.1:8000 (serving.port in CONFIG)
	$(PY) run_pipeline.py --pipeline deploy --config $(CONFIG)

serve-list: setup  ## list the model servers
	$(PY) run_pipeline.py --list-servers --config $(CONFIG)

serve-stop: setup  ## stop the model servers of CONFIG's model
	$(PY) run_pipeline.py --stop-servers --config $(CONFIG)

app: setup  ## the web app on http://127.0.0.1:$(APP_PORT), talking to `make serve`'s model server (BUNDLE=dir to skip the registry)
	$(PY) -m webapp --config $(CONFIG) --port $(APP_PORT) $(if $(BUNDLE),--bundle $(BUNDLE))

continuous: setup  ## one continuous-training run on the demo data (drift check, maybe retrain)
	$(PY) run_pipeline.py --pipeline continuous --config configs/continuous_demo.yaml

dashboards: setup  ## ZenML dashboard + MLflow UI on 127.0.0.1; prints their URLs and CONFIG's latest reports
	$(PY) dashboards.py --config $(CONFIG)

dashboards-stop: install  ## stop the ZenML local server and the MLflow UI
	$(PY) dashboards.py --stop

test: install  ## the whole suite: unit, integration (real ZenML + MLflow), e2e
	$(PY) -m pytest

test-unit: install  ## the fast inner loop: unit tests without the slow real-data and Spark ones (no servers, no browser, no JVM)
	$(PY) -m pytest tests/unit -m "not slow and not spark"

lint: install
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff format . && $(VENV)/bin/ruff check --fix .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache

# --- Spark standalone cluster: a master + 2 workers, each in its own network namespace (docs/spark.md)
SPARK_WORKERS ?= 2
SPARK_WORKER_MEMORY ?= 2g
spark-cluster: install  ## start the namespace Spark cluster (root); prints spark.master to use
	$(PY) -m movie_roulette.spark.cluster start --workers $(SPARK_WORKERS) --worker-memory $(SPARK_WORKER_MEMORY)

spark-cluster-stop: install  ## stop the namespace Spark cluster and remove its network
	$(PY) -m movie_roulette.spark.cluster stop

spark-cluster-status: install
	$(PY) -m movie_roulette.spark.cluster status

# --- team stack: images, servers in containers (docs/team-stack.md) -------------------------------
BASE_IMAGE ?= python:3.11-slim-bookworm
LOCAL_BASE_IMAGE ?= movie-roulette-base:bookworm
IMAGE ?= movie-roulette:latest
POSTGRES_IMAGE ?= movie-roulette-postgres:latest
WHEELS_DIR ?= build/wheels
WHEELS_PORT ?= 8765
# The legacy builder: Debian's docker.io has no buildx; --network host for apt and the wheelhouse.
DOCKER_BUILD := DOCKER_BUILDKIT=0 docker build --network host --build-arg BASE_IMAGE=$(BASE_IMAGE)
TEAM_ENV := ZENML_CONFIG_PATH=$(abspath .team/zenml)

lock: install  ## docker/requirements.lock from the working venv (pip freeze + pip's resolver)
	docker/lock.sh

$(WHEELS_DIR)/.done: docker/requirements.lock
	mkdir -p $(WHEELS_DIR)
	$(PY) -m pip wheel -q --no-deps -r docker/requirements.lock -w $(WHEELS_DIR) 2>$(WHEELS_DIR)/.log \
	  || { grep -v "is ignored: it is neither" $(WHEELS_DIR)/.log; exit 1; }
	touch $@

wheels: install $(WHEELS_DIR)/.done  ## a wheelhouse of the lock (images build without PyPI access)

base-image:  ## the parent image from Debian's packages (debootstrap; root + Docker)
	docker/base-image.sh $(LOCAL_BASE_IMAGE)

# The wheelhouse is served over HTTP on loopback for the build only (the build context stays small).
images: wheels  ## the project image + PostgreSQL image (BASE_IMAGE=movie-roulette-base:bookworm here)
	@docker info >/dev/null 2>&1 || { echo "Docker is not running: start it (sudo dockerd &)"; exit 1; }
	@docker image inspect $(BASE_IMAGE) >/dev/null 2>&1 || docker pull $(BASE_IMAGE) || { \
	  echo "Parent image $(BASE_IMAGE) is unavailable: run 'make base-image' and pass BASE_IMAGE=$(LOCAL_BASE_IMAGE)"; exit 1; }
	@$(PY) -m http.server --bind 127.0.0.1 --directory $(WHEELS_DIR) $(WHEELS_PORT) >/dev/null 2>&1 & pid=$$!; \
	trap "kill $$pid" EXIT; sleep 1; \
	$(DOCKER_BUILD) --build-arg WHEELS_URL=http://127.0.0.1:$(WHEELS_PORT)/ --target app -t $(IMAGE) . && \
	$(DOCKER_BUILD) --target postgres -t $(POSTGRES_IMAGE) .
	@docker image ls --format '{{.Repository}}:{{.Tag}} {{.Size}}' | grep -E '^($(IMAGE)|$(POSTGRES_IMAGE)) '

stack-up:  ## PostgreSQL, MLflow, ZenML server, model server, web app (containers, host network)
	MR_IMAGE=$(IMAGE) MR_POSTGRES_IMAGE=$(POSTGRES_IMAGE) docker/stack.sh up

stack-down:  ## stop + remove the containers; the named volumes (data) stay
	docker/stack.sh down

stack-status:
	docker/stack.sh status

stack-restart-serving:  ## the model server + web app pick up the current production version
	docker/stack.sh restart-serving

stack-destroy:  ## stack-down and delete the volumes (all team data)
	docker/stack.sh destroy

stack-setup: install  ## connect to the team ZenML server, register + activate the team stack
	$(TEAM_ENV) $(PY) stack_setup.py --team

TEAM_CONFIG ?= configs/team.yaml
team-run: stack-setup  ## train on TEAM_CONFIG against the team stack; the containers serve it
	$(TEAM_ENV) $(PY) run_pipeline.py --config $(TEAM_CONFIG)
	docker/stack.sh restart-serving

test-docker: install  ## the docker-marked test (images, stack, training, restart)
	$(PY) -m pytest -m docker -p no:cacheprovider
