"""Crontab scheduling of a pipeline on orchestrators without schedules (the local one).

One entry per (pipeline, model): its line ends with a marker comment, and scheduling again
replaces the marked line instead of adding a second one. The crontab command is injectable so
tests never touch the real user's crontab.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

MARKER_PREFIX = "# movie-roulette-schedule:"
_NICKNAMES = {"@hourly", "@daily", "@midnight", "@weekly", "@monthly", "@yearly", "@annually"}
_FIELD = re.compile(r"^[0-9*/,\-A-Za-z]+$")
# Environment that decides which ZenML store / data / MLflow backend a run uses: cron starts
# with an almost empty environment, so the entry carries these explicitly.
PASSED_ENV = (
    "ZENML_CONFIG_PATH",
    "ZENML_ANALYTICS_OPT_IN",
    "MOVIE_ROULETTE_DATA_DIR",
    "MOVIE_ROULETTE_CACHE_DIR",
    "MOVIE_ROULETTE_MLFLOW_TRACKING_URI",
    "MLFLOW_TRACKING_URI",
)


class ScheduleError(ValueError):
    """A cron expression or crontab operation is invalid; the message says how to fix it."""


@dataclass(frozen=True)
class InstallResult:
    installed: bool
    line: str
    message: str
    replaced: int = 0  # how many earlier entries with the same marker were replaced


def validate_cron(expression: str) -> str:
    """A normalised 5-field cron expression (or @daily-style nickname), else ScheduleError."""
    text = " ".join(expression.split())
    if text in _NICKNAMES:
        return text
    fields = text.split(" ")
    if len(fields) != 5 or not all(_FIELD.match(f) for f in fields):
        raise ScheduleError(
            f"{expression!r} is not a cron expression: give 5 fields 'minute hour day-of-month "
            "month day-of-week', e.g. '0 3 * * *' for every day at 03:00."
        )
    return text


def marker(name: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9_.:\-]+", name):
        raise ScheduleError(f"schedule name {name!r} may only use letters, digits and _.:-")
    return f"{MARKER_PREFIX}{name}"


def crontab_line(
    cron: str,
    command: Sequence[str],
    workdir: str | Path,
    name: str,
    env: Mapping[str, str] | None = None,
    log_file: str | Path | None = None,
) -> str:
    """`<cron> cd <workdir> && [ENV=...] <command> >> <log> 2>&1 <marker>` (shell-quoted)."""
    cron = validate_cron(cron)
    parts = [f"cd {shlex.quote(str(workdir))} &&"]
    for key, value in sorted((env or {}).items()):
        parts.append(f"{key}={shlex.quote(value)}")
    parts.append(" ".join(shlex.quote(c) for c in command))
    if log_file is not None:
        parts.append(f">> {shlex.quote(str(log_file))} 2>&1")
    line = f"{cron} {' '.join(parts)} {marker(name)}"
    if "%" in line:  # cron turns an unescaped % into a newline
        line = line.replace("%", "\\%")
    return line


def replace_entry(crontab: str, line: str, name: str) -> tuple[str, int]:
    """The crontab text with every entry carrying `name`'s marker replaced by `line`."""
    tag = marker(name)
    kept, removed = [], 0
    for existing in crontab.splitlines():
        if existing.rstrip().endswith(tag):
            removed += 1
        else:
            kept.append(existing)
    while kept and not kept[-1].strip():
        kept.pop()
    return "\n".join([*kept, line]) + "\n", removed


def remove_entry(crontab: str, name: str) -> tuple[str, int]:
    tag = marker(name)
    kept = [ln for ln in crontab.splitlines() if not ln.rstrip().endswith(tag)]
    removed = len(crontab.splitlines()) - len(kept)
    return ("\n".join(kept) + "\n") if kept else "", removed


def install_instructions(line: str) -> str:
    return (
        "`crontab` is not available on this machine, so nothing was installed. To schedule the "
        "run, add this line to your crontab (`crontab -e`) or to your system scheduler:\n"
        f"{line}"
    )


def read_crontab(crontab_cmd: Sequence[str] = ("crontab",)) -> str:
    result = subprocess.run(
        [*crontab_cmd, "-l"], capture_output=True, text=True, timeout=30, check=False
    )
    if result.returncode != 0:
        if "no crontab" in (result.stderr or "").lower():
            return ""
        raise ScheduleError(
            f"`{' '.join(crontab_cmd)} -l` failed ({result.returncode}): {result.stderr.strip()}"
        )
    return result.stdout


def install(line: str, name: str, crontab_cmd: Sequence[str] = ("crontab",)) -> InstallResult:
    """Install `line` replacing any entry with the same marker; print-only without crontab."""
    if shutil.which(crontab_cmd[0]) is None:
        return InstallResult(False, line, install_instructions(line))
    current = read_crontab(crontab_cmd)
    updated, replaced = replace_entry(current, line, name)
    result = subprocess.run(
        [*crontab_cmd, "-"], input=updated, capture_output=True, text=True, timeout=30, check=False
    )
    if result.returncode != 0:
        raise ScheduleError(
            f"`{' '.join(crontab_cmd)} -` refused the new crontab ({result.returncode}): "
            f"{result.stderr.strip()}. Your crontab was left unchanged."
        )
    verb = "Replaced the existing" if replaced else "Installed a new"
    return InstallResult(True, line, f"{verb} crontab entry:\n{line}", replaced)
