"""The progress reporter: a line at least every interval while a long phase runs, none for a
short one, and only the innermost of nested phases speaks."""

from __future__ import annotations

import logging
import time

import pytest

from movie_roulette.config import ModelConfig
from movie_roulette.data.demo import generate_demo
from movie_roulette.models.hybrid import train_hybrid
from movie_roulette.progress import LOGGER_NAME, Progress, format_seconds, reporting


def _info_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]


def test_a_long_phase_logs_a_heartbeat_every_interval(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger=LOGGER_NAME)
    progress = Progress("train_hybrid", interval_s=0.3)
    with progress.phase("fitting svd"):
        time.sleep(1.1)
    lines = _info_lines(caplog)
    assert 2 <= len(lines) <= 4, lines
    assert all(line.startswith("train_hybrid: fitting svd (") for line in lines)
    stamps = [r.created for r in caplog.records if r.levelno == logging.INFO]
    assert max(b - a for a, b in zip(stamps, stamps[1:], strict=False)) < 0.3 + 1.1


def test_a_short_phase_costs_no_console_line(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger=LOGGER_NAME)
    progress = Progress("train_hybrid", interval_s=5.0)
    with progress.phase("fitting popularity"):
        pass
    progress.done("6 components")
    assert _info_lines(caplog) == ["train_hybrid: done in 0 s, 6 components"]
    debug = [r.getMessage() for r in caplog.records if r.levelno == logging.DEBUG]
    assert debug == ["train_hybrid: fitting popularity (0 s)"]


def test_only_the_innermost_phase_beats(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER_NAME)
    progress = Progress("train_hybrid", interval_s=0.3)
    with progress.phase("refitting"), progress.phase("fitting ease"):
        time.sleep(1.0)
    lines = _info_lines(caplog)
    assert lines and all("fitting ease" in line for line in lines), lines


def test_training_reports_progress_through_logging(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger=LOGGER_NAME)
    demo = generate_demo(seed=5, n_movies=150, n_users=80, mean_ratings_per_user=40, n_reviews=10)
    ratings = demo.ratings.sample(frac=1.0, random_state=0)
    train, valid = ratings.iloc[: len(ratings) * 4 // 5], ratings.iloc[len(ratings) * 4 // 5 :]
    model = train_hybrid(train, valid, demo.catalogue, ModelConfig(), seed=5)
    messages = [r.getMessage() for r in caplog.records]
    assert any(m.startswith("train_hybrid: fitting svd") for m in messages), messages
    assert any(m.startswith("train_hybrid: tuning the blend") for m in messages)
    assert messages[-1].startswith("train_hybrid: done in ")
    assert model.progress is None  # nothing of the reporter stays on the model


def test_format_seconds() -> None:
    assert format_seconds(41.4) == "41 s"
    assert format_seconds(125) == "2 min 05 s"
    assert format_seconds(3780) == "1 h 03 min"


def test_short_phases_in_a_row_still_get_a_line_every_interval(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A phase start is a DEBUG line (not on the console): it must not reset the silence."""
    caplog.set_level(logging.INFO, logger=LOGGER_NAME)
    progress = Progress("train_hybrid", interval_s=0.6)
    for name in ("svd", "ease", "knn", "content"):
        with progress.phase(f"fitting {name}"):
            assert reporting()
            time.sleep(0.4)
    assert not reporting()
    assert len(_info_lines(caplog)) >= 1, "1.6 s of phases with a 0.6 s interval said nothing"
