"""Registry time stamps are ISO-8601 strings; older unix-float stamps still read (issue 14)."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest

from movie_roulette.rollback import parse_stamp, stamp


def _is_iso(value: str) -> bool:
    return datetime.fromisoformat(value).tzinfo is not None and "T" in value


def test_stamps_are_iso_8601_utc_and_both_formats_parse() -> None:
    when = datetime(2026, 11, 30, 6, 10, 0, 123000, tzinfo=UTC)
    assert stamp(when) == "2026-11-30T06:10:00.123+00:00"
    assert parse_stamp(stamp(when)) == pytest.approx(when.timestamp())
    assert parse_stamp("1764483000.5") == 1764483000.5  # an old tag
    assert parse_stamp("2026-11-30T06:10:00") == pytest.approx(
        datetime(2026, 11, 30, 6, 10, tzinfo=UTC).timestamp()
    )
    assert parse_stamp(None) is None and parse_stamp("yesterday") is None
    assert parse_stamp("nan") is None


class _FakeMlflow:
    tags: dict[tuple[str, str, str], str] = {}
    versions: list[Any] = []

    def set_model_version_tag(self, name: str, version: str, key: str, value: str) -> None:
        type(self).tags[(name, str(version), key)] = value

    def search_model_versions(self, query: str) -> list[Any]:
        return type(self).versions


def test_promotion_and_rollback_write_iso_stamps_and_read_old_float_ones(monkeypatch) -> None:
    from serving import registry, rollback

    _FakeMlflow.tags = {}
    _FakeMlflow.versions = [
        SimpleNamespace(version="1", tags={"production_since": "1700000000.0"}),  # old float
        SimpleNamespace(version="2", tags={"production_since": "2026-11-30T06:00:00.000+00:00"}),
    ]
    stage_calls: list[tuple] = []

    class FakeClient:
        active_stack = SimpleNamespace(
            model_registry=SimpleNamespace(
                update_model_version=lambda **kw: stage_calls.append(tuple(kw.values()))
            )
        )

    import zenml.client

    monkeypatch.setattr(zenml.client, "Client", FakeClient)
    for module in (registry, rollback):
        monkeypatch.setattr(module, "MlflowClient", _FakeMlflow)
        monkeypatch.setattr(module, "configure_mlflow", lambda: None)

    registry.set_stage("m", "3", "production")
    assert _is_iso(_FakeMlflow.tags[("m", "3", "production_since")])

    history = rollback.production_history("m")
    assert [h["production_since"] for h in history] == [
        1700000000.0,
        pytest.approx(datetime(2026, 11, 30, 6, tzinfo=UTC).timestamp()),
    ]

    monkeypatch.setattr(rollback, "production_version", lambda name: "2")
    monkeypatch.setattr(rollback, "set_stage", lambda *a, **kw: None)
    monkeypatch.setattr(rollback, "_set_zenml_stage", lambda *a: None)
    result = rollback.rollback("m")
    assert result["live_version"] == "1"  # the old float stamp still orders the history
    assert _is_iso(_FakeMlflow.tags[("m", "2", "rolled_back_at")])
