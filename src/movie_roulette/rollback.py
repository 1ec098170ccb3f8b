"""Which registered version a rollback restores: the production history, newest first."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


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
