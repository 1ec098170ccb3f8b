#!/usr/bin/env bash
# The team stack on this machine, one container per service, host networking, named volumes:
#   mr-postgres (MLflow backend store) -> mr-mlflow (tracking server, served artifacts)
#   mr-zenml (ZenML server) ; mr-model (MLflow scoring server of the production version)
#   mr-webapp (the web app on that version)
# Usage: docker/stack.sh up|down|status|restart-serving|destroy
# Settings and credentials: the environment, else .env (git-ignored; created with random
# passwords on the first `up`, see .env.example). Plain `docker run` (not compose): ordered start,
# a readiness wait per service with a message naming the fix, and port checks before starting.
set -euo pipefail
cd "$(dirname "$0")/.."

die() { echo "stack: $*" >&2; exit 1; }

ENV_FILE=${MR_ENV_FILE:-.env}
new_secret() { python3 -c 'import secrets; print(secrets.token_urlsafe(24))'; }
if [ ! -f "$ENV_FILE" ] && [ "${1:-}" = up ]; then
  umask 077
  sed -e "s/^MR_POSTGRES_PASSWORD=.*/MR_POSTGRES_PASSWORD=$(new_secret)/" \
      -e "s/^MR_ZENML_PASSWORD=.*/MR_ZENML_PASSWORD=$(new_secret)/" \
      -e "s/^MR_ZENML_JWT_SECRET=.*/MR_ZENML_JWT_SECRET=$(new_secret)/" \
      -e "s/^MR_MLFLOW_PASSWORD=.*/MR_MLFLOW_PASSWORD=$(new_secret)/" \
      .env.example > "$ENV_FILE"
  echo "stack: wrote $ENV_FILE with new random passwords (git-ignored; keep it)"
fi
if [ -f "$ENV_FILE" ]; then
  # Values already in the environment win over the file.
  while IFS='=' read -r key value; do
    case "$key" in ''|\#*) continue ;; esac
    [ -n "${!key:-}" ] || export "$key=$value"
  done < "$ENV_FILE"
fi

: "${MR_IMAGE:=movie-roulette:latest}" "${MR_POSTGRES_IMAGE:=movie-roulette-postgres:latest}"
: "${MR_POSTGRES_PORT:=5433}" "${MR_POSTGRES_USER:=mlflow}" "${MR_POSTGRES_DB:=mlflow}"
: "${MR_MLFLOW_PORT:=5050}" "${MR_ZENML_PORT:=8238}" "${MR_MODEL_PORT:=8101}" "${MR_APP_PORT:=8181}"
: "${MR_ZENML_USER:=default}" "${MR_MODEL_NAME:=movie_roulette}" "${MR_READY_SECONDS:=90}"
# MR_PREFIX names the containers and volumes: a second stack (the docker test) can run beside.
: "${MR_PREFIX:=mr}"
P=$MR_PREFIX
VOLUMES=("$P-pgdata" "$P-mlflow-artifacts" "$P-zenml-data" "$P-app-data")

command -v docker >/dev/null || die "Docker is not installed: apt-get install -y docker.io"
docker info >/dev/null 2>&1 || die "Docker is not running (or this user may not use it): start it \
with 'sudo dockerd &' (or 'sudo systemctl start docker'); add yourself to the docker group."

running() { [ "$(docker inspect -f '{{.State.Running}}' "$1" 2>/dev/null)" = true ]; }
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
need_secret() { [ -n "${!1:-}" ] || die "$1 is not set: put it in $ENV_FILE (see .env.example)."; }

start() {  # start NAME PORT RUN-ARGS... : (re)create the container unless it is running
  local name=$1 port=$2; shift 2
  if running "$name"; then echo "stack: $name already running"; return; fi
  docker rm -f "$name" >/dev/null 2>&1 || true
  port_free "$port" || die "port $port (for $name) is taken by another process: stop it \
(ss -ltnp 'sport = :$port') or choose another port in $ENV_FILE."
  docker run -d --name "$name" --network host --restart unless-stopped "$@" >/dev/null
  echo "stack: started $name (port $port)"
}

wait_ready() {  # wait_ready NAME SECONDS CHECK-COMMAND...
  local name=$1 seconds=$2; shift 2
  local deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    running "$name" || die "$name stopped: see 'docker logs $name'"
    [ $SECONDS -lt $deadline ] || die "$name is not ready after ${seconds} s: see 'docker logs $name'"
    sleep 1
  done
  echo "stack: $name ready"
}
http_ok() { curl -fs -o /dev/null --max-time 3 "$1"; }

image_present() {
  docker image inspect "$1" >/dev/null 2>&1 || die "image $1 is missing: build it with \
'make base-image images' (or 'make images' where Docker Hub is reachable)."
}

up() {
  image_present "$MR_IMAGE"; image_present "$MR_POSTGRES_IMAGE"
  need_secret MR_POSTGRES_PASSWORD; need_secret MR_ZENML_PASSWORD; need_secret MR_ZENML_JWT_SECRET
  for v in "${VOLUMES[@]}"; do docker volume create "$v" >/dev/null; done
  local t0=$SECONDS
  POSTGRES_PASSWORD=$MR_POSTGRES_PASSWORD start "$P-postgres" "$MR_POSTGRES_PORT" \
    -v "$P-pgdata:/var/lib/postgresql/data" \
    -e POSTGRES_PASSWORD -e POSTGRES_USER="$MR_POSTGRES_USER" -e POSTGRES_DB="$MR_POSTGRES_DB" \
    -e PGPORT="$MR_POSTGRES_PORT" "$MR_POSTGRES_IMAGE"
  MLFLOW_BACKEND_STORE_URI="postgresql://$MR_POSTGRES_USER:$MR_POSTGRES_PASSWORD@127.0.0.1:$MR_POSTGRES_PORT/$MR_POSTGRES_DB" \
    start "$P-mlflow" "$MR_MLFLOW_PORT" -v "$P-mlflow-artifacts:/mlflow/artifacts" \
    -e MLFLOW_BACKEND_STORE_URI -e MLFLOW_PORT="$MR_MLFLOW_PORT" "$MR_IMAGE" mlflow-server
  ZENML_DEFAULT_USER_PASSWORD=$MR_ZENML_PASSWORD ZENML_SERVER_JWT_SECRET_KEY=$MR_ZENML_JWT_SECRET \
    start "$P-zenml" "$MR_ZENML_PORT" -v "$P-zenml-data:/zenml" \
    -e ZENML_CONFIG_PATH=/zenml/config -e ZENML_STORE_URL=sqlite:////zenml/zenml.db \
    -e ZENML_SERVER_AUTO_ACTIVATE=1 -e ZENML_DEFAULT_USER_NAME="$MR_ZENML_USER" \
    -e ZENML_DEFAULT_USER_PASSWORD -e ZENML_SERVER_JWT_SECRET_KEY -e ZENML_PORT="$MR_ZENML_PORT" \
    "$MR_IMAGE" zenml-server
  local serving=(-e MLFLOW_TRACKING_URI="http://127.0.0.1:$MR_MLFLOW_PORT"
    -e MODEL_NAME="$MR_MODEL_NAME" -e MODEL_SERVER_URL="http://127.0.0.1:$MR_MODEL_PORT"
    -e MODEL_PORT="$MR_MODEL_PORT" -e APP_PORT="$MR_APP_PORT" -v "$P-app-data:/data"
    -e MOVIE_ROULETTE_EVENT_LOG=/data/events.jsonl)
  start "$P-model" "$MR_MODEL_PORT" "${serving[@]}" ${MR_MODEL_VERSION:+-e MODEL_VERSION="$MR_MODEL_VERSION"} \
    "$MR_IMAGE" model-server
  start "$P-webapp" "$MR_APP_PORT" "${serving[@]}" -e BUNDLE_CACHE=/data/bundles "$MR_IMAGE" webapp
  wait_ready "$P-postgres" "$MR_READY_SECONDS" docker exec "$P-postgres" pg_isready -q -h 127.0.0.1 -p "$MR_POSTGRES_PORT"
  wait_ready "$P-mlflow" "$MR_READY_SECONDS" http_ok "http://127.0.0.1:$MR_MLFLOW_PORT/health"
  wait_ready "$P-zenml" "$MR_READY_SECONDS" http_ok "http://127.0.0.1:$MR_ZENML_PORT/health"
  echo "stack: core services ready in $((SECONDS - t0)) s"
  # Model server + web app: ready, or waiting for a first production version (nothing trained).
  local deadline=$((SECONDS + MR_READY_SECONDS)) m w
  while :; do
    m=$(serving_state "$P-model" "http://127.0.0.1:$MR_MODEL_PORT/ping")
    w=$(serving_state "$P-webapp" "http://127.0.0.1:$MR_APP_PORT/healthz")
    case "$m|$w" in stopped*|*\|stopped*) die "a serving container stopped: $m / $w" ;; esac
    case "$m" in ready|waiting*) case "$w" in ready|waiting*) break ;; esac ;; esac
    [ $SECONDS -lt $deadline ] || die "serving not ready after ${MR_READY_SECONDS} s: model server $m, web app $w"
    sleep 2
  done
  echo "stack: all services up in $((SECONDS - t0)) s"
  status
}

serving_state() {  # model server / web app: serving, or waiting for a production version
  local name=$1 url=$2
  if ! running "$name"; then echo "stopped (docker logs $name)"
  elif http_ok "$url"; then echo "ready"
  elif docker logs "$name" 2>&1 | tail -3 | grep -q "waiting for a production version"; then
    echo "waiting for a production version of $MR_MODEL_NAME (train: make team-run)"
  else echo "starting (docker logs $name)"; fi
}

status() {
  echo "PostgreSQL   127.0.0.1:$MR_POSTGRES_PORT  $(running "$P-postgres" && echo running || echo stopped)"
  echo "MLflow       http://127.0.0.1:$MR_MLFLOW_PORT  $(running "$P-mlflow" && echo running || echo stopped)"
  echo "ZenML        http://127.0.0.1:$MR_ZENML_PORT  $(running "$P-zenml" && echo running || echo stopped)  (user $MR_ZENML_USER)"
  echo "model server http://127.0.0.1:$MR_MODEL_PORT  $(serving_state "$P-model" "http://127.0.0.1:$MR_MODEL_PORT/ping")"
  echo "web app      http://127.0.0.1:$MR_APP_PORT  $(serving_state "$P-webapp" "http://127.0.0.1:$MR_APP_PORT/healthz")"
}

down() {  # containers go, named volumes (the data) stay
  for name in "$P-webapp" "$P-model" "$P-zenml" "$P-mlflow" "$P-postgres"; do
    if docker inspect "$name" >/dev/null 2>&1; then
      docker stop -t 20 "$name" >/dev/null && docker rm "$name" >/dev/null && echo "stack: removed $name"
    fi
  done
  echo "stack: volumes kept: ${VOLUMES[*]} ('docker/stack.sh destroy' deletes them)"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) status ;;
  restart-serving)  # pick up a newly promoted version
    for name in "$P-model" "$P-webapp"; do docker restart "$name" >/dev/null && echo "stack: restarted $name"; done ;;
  destroy) down; docker volume rm "${VOLUMES[@]}" 2>/dev/null || true; echo "stack: volumes deleted" ;;
  *) die "usage: $0 up|down|status|restart-serving|destroy" ;;
esac
