from __future__ import annotations

from pathlib import Path

import pytest

from webapp.config import DEFAULT_SERVER_URL, AppConfig


def test_environment_sets_the_app_and_arguments_win(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("MOVIE_ROULETTE_BUNDLE", str(tmp_path))
    monkeypatch.setenv("MOVIE_ROULETTE_SERVER_URL", "http://127.0.0.1:9999")
    monkeypatch.setenv("MOVIE_ROULETTE_REMOTE_POSTERS", "off")
    cfg = AppConfig.from_env()
    assert cfg.bundle_path == tmp_path and cfg.server_url == "http://127.0.0.1:9999"
    assert cfg.remote_posters is False
    assert AppConfig.from_env(server_url="http://h:1").server_url == "http://h:1"
    monkeypatch.delenv("MOVIE_ROULETTE_SERVER_URL")
    assert AppConfig.from_env().server_url == DEFAULT_SERVER_URL


@pytest.mark.parametrize(
    ("env", "value", "field"),
    [
        ("MOVIE_ROULETTE_SERVER_URL", "localhost:8000", "server_url"),
        ("MOVIE_ROULETTE_REMOTE_POSTERS", "maybe", "MOVIE_ROULETTE_REMOTE_POSTERS"),
        ("MOVIE_ROULETTE_SERVER_TIMEOUT", "-1", "MOVIE_ROULETTE_SERVER_TIMEOUT"),
    ],
)
def test_bad_settings_name_the_setting(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, env: str, value: str, field: str
) -> None:
    monkeypatch.setenv("MOVIE_ROULETTE_BUNDLE", str(tmp_path))
    monkeypatch.setenv(env, value)
    with pytest.raises(ValueError, match=field):
        AppConfig.from_env()


def test_a_missing_bundle_says_how_to_give_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MOVIE_ROULETTE_BUNDLE", raising=False)
    with pytest.raises(ValueError, match="--bundle PATH or set MOVIE_ROULETTE_BUNDLE"):
        AppConfig.from_env()
