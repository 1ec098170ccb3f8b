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

.PHONY: install setup run run-movielens serve serve-list serve-stop app continuous dashboards dashboards-stop test test-unit lint format clean

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

dashboards: setup  ## ZenML dashboard + MLflow UI on 127.0.0.1; prints their URLs
	$(PY) dashboards.py

dashboards-stop: install  ## stop the ZenML local server and the MLflow UI
	$(PY) dashboards.py --stop

test: install  ## the whole suite: unit, integration (real ZenML + MLflow), e2e
	$(PY) -m pytest

test-unit: install  ## the fast inner loop: unit tests without the slow real-data ones (no servers, no browser)
	$(PY) -m pytest tests/unit -m "not slow"

lint: install
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff format . && $(VENV)/bin/ruff check --fix .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
