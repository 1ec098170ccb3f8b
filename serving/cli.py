"""`movie-roulette`: query the deployed model server from a terminal (through the one client,
serving/client.py; this module maps its errors to exit codes).

    movie-roulette recommend --user 42 -k 5 --genre Comedy
    movie-roulette recommend --rate 318=5 --rate 296=4.5        # a newcomer's own ratings
    movie-roulette similar --title "heat"                        # or --movie 6
    movie-roulette predict --user 42 --movie 318
    movie-roulette spin --user 42 --seed 7 --genre Comedy
    movie-roulette search "spirited away"                      # ids for predict and --rate
    movie-roulette --json spin --user 42

The server is `--server URL`, else $MOVIE_ROULETTE_SERVER_URL, else http://127.0.0.1:8000.
With an event log ($MOVIE_ROULETTE_EVENT_LOG) and an online experiment running (experiment.json
in $MOVIE_ROULETTE_EXPERIMENT_DIR, else beside the log), a user's recommend/spin goes to the
user's arm (docs/experiments.md); the arm is logged, never printed.
Exit codes: 0 answered, 1 the server answered with an error entry (unknown movie/title/genre),
2 bad request (HTTP 400) or bad arguments, 3 server unreachable or broken.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import sys
import textwrap
from pathlib import Path
from typing import Any

import click

from movie_roulette.exceptions import MovieRouletteError
from movie_roulette.experiments.assignment import assign
from movie_roulette.experiments.outcomes import read_outcomes
from movie_roulette.experiments.record import CHALLENGER, PRODUCTION, ExperimentStore
from movie_roulette.experiments.stats import posterior
from movie_roulette.monitoring.eventlog import EventLog
from movie_roulette.request import MAX_TEMPERATURE, MIN_TEMPERATURE
from serving.client import (
    DEFAULT_TIMEOUT_SECONDS,
    ModelServerClient,
    ModelServerError,
    ModelServerRejected,
    ModelServerUnavailable,
)

SERVER_ENV = "MOVIE_ROULETTE_SERVER_URL"
EVENT_LOG_ENV = "MOVIE_ROULETTE_EVENT_LOG"
EXPERIMENT_DIR_ENV = "MOVIE_ROULETTE_EXPERIMENT_DIR"
ROUTED_KINDS = ("recommend", "spin")
DEFAULT_SERVER = "http://127.0.0.1:8000"
TIMEOUT_SECONDS = DEFAULT_TIMEOUT_SECONDS


class ServerError(click.ClickException):
    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def exit_error(err: ModelServerError, url: str) -> ServerError:
    """The CLI's line and exit code for a client error: 2 for a bad request, 3 for a server
    that cannot be reached, is too slow or fails."""
    if isinstance(err, ModelServerRejected):
        return ServerError(f"Bad request: {err}", 2)
    if err.reason == "connection":
        return ServerError(
            f"Cannot reach the model server at {url} "
            f"(start it with `make serve`, or set --server / {SERVER_ENV}).",
            3,
        )
    message = str(err)
    return ServerError(message[:1].upper() + message[1:] + ".", 3)


def _ask(client: ModelServerClient, request: dict[str, Any]) -> dict[str, Any]:
    try:
        return client.invoke(request)
    except ModelServerError as err:
        raise exit_error(err, client.base_url) from None


def _fit(text: str, width: int) -> str:
    """`text` cut to `width` characters, with an ellipsis when cut."""
    return text if len(text) <= width else text[: max(width - 1, 0)] + "…"


def _label(item: dict[str, Any]) -> str:
    return f"{item['title']} ({item['year']})" if item.get("year") else str(item["title"])


def _table(items: list[dict[str, Any]], with_reasons: bool = True, width: int | None = None) -> str:
    """Rank, id, score, title and genres in the terminal's width: ids are never cut (their
    column is as wide as the longest id); a long title is cut with "…", genres go first."""
    width = max(width or shutil.get_terminal_size((100, 20)).columns, 40)
    scored = all("score" in item for item in items)
    id_w = max([2, *(len(str(item["movie_id"])) for item in items)])
    lead = f"{'#':>3}  {'id':>{id_w}}  " + (f"{'score':>8}  " if scored else "")
    room = width - len(lead)
    labels = [_label(item) for item in items]
    genres = [", ".join(item.get("genres") or []) for item in items]
    title_need, genres_need = max([5, *map(len, labels)]), max([0, *map(len, genres)])
    genres_w = min(genres_need, max(12, room // 3)) if room >= 32 else 0
    title_w = min(title_need, room - genres_w - 2) if genres_w else min(title_need, room)
    genres_w = room - title_w - 2  # what the title leaves
    show_genres = genres_w >= 6 and genres_need > 0
    head = lead + f"{'title':<{title_w}}" + ("  genres" if show_genres else "")
    lines = [head.rstrip()]
    indent = " " * min(len(lead), 15)
    for rank, (item, label, genre) in enumerate(zip(items, labels, genres, strict=True), 1):
        line = f"{rank:>3}  {item['movie_id']:>{id_w}}  "
        if scored:
            line += f"{item['score']:>8.3f}  "
        line += f"{_fit(label, title_w):<{title_w}}"
        if show_genres:
            line += "  " + _fit(genre, genres_w)
        lines.append(line.rstrip())
        if with_reasons and item.get("reasons"):
            lines.extend(
                textwrap.wrap(
                    "; ".join(item["reasons"]),
                    width=width,
                    initial_indent=indent,
                    subsequent_indent=indent,
                )
            )
    return "\n".join(lines)


def render(answer: dict[str, Any]) -> str:
    kind = answer.get("kind")
    if "error" in answer:
        text = f"Error: {answer['error']}"
        if answer.get("candidates"):  # an ambiguous title: the movies it may mean, with ids
            text += "\nDid you mean (use --movie ID):\n" + _table(answer["candidates"], False)
        elif answer.get("did_you_mean"):
            text += "\nDid you mean: " + "; ".join(answer["did_you_mean"])
        return text
    if kind in ("recommend",):
        who = f"user {answer['user_id']}" if answer.get("user_id") is not None else "your ratings"
        head = f"Top {len(answer['items'])} for {who}"
        if answer.get("fallback"):
            head += f"  (fallback: {answer['fallback']})"
        return head + "\n" + _table(answer["items"])
    if kind == "similar":
        m = answer["movie"]
        return f"Similar to {m['title']} ({m.get('year') or '?'})\n" + _table(answer["items"])
    if kind == "predict":
        text = (
            f"User {answer['user_id']} would rate {answer['title']} ({answer.get('year') or '?'}) "
            f"{answer['prediction']:.2f}"
        )
        if answer.get("fallback"):
            text += f"  (fallback: {answer['fallback']})"
        if answer.get("reasons"):
            text += "\n  " + "; ".join(answer["reasons"])
        return text
    if kind == "spin":
        item = answer["item"]
        year = f" ({item['year']})" if item.get("year") else ""
        text = (
            f"The roulette picked: {item['title']}{year}  [{', '.join(item['genres'])}]"
            f"  (movie {item['movie_id']})\n  from the top {answer['pool_size']}"
        )
        if answer.get("seed") is not None:
            text += f" (seed {answer['seed']}: --seed {answer['seed']} lands here again)"
        if item.get("reasons"):
            text += "\n  " + "; ".join(item["reasons"])
        return text
    if kind == "search":
        if not answer.get("items"):
            return f"No movie title matches {answer.get('query')!r}."
        return (
            f"Movies matching {answer.get('query')!r} (use an id with `predict --movie ID` "
            "or `recommend --rate ID=RATING`)\n" + _table(answer["items"], with_reasons=False)
        )
    return json.dumps(answer, indent=2)


def _finite(value: float) -> float:
    if not math.isfinite(value):  # FloatRange lets NaN through (every comparison is false)
        raise click.BadParameter(f"{value} is not a number in {MIN_TEMPERATURE}..{MAX_TEMPERATURE}")
    return value


def _parse_rating(value: str) -> tuple[str, float]:
    movie, sep, rating = value.partition("=")
    try:
        if not sep:
            raise ValueError
        if not math.isfinite(float(rating)):
            raise ValueError
        return str(int(movie)), float(rating)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not MOVIE_ID=RATING (for example 318=5)") from None


def _person(user_id: int | None, rates: tuple[str, ...]) -> dict[str, Any]:
    """`user_id`, or a newcomer's `ratings` JSON from --rate MOVIE_ID=RATING options."""
    if (user_id is None) == (not rates):
        raise click.UsageError("Give either --user or at least one --rate MOVIE_ID=RATING.")
    ratings = json.dumps(dict(_parse_rating(r) for r in rates)) if rates else None
    return {"user_id": user_id, "ratings": ratings}


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--server",
    default=lambda: os.environ.get(SERVER_ENV, DEFAULT_SERVER),
    show_default=f"${SERVER_ENV} or {DEFAULT_SERVER}",
    help="Model server URL.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the raw JSON answer.")
@click.option("--timeout", default=TIMEOUT_SECONDS, show_default=True, help="Seconds to wait.")
@click.pass_context
def main(ctx: click.Context, server: str, as_json: bool, timeout: float) -> None:
    """Ask the Movie Roulette model server for recommendations."""
    ctx.obj = {"client": ModelServerClient(server, timeout), "json": as_json, "timeout": timeout}


def _routed(ctx: click.Context, request: dict[str, Any]) -> dict[str, Any]:
    """The answer from the user's experiment arm (production when no experiment runs; a
    challenger that cannot be reached falls back to production, and that is logged)."""
    production: ModelServerClient = ctx.obj["client"]
    event_log = os.environ.get(EVENT_LOG_ENV, "").strip()
    user_id = request.get("user_id")
    if not event_log or user_id is None or request.get("kind") not in ROUTED_KINDS:
        return _ask(production, request)
    state = os.environ.get(EXPERIMENT_DIR_ENV, "").strip() or str(Path(event_log).parent)
    try:
        experiment = ExperimentStore(state).running()
    except MovieRouletteError as err:
        click.echo(f"warning: {err} (production answers)", err=True)
        experiment = None
    if experiment is None or not experiment.challenger_url:
        return _ask(production, request)
    posteriors = None
    if experiment.policy == "thompson":
        counts = read_outcomes(experiment, event_log).counts()
        posteriors = {a: (posterior(*c).alpha, posterior(*c).beta) for a, c in counts.items()}
    arm = assign(experiment, int(user_id), posteriors)
    log = EventLog(event_log)
    tag = {"experiment_id": experiment.experiment_id, "user_id": int(user_id)}
    if arm == CHALLENGER:
        challenger = ModelServerClient(experiment.challenger_url, ctx.obj["timeout"])
        try:
            answer = challenger.invoke(request)
        except ModelServerUnavailable as err:  # a bad request is the user's, whichever arm
            log.append(
                "experiment",
                {**tag, "action": "fallback", "kind": request["kind"], "error": str(err)},
            )
            arm, answer = PRODUCTION, _ask(production, request)
        except ModelServerRejected as err:
            raise exit_error(err, challenger.base_url) from None
    else:
        answer = _ask(production, request)
    if "error" not in answer:
        shown = len(answer.get("items") or []) if request["kind"] == "recommend" else 1
        log.append(
            "impression",
            {
                **tag,
                "arm": arm,
                "model_version": experiment.version_of(arm),
                "kind": request["kind"],
                "shown": shown,
                "origin": "cli",
            },
        )
    return answer


def _run(ctx: click.Context, request: dict[str, Any]) -> None:
    answer = _routed(ctx, request)
    click.echo(json.dumps(answer, indent=2) if ctx.obj["json"] else render(answer))
    if "error" in answer:
        ctx.exit(1)


_k = click.option("-k", "k", type=int, default=10, show_default=True, help="How many movies.")


@main.command()
@click.option("--user", "user_id", type=int, help="User id (unknown ids get cold-start picks).")
@click.option("--rate", "rates", multiple=True, help="MOVIE_ID=RATING (newcomer; repeatable).")
@_k
@click.option("--genre", help="Only movies of this genre.")
@click.option("--include-seen", is_flag=True, help="Also show movies the user already rated.")
@click.pass_context
def recommend(
    ctx: click.Context,
    user_id: int | None,
    rates: tuple[str, ...],
    k: int,
    genre: str | None,
    include_seen: bool,
) -> None:
    """Top-k movies for a user, or for a newcomer's own ratings (--rate)."""
    who = _person(user_id, rates)
    _run(
        ctx, {"kind": "recommend", **who, "k": k, "genre": genre, "exclude_seen": not include_seen}
    )


@main.command()
@click.option("--movie", "movie_id", type=int, help="Movie id.")
@click.option("--title", help="Title (case-insensitive; the year is optional).")
@_k
@click.pass_context
def similar(ctx: click.Context, movie_id: int | None, title: str | None, k: int) -> None:
    """Movies similar to one movie."""
    if (movie_id is None) == (title is None):
        raise click.UsageError("Give either --movie or --title.")
    _run(ctx, {"kind": "similar", "movie_id": movie_id, "title": title, "k": k})


@main.command()
@click.option("--user", "user_id", type=int, required=True)
@click.option("--movie", "movie_id", type=int, required=True)
@click.pass_context
def predict(ctx: click.Context, user_id: int, movie_id: int) -> None:
    """Predicted rating of a movie for a user."""
    _run(ctx, {"kind": "predict", "user_id": user_id, "movie_id": movie_id})


@main.command()
@click.option("--user", "user_id", type=int, help="User id.")
@click.option("--rate", "rates", multiple=True, help="MOVIE_ID=RATING (newcomer; repeatable).")
@click.option(
    "--temperature",
    type=click.FloatRange(MIN_TEMPERATURE, MAX_TEMPERATURE),
    callback=lambda _ctx, _param, value: _finite(value),
    default=1.0,
    show_default=True,
    help="Lower = safer picks from the top, higher = wilder.",
)
@click.option("--seed", type=click.IntRange(min=0), help="Same seed, same pick.")
@click.option("--genre", help="Only movies of this genre.")
@click.option(
    "--pool",
    "k",
    type=int,
    default=20,
    show_default=True,
    help="Draw from the top-N recommendations.",
)
@click.pass_context
def spin(
    ctx: click.Context,
    user_id: int | None,
    rates: tuple[str, ...],
    temperature: float,
    seed: int | None,
    genre: str | None,
    k: int,
) -> None:
    """Movie Roulette: one movie drawn at random from your personal top-N."""
    who = _person(user_id, rates)
    request = {"kind": "spin", **who, "temperature": temperature, "seed": seed, "k": k}
    _run(ctx, {**request, "genre": genre})


@main.command()
@click.argument("text")
@_k
@click.pass_context
def search(ctx: click.Context, text: str, k: int) -> None:
    """Movies whose title matches TEXT (typos welcome): their ids for `predict` and `--rate`."""
    _run(ctx, {"kind": "search", "title": text, "k": k})


if __name__ == "__main__":
    sys.exit(main())
