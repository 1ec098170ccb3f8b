"""Sources of new interaction batches for the continuous-training pipeline.

Each source reads the next batch after a saved cursor without moving it (`PendingBatch`); the
pipeline validates the batch and then commits it through `InteractionStore.commit`, which stores
the rows and the new cursor atomically. A failed run therefore re-reads the same batch.

* replay: the ratings the data section holds back: MovieLens ratings at or after
  `data.replay_from` in time order, or a random `data.demo.holdout_fraction` of the demo data
  (draws from the training distribution);
* generated: demo ratings drawn from the demo's latent world with shifted tastes/new users;
* event_log: rating/click/spin feedback logged by the web app and model server.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from movie_roulette import columns as C
from movie_roulette.config import PipelineConfig
from movie_roulette.data import sources
from movie_roulette.data.demo import DemoData, generate_batch
from movie_roulette.data.download import default_cache_dir
from movie_roulette.monitoring.eventlog import (
    Event,
    EventLog,
    ReadResult,
    TrafficSummary,
    interactions_from_events,
)
from movie_roulette.monitoring.store import (
    InteractionStore,
    coerce_interactions,
    merge_interactions,
)

logger = logging.getLogger(__name__)
FEEDBACK_TYPES = ("rating", "click", "spin_accepted")
# The continuous pipeline reads the event log in chunks of this size and keeps only feedback
# (requests are summarised): a batch never holds the whole log in memory.
EVENT_LOG_CHUNK_BYTES = 16 * 1024 * 1024
EVENT_LOG_MAX_INTERACTIONS = 500_000  # a batch ends after this many (the rest is the next one)
MAX_DAMAGED_REPORTED = 100  # damaged lines listed in a batch's info


@dataclass(frozen=True)
class PendingBatch:
    frame: pd.DataFrame  # user_id, movie_id, rating (NaN = implicit), timestamp, event
    source: str
    cursor_before: dict[str, Any]
    cursor_after: dict[str, Any]
    info: dict[str, Any] = field(default_factory=dict)


def next_replay_batch(
    replay: pd.DataFrame, cursor: dict[str, Any], batch_size: int, replay_key: str
) -> PendingBatch:
    """The next `batch_size` held-back ratings (in replay order) after the cursor.

    `replay_key` names what is replayed (source, cut-off, hold-out share); a cursor saved for
    another key is refused rather than silently skipping or repeating ratings.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}.")
    if cursor and cursor.get("key") != replay_key:
        raise ValueError(
            f"the replay cursor was saved for {cursor.get('key')!r} but the config now replays "
            f"{replay_key!r}; use a new continuous.state_dir when changing what is replayed."
        )
    start = int(cursor.get("rows", 0))
    chunk = replay.iloc[start : start + batch_size]
    info: dict[str, Any] = {"replayed_rows": start + len(chunk), "replay_total": len(replay)}
    if len(chunk):
        info["from_ts"] = int(chunk[C.TIMESTAMP].min())
        info["to_ts"] = int(chunk[C.TIMESTAMP].max())
    return PendingBatch(
        frame=coerce_interactions(chunk),
        source="replay",
        cursor_before=dict(cursor),
        cursor_after={"key": replay_key, "rows": start + len(chunk)},
        info=info,
    )


def next_demo_batch(
    demo: DemoData,
    accumulated: pd.DataFrame,
    cursor: dict[str, Any],
    batch_size: int,
    seed: int,
    taste_shift: float = 0.0,
    new_user_share: float = 0.0,
    shift_genres: list[str] | None = None,
    span_days: int = 30,
) -> PendingBatch:
    """A generated batch that starts after every rating seen so far (deterministic per index)."""
    index = int(cursor.get("batches", 0))
    start_ts = int(max(demo.ratings[C.TIMESTAMP].max(), accumulated[C.TIMESTAMP].max())) + 1
    frame = generate_batch(
        demo,
        n_ratings=batch_size,
        seed=seed * 1_000 + index + 1,
        start_ts=start_ts,
        span_s=span_days * 86_400,
        exclude=accumulated,
        taste_shift=taste_shift,
        shift_genres=shift_genres,
        new_user_share=new_user_share,
    )
    return PendingBatch(
        frame=coerce_interactions(frame),
        source="generated",
        cursor_before=dict(cursor),
        cursor_after={"batches": index + 1},
        info={
            "taste_shift": taste_shift,
            "new_user_share": new_user_share,
            "shift_genres": shift_genres or [],
            "from_ts": start_ts,
        },
    )


def next_event_log_batch(
    log: EventLog,
    cursor: dict[str, Any],
    chunk_bytes: int = EVENT_LOG_CHUNK_BYTES,
    max_interactions: int = EVENT_LOG_MAX_INTERACTIONS,
) -> PendingBatch:
    """Feedback logged since the cursor; requests are summarised, damaged lines skipped and
    announced.

    The log is read in chunks of `chunk_bytes`: requests are folded into the traffic summary
    and dropped, feedback is kept. The batch ends at the end of the log or once it holds
    `max_interactions` interactions including a rating (`more_pending`: the rest is the next
    batch). A batch without a rating is not committed (its implicit feedback waits), so reading
    goes on until a rating turns up; implicit events beyond `max_interactions` before the first
    rating are skipped and counted (`implicit_skipped`) rather than held in memory.
    """
    if cursor and cursor.get("path") not in (None, str(log.path)):
        raise ValueError(
            f"the event-log cursor belongs to {cursor['path']}, not {log.path}; use a new "
            "continuous.state_dir for another log."
        )
    offset, line = cursor.get("offset", 0), cursor.get("line")
    if not _count(offset, 0) or not (line is None or _count(line, 1)):
        raise ValueError(
            f"the event-log cursor {cursor} is damaged (offset must be an integer >= 0, line "
            "an integer >= 1); restore the continuous state from a backup or use a new "
            "continuous.state_dir."
        )
    feedback: list[Event] = []
    rated = False
    skipped = events = torn_tail = damaged_total = 0
    damaged: list[dict[str, Any]] = []
    traffic = TrafficSummary()
    while True:
        result = log.read(offset, max_bytes=chunk_bytes, first_line=line)
        offset, line = result.end_offset, result.end_line
        events += len(result.events)
        damaged += result.damaged[: MAX_DAMAGED_REPORTED - len(damaged)]
        damaged_total += len(result.damaged)
        traffic.add(result.events)
        for event in result.events:
            if event.type not in FEEDBACK_TYPES:
                continue
            if len(feedback) >= max_interactions and event.type != "rating" and not rated:
                skipped += 1
                continue
            feedback.append(event)
            rated = rated or event.type == "rating"
        if result.torn_tail is not None:
            torn_tail = result.torn_tail_size
        if not result.more or (rated and len(feedback) >= max_interactions):
            more = result.more
            break
    warning = _damage_warning(log, damaged, damaged_total, result, skipped)
    frame = interactions_from_events(feedback)
    # A user who rates the same movie again (the web app allows correcting a rating) keeps the
    # latest rating: a batch holds one rating per (user, movie), as the ratings suite requires.
    is_rating = frame[C.RATING].notna()
    superseded = is_rating & frame[is_rating].duplicated(
        [C.USER_ID, C.MOVIE_ID], keep="last"
    ).reindex(frame.index, fill_value=False)
    frame = frame[~superseded].reset_index(drop=True)
    info = {
        "events": events,
        "superseded_ratings": int(superseded.sum()),
        "damaged_lines": damaged,  # the first MAX_DAMAGED_REPORTED
        "damaged_count": damaged_total,
        "torn_tail_bytes": torn_tail,
        "damage_warning": warning,
        "more_pending": more,
        "implicit_skipped": skipped,
        "traffic": traffic.summary(),
    }
    return PendingBatch(
        frame=coerce_interactions(frame),
        source="event_log",
        cursor_before=dict(cursor),
        cursor_after={"path": str(log.path), "offset": offset, "line": line},
        info=info,
    )


def _damage_warning(
    log: EventLog, damaged: list[dict[str, Any]], total: int, last: ReadResult, skipped: int
) -> str | None:
    """The console warning for a batch: damaged lines, a torn tail, skipped implicit events."""
    summary = ReadResult(
        events=[],
        end_offset=last.end_offset,
        damaged=damaged,
        torn_tail=last.torn_tail,
        end_line=last.end_line,
        torn_tail_size=last.torn_tail_size,
    ).damage_summary(log.path, total)
    if skipped:
        note = (
            f"{skipped} implicit event(s) skipped: more than {EVENT_LOG_MAX_INTERACTIONS} "
            "interactions before the first rating."
        )
        summary = f"{summary} {note}" if summary else f"event log {log.path}: {note}"
    if summary:
        logger.warning(summary)
    return summary


def _count(value: Any, minimum: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= minimum


def state_dir(cfg: PipelineConfig) -> Path:
    """continuous.state_dir, else <cache dir>/continuous/<model_name>."""
    if cfg.continuous.state_dir:
        return Path(cfg.continuous.state_dir).expanduser()
    return default_cache_dir() / "continuous" / cfg.model_name


def event_log_path(cfg: PipelineConfig) -> Path:
    if cfg.continuous.event_log:
        return Path(cfg.continuous.event_log).expanduser()
    return state_dir(cfg) / "events.jsonl"


def replay_key(cfg: PipelineConfig) -> str:
    d = cfg.data
    holdout = d.demo.holdout_fraction
    return f"{d.source}:replay_from={d.replay_from}:holdout={holdout}:seed={cfg.seed}"


def next_batch(cfg: PipelineConfig, store: InteractionStore) -> PendingBatch:
    """The next batch of the configured source (continuous.source), not yet committed."""
    ct = cfg.continuous
    if ct.source == "replay":
        replay = sources.held_back_ratings(cfg.data, cfg.seed)
        if replay.empty and not (cfg.data.replay_from or cfg.data.demo.holdout_fraction):
            raise ValueError(
                "continuous.source is 'replay' but the data section holds nothing back: set "
                "data.replay_from (MovieLens) or data.demo.holdout_fraction (demo)."
            )
        return next_replay_batch(replay, store.cursor("replay"), ct.batch_size, replay_key(cfg))
    if ct.source == "generated":
        if cfg.data.source != "demo":
            raise ValueError(
                "continuous.source 'generated' draws from the demo data's latent world; it needs "
                f"data.source: demo (got {cfg.data.source!r})."
            )
        demo = sources.demo_data(cfg.data, cfg.seed)
        accumulated = pd.concat([demo.ratings, store.load()[C.RATINGS_COLUMNS]])
        return next_demo_batch(
            demo,
            accumulated,
            store.cursor("generated"),
            ct.batch_size,
            seed=cfg.seed,
            taste_shift=ct.taste_shift,
            new_user_share=ct.new_user_share,
        )
    return next_event_log_batch(EventLog(event_log_path(cfg)), store.cursor("event_log"))


def continuous_data(
    cfg: PipelineConfig, store: InteractionStore, production_version: str | None
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """(history, new, info): the production model's data vs everything stored after it.

    history = base ratings (sources.load_ratings) + the batches the production version was
    trained on; new = the later batches (explicit and implicit feedback).
    """
    base = sources.load_ratings(cfg.data, cfg.seed)
    n = store.batches_for_model(production_version)
    batches = store.batches()
    history = merge_interactions(base, store.load(0, n))
    new = store.load(n)
    info = {
        "production_version": production_version,
        "production_batches": n,
        "stored_batches": len(batches),
        "new_interactions": len(new),
        "new_ratings": int(new[C.RATING].notna().sum()),
        "history_ratings": len(history),
    }
    return history, new, info
