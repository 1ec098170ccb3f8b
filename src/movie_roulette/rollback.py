"""Which registered version a rollback restores: the production history, newest first."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any


def stamp(when: datetime | None = None) -> str:
    """A registry time stamp: ISO-8601 in UTC (`2026-11-30T06:10:00.123+00:00`)."""
    return (when or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="milliseconds")


def parse_stamp(value: str | None) -> float | None:
    """Unix time of a stamp: ISO-8601 (written now) or a unix float (older versions' tags);
    None when absent or unreadable."""
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError:
        try:
            when = datetime.fromisoformat(value)
        except ValueError:
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return when.timestamp()
    return number if math.isfinite(number) else None


def rollback_target(versions: Iterable[Mapping[str, Any]], current: str | None) -> str | None:
    """The version that was production before `current`, or None when there is none.

    `versions`: {"version": str, "production_since": float | None, "rolled_back_at": float |
    None} per registered version. Promotion stamps `production_since`; a rollback stamps the
    version it leaves with `rolled_back_at`, so repeated rollbacks walk further back in the
    promotion history instead of bouncing between two versions.
    """
    candidates = [
        v
        for v in versions
        if v.get("production_since") is not None
        and v.get("rolled_back_at") is None
        and str(v["version"]) != str(current)
    ]
    if not candidates:
        return None
    latest = max(candidates, key=lambda v: (float(v["production_since"]), int(v["version"])))
    return str(latest["version"])
