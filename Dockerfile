# Movie Roulette: one project image (pipelines, model server, web app, MLflow server, ZenML
# server: docker/entrypoint.py) and PostgreSQL (target `postgres`), both on one parent image.
#   make images                    parent python:3.11-slim-bookworm (Docker Hub)
#   make base-image images         parent built from Debian's packages (docker/base-image.sh)
# Dependencies come from docker/requirements.lock only (exact pins, --no-deps), so rebuilding
# gives the same environment; their layers are cached until the lock changes.
ARG BASE_IMAGE=python:3.11-slim-bookworm

# --- PostgreSQL 15 from Debian's package (MLflow's backend store) -------------------------------
FROM ${BASE_IMAGE} AS postgres
RUN apt-get update -q \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends postgresql-15 \
 && rm -rf /var/lib/apt/lists/* /usr/share/doc/* /usr/share/man/* \
 && mkdir -p /var/lib/postgresql/data && chown -R postgres:postgres /var/lib/postgresql \
 && chmod 700 /var/lib/postgresql/data
COPY docker/postgres-entrypoint.sh /usr/local/bin/postgres-entrypoint
USER postgres
ENV PGDATA=/var/lib/postgresql/data
ENTRYPOINT ["/usr/local/bin/postgres-entrypoint"]

# --- dependencies: a virtualenv built from the lock; wheels never reach the final image ------
FROM ${BASE_IMAGE} AS deps
# WHEELS_URL: a wheelhouse of the lock (make wheels + its HTTP server; no PyPI needed in the
# build). Empty: install from PyPI (e.g. on GitHub's runners).
ARG WHEELS_URL=
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 PIP_ROOT_USER_ACTION=ignore
COPY docker/requirements.lock /tmp/requirements.lock
RUN python3 -m venv /opt/venv \
 && if [ -n "$WHEELS_URL" ]; then src="--no-index --find-links $WHEELS_URL"; else src=""; fi \
 && /opt/venv/bin/pip install -q $src --no-deps -r /tmp/requirements.lock \
 && /opt/venv/bin/pip check

# --- the project image ------------------------------------------------------------------------
FROM ${BASE_IMAGE} AS app
ENV PATH=/opt/venv/bin:$PATH VIRTUAL_ENV=/opt/venv \
    PYTHONPATH=/app/src:/app PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 \
    ZENML_ANALYTICS_OPT_IN=false GX_ANALYTICS_ENABLED=False \
    MOVIE_ROULETTE_APP_DIR=/app
RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin app \
 && mkdir -p /app /data /mlflow/artifacts /zenml \
 && chown app:app /data /mlflow/artifacts /zenml
COPY --from=deps /opt/venv /opt/venv
WORKDIR /app
# Code last: a code-only change rebuilds from here (seconds), the dependency layers stay cached.
# The ZenML repository marker: ZenML writes the active stack into .zen/config.yaml.
COPY --chown=app:app .zen/ /app/.zen/
COPY configs/ /app/configs/
COPY src/ /app/src/
COPY materializers/ /app/materializers/
COPY steps/ /app/steps/
COPY pipelines/ /app/pipelines/
COPY serving/ /app/serving/
COPY webapp/ /app/webapp/
COPY benchmarks/ /app/benchmarks/
COPY run_pipeline.py stack_setup.py pyproject.toml /app/
COPY docker/entrypoint.py /app/docker/entrypoint.py
USER app
ENTRYPOINT ["python", "/app/docker/entrypoint.py"]
CMD ["pipeline", "--config", "configs/quickstart.yaml"]
