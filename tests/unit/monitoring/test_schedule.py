"""Crontab entries: validation, quoting, replace-never-duplicate, injectable crontab."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from movie_roulette.monitoring.schedule import (
    ScheduleError,
    crontab_line,
    install,
    replace_entry,
    validate_cron,
)


def test_cron_expressions_are_checked() -> None:
    assert validate_cron(" 0  3 * * * ") == "0 3 * * *"
    assert validate_cron("@daily") == "@daily"
    for bad in ("0 3 * *", "every day", "0 3 * * * *", "0 3; rm -rf / * * *"):
        with pytest.raises(ScheduleError, match="is not a cron expression"):
            validate_cron(bad)


def test_the_line_quotes_paths_and_carries_env_and_the_marker() -> None:
    line = crontab_line(
        "0 3 * * *",
        ["/opt/my venv/bin/python", "run_pipeline.py", "--pipeline", "continuous"],
        "/srv/movie roulette",
        "continuous.movie_roulette",
        env={"ZENML_CONFIG_PATH": "/home/u/.zen"},
        log_file="/tmp/ct.log",
    )
    assert line == (
        "0 3 * * * cd '/srv/movie roulette' && ZENML_CONFIG_PATH=/home/u/.zen "
        "'/opt/my venv/bin/python' run_pipeline.py --pipeline continuous >> /tmp/ct.log 2>&1 "
        "# movie-roulette-schedule:continuous.movie_roulette"
    )


def test_rescheduling_replaces_the_marked_entry_and_keeps_the_others() -> None:
    existing = "MAILTO=me\n5 * * * * backup\n0 1 * * * old # movie-roulette-schedule:ct.m\n"
    updated, replaced = replace_entry(
        existing, "0 3 * * * new # movie-roulette-schedule:ct.m", "ct.m"
    )
    assert replaced == 1
    assert updated == "MAILTO=me\n5 * * * * backup\n0 3 * * * new # movie-roulette-schedule:ct.m\n"
    again, replaced_again = replace_entry(
        updated, "0 4 * * * new # movie-roulette-schedule:ct.m", "ct.m"
    )
    assert replaced_again == 1 and again.count("movie-roulette-schedule:ct.m") == 1


def _fake_crontab(tmp_path: Path) -> Path:
    """A crontab-compatible command that keeps the table in a file (never the user's)."""
    table = tmp_path / "table"
    script = tmp_path / "crontab"
    script.write_text(
        "#!/bin/sh\n"
        f'TABLE="{table}"\n'
        'if [ "$1" = "-l" ]; then\n'
        '  [ -f "$TABLE" ] || { echo "no crontab for tester" >&2; exit 1; }\n'
        '  cat "$TABLE"\n'
        'elif [ "$1" = "-" ]; then cat > "$TABLE"\n'
        "else exit 2; fi\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return script


def test_install_through_an_injected_crontab_replaces_instead_of_duplicating(
    tmp_path: Path,
) -> None:
    crontab = _fake_crontab(tmp_path)
    first = install("0 3 * * * a # movie-roulette-schedule:x", "x", (str(crontab),))
    second = install("0 4 * * * b # movie-roulette-schedule:x", "x", (str(crontab),))
    assert first.installed and first.replaced == 0
    assert second.installed and second.replaced == 1
    assert (tmp_path / "table").read_text() == "0 4 * * * b # movie-roulette-schedule:x\n"


def test_without_crontab_the_line_is_printed_with_instructions(tmp_path: Path) -> None:
    result = install("0 3 * * * a # movie-roulette-schedule:x", "x", (str(tmp_path / "nope"),))
    assert not result.installed
    assert "crontab -e" in result.message and result.message.endswith(result.line)
