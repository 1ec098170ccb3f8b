"""The batch store: atomic commits, cursors, checksums, model -> data records."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from movie_roulette.monitoring.store import InteractionStore, StoreError, merge_interactions


def _batch(users: list[int], movies: list[int], rating: float = 4.0) -> pd.DataFrame:
    return pd.DataFrame(
        {"user_id": users, "movie_id": movies, "rating": rating, "timestamp": 1_000}
    )


def test_commit_stores_the_batch_and_moves_the_cursor(tmp_path: Path) -> None:
    store = InteractionStore(tmp_path)
    record = store.commit(_batch([1, 2], [3, 4]), "replay", {}, {"rows": 2})
    assert record is not None and record.index == 1 and record.rows == 2 and record.ratings == 2
    assert store.cursor("replay") == {"rows": 2}
    loaded = store.load()
    assert loaded[["user_id", "movie_id"]].values.tolist() == [[1, 3], [2, 4]]
    assert loaded["event"].tolist() == ["rating", "rating"]
    assert InteractionStore(tmp_path).batches() == [record]  # durable: a new reader sees it


def test_a_commit_from_a_stale_cursor_is_refused_and_changes_nothing(tmp_path: Path) -> None:
    store = InteractionStore(tmp_path)
    store.commit(_batch([1], [1]), "replay", {}, {"rows": 1})
    state = store.state_path.read_bytes()
    with pytest.raises(StoreError, match="another run committed first"):
        store.commit(_batch([1], [2]), "replay", {}, {"rows": 1})
    assert store.state_path.read_bytes() == state
    assert len(store.batches()) == 1


def test_an_empty_batch_moves_the_cursor_without_a_file(tmp_path: Path) -> None:
    store = InteractionStore(tmp_path)
    assert store.commit(_batch([], []), "event_log", {}, {"offset": 10}) is None
    assert store.cursor("event_log") == {"offset": 10}
    assert store.batches() == []
    assert store.load().empty


def test_a_damaged_batch_file_is_reported_not_trained_on(tmp_path: Path) -> None:
    store = InteractionStore(tmp_path)
    record = store.commit(_batch([1, 2], [3, 4]), "replay", {}, {"rows": 2})
    assert record is not None
    path = tmp_path / record.file
    path.write_bytes(path.read_bytes()[:-5] + b"XXXXX")
    with pytest.raises(StoreError, match="does not match its recorded SHA-256"):
        store.load()


def test_models_remember_how_many_batches_they_were_trained_on(tmp_path: Path) -> None:
    store = InteractionStore(tmp_path)
    store.commit(_batch([1], [1]), "replay", {}, {"rows": 1})
    store.commit(_batch([1], [2]), "replay", {"rows": 1}, {"rows": 2})
    store.record_model("3", 1)
    assert store.batches_for_model("3") == 1
    assert store.batches_for_model("9") == 0
    assert store.batches_for_model(None) == 0
    assert store.rows_after(1) == 1
    with pytest.raises(StoreError, match="outside 0..2"):
        store.record_model("4", 5)


def test_an_unreadable_state_file_names_the_file_and_the_fix(tmp_path: Path) -> None:
    store = InteractionStore(tmp_path)
    store.state_path.write_text("{not json")
    with pytest.raises(StoreError, match="state.json is unreadable"):
        store.batches()


def test_merge_keeps_the_latest_rating_and_drops_implicit_feedback() -> None:
    base = _batch([1, 1], [1, 2], rating=2.0)
    new = _batch([1, 2], [2, 3], rating=5.0).assign(event=["rating", "click"])
    new.loc[1, "rating"] = float("nan")
    merged = merge_interactions(base, new)
    assert merged.sort_values(["user_id", "movie_id"]).values.tolist() == [
        [1, 1, 2.0, 1000],
        [1, 2, 5.0, 1000],
    ]


@pytest.mark.parametrize(
    ("state", "problem"),
    [
        ([1, 2], "state version None"),
        ({"version": 1, "cursors": [], "batches": [], "models": {}}, "'cursors' must be dict"),
        ({"version": 1, "cursors": {}, "batches": [{"index": 1}], "models": {}}, "batches[1]"),
        ({"version": 1, "cursors": {"event_log": 5}, "batches": [], "models": {}}, "cursor"),
        ({"version": 1, "cursors": {}, "batches": [], "models": {"3": 1}}, "model '3'"),
    ],
)
def test_a_damaged_state_file_names_the_problem_not_a_key_error(
    tmp_path: Path, state: object, problem: str
) -> None:
    """A hand-edited state.json of the right JSON but the wrong shape crashed with a raw
    AttributeError/TypeError/KeyError deep in the pipeline."""
    import json

    store = InteractionStore(tmp_path)
    store.state_path.write_text(json.dumps(state))
    with pytest.raises(StoreError, match=re.escape(problem)):
        store.batches()
        store.cursor("event_log")
        store.batches_for_model("3")
