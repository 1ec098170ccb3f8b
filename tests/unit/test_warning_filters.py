"""pyproject's warning filters: errors by default, ignores scoped to the dependencies that warn
(issue 16 #6: five whole categories were ignored, this project's own warnings included)."""

from __future__ import annotations

import tomllib
import warnings
from pathlib import Path

import pytest

FILTERS = tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml").read_text())[
    "tool"
]["pytest"]["ini_options"]["filterwarnings"]


def test_every_ignore_names_the_modules_it_applies_to() -> None:
    assert FILTERS[0] == "error"
    for entry in FILTERS[1:]:
        action, _message, category, module = (entry.split(":") + ["", "", ""])[:4]
        assert action == "ignore" and category and module, f"unscoped filter: {entry!r}"


@pytest.mark.parametrize(
    "category", [DeprecationWarning, FutureWarning, UserWarning, PendingDeprecationWarning]
)
def test_a_warning_from_this_projects_code_is_an_error(category: type[Warning]) -> None:
    with pytest.raises(category):
        warnings.warn_explicit("x", category, "coverage.py", 1, module="movie_roulette.validation")


def test_a_dependency_warning_about_itself_is_ignored() -> None:
    with warnings.catch_warnings(record=True) as seen:
        warnings.warn_explicit("x", DeprecationWarning, "registry.py", 1, module="zenml.models")
    assert seen == []  # neither raised nor shown
