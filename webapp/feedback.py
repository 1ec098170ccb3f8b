"""Feedback of a picked (known) user, written to the durable event log before the page answers.

Three kinds, as `movie_roulette.monitoring.eventlog` defines them:

* click: the user opened a movie from their recommendations, the roulette or "If you liked";
* rating: the user rated a movie on its page (0.5..5 in half stars);
* spin_accepted: the user pressed "I'll watch this" on the roulette's pick.

Every record carries `origin: "webapp"`. `EventLog` fsyncs each record before returning, so a
page that says "saved" means the record is on disk. A log that cannot be written (permissions,
full disk, a damaged path) never breaks a page: `record` answers False, the page says the
feedback was not saved, and /metrics counts it (outcome "failed").

Newcomers have no user id, so their ratings are never logged here (see docs/webapp.md).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from movie_roulette.monitoring.eventlog import EventLog, EventLogError

log = logging.getLogger(__name__)

ORIGIN = "webapp"
# Where a click came from (the `src` of a tracked movie link).
CLICK_SOURCES = ("recommendations", "roulette", "similar")
# The rating form's choices: 0.5, 1.0, ..., 5.0.
RATING_CHOICES = tuple(i / 2 for i in range(1, 11))
# A click on the same movie by the same user within this many seconds is logged once.
CLICK_DEDUP_SECONDS = 600
CLICK_MEMORY = 20  # clicks remembered per session for de-duplication

FEEDBACK_TYPES = ("click", "rating", "spin_accepted")
OUTCOMES = ("logged", "failed", "invalid", "disabled", "duplicate")


@dataclass(frozen=True)
class Outcome:
    saved: bool
    reason: str | None = None  # why not, in words a user can read


def parse_rating(raw: str | None) -> float:
    """The form's rating as a float in RATING_CHOICES; ValueError with a clear message."""
    text = (raw or "").strip()
    if not text:
        raise ValueError("Choose a rating between 0.5 and 5 stars before saving.")
    problem = f"{text[:10]} is not a rating: choose 0.5 to 5 stars, in half stars."
    try:
        value = float(text)
    except ValueError:
        raise ValueError(problem) from None
    if value not in RATING_CHOICES:
        raise ValueError(problem)
    return value


def click_token(secret: str, user_id: int, movie_id: int, source: str) -> str:
    """A short HMAC binding a tracked link to the session (whose CSRF token is `secret`).

    A click is only logged when the link was rendered for this session: a link on another site,
    a crawler or a copied URL opens the movie page without logging anything.
    """
    message = f"{user_id}:{movie_id}:{source}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()[:20]


class FeedbackLog:
    """The web app's writer to the event log (None = feedback logging is switched off)."""

    def __init__(self, path: Path | None, counter: Any) -> None:
        self.path = path
        self._log = EventLog(path) if path is not None else None
        self._counter = counter  # prometheus Counter with labels (type, outcome)

    @property
    def enabled(self) -> bool:
        return self._log is not None

    def count(self, event_type: str, outcome: str) -> None:
        self._counter.labels(type=event_type, outcome=outcome).inc()

    def record(self, event_type: str, user_id: int, movie_id: int, **extra: Any) -> Outcome:
        """Durably log one feedback event; never raises for a log that cannot be written."""
        if self._log is None:
            self.count(event_type, "disabled")
            return Outcome(False, "feedback logging is switched off on this server")
        data = {"user_id": int(user_id), "movie_id": int(movie_id), "origin": ORIGIN, **extra}
        try:
            self._log.append(event_type, data)
        except (OSError, EventLogError) as err:
            log.error("could not log %s feedback to %s: %s", event_type, self.path, err)
            self.count(event_type, "failed")
            return Outcome(False, "the feedback log could not be written")
        self.count(event_type, "logged")
        return Outcome(True)
