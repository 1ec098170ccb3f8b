"""Exclusion uses every rating the model knows plus the feedback logged since (issue 14, item 1):
a movie a known user rated in the web app, or accepted from the roulette ("I'll watch this"), is
never recommended or spun to them again, through the server and through the web app."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from movie_roulette import bundle
from movie_roulette.logged_feedback import LoggedFeedback
from movie_roulette.monitoring.eventlog import EventLog
from movie_roulette.service import RecommenderService
from tests.webapp_support import build_demo_bundle, contract_server, make_app


@pytest.fixture(scope="module")
def bundle_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_demo_bundle(tmp_path_factory.mktemp("fb") / "bundle", enriched=False)


def top(service: RecommenderService, user: int, k: int = 10) -> list[int]:
    answer = service.handle({"kind": "recommend", "user_id": user, "k": k})
    return [item["movie_id"] for item in answer["items"]]


def spun(service: RecommenderService, user: int, seeds: int = 40) -> set[int]:
    return {
        service.handle({"kind": "spin", "user_id": user, "seed": s})["item"]["movie_id"]
        for s in range(seeds)
    }


def test_logged_ratings_and_accepted_spins_are_left_out(bundle_path: Path, tmp_path: Path) -> None:
    log = EventLog(tmp_path / "events.jsonl")
    service = RecommenderService(bundle.load(bundle_path), feedback_log=log.path)
    user = int(service.model.user_ids[0])
    before, before_deep = top(service, user), top(service, user, k=30)  # cached and uncached
    before_spins = spun(service, user)
    rated, accepted = before[0], sorted(before_spins)[0]
    log.log_request({"kind": "recommend", "user_id": user})  # traffic: not feedback
    log.log_rating(user, rated, 4.5, origin="webapp")
    log.log_spin_accepted(user, accepted, origin="webapp")
    log.log_click(user, before[1], origin="webapp")  # a click is not a rating: stays
    after, after_deep = top(service, user), top(service, user, k=30)
    assert rated not in after and accepted not in after and accepted not in after_deep
    assert before[1] in after or before[1] == accepted
    assert len(after) == 10 and len(after_deep) == 30
    assert after == [m for m in before_deep if m not in (rated, accepted)][:10]
    assert not spun(service, user) & {rated, accepted}
    # other users and the model-known ratings are unaffected
    other = int(service.model.user_ids[1])
    assert not set(top(service, other, k=30)) & set(service.model.seen_movie_ids(other))
    # include_seen answers are not filtered (the user asked for everything)
    every = service.handle({"kind": "recommend", "user_id": user, "k": 30, "exclude_seen": False})
    assert len(every["items"]) == 30


def test_a_missing_or_replaced_log_never_fails_a_request(bundle_path: Path, tmp_path: Path) -> None:
    path = tmp_path / "later" / "events.jsonl"
    feedback = LoggedFeedback(path)
    assert feedback.movies(1) == frozenset()  # not there yet
    EventLog(path).log_rating(1, 7, 5.0)
    EventLog(path).log_rating(1, 8, 5.0)
    assert feedback.movies(1) == {7, 8}
    path.unlink()
    EventLog(path).log_spin_accepted(1, 9)  # a new, shorter log
    assert feedback.movies(1) == {9}
    with path.open("ab") as handle:
        handle.write(b'{"torn": ')  # a writer killed mid-record
    assert feedback.movies(1) == {9}


def test_the_web_app_never_shows_a_movie_the_user_just_rated(
    bundle_path: Path, tmp_path: Path
) -> None:
    log_path = tmp_path / "events.jsonl"
    with contract_server(bundle_path, feedback_log=log_path) as url:
        client = make_app(bundle_path, url, event_log=log_path).test_client()
        user = int(bundle.load_user_ids(bundle_path)[0])
        page = client.get(f"/user/{user}").get_data(as_text=True)
        shown = [int(m) for m in re.findall(r'href="/movie/(\d+)\?src=recommendations', page)]
        assert shown
        movie = shown[0]
        form = client.get(f"/movie/{movie}").get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)  # type: ignore[union-attr]
        saved = client.post(f"/movie/{movie}/rate", data={"csrf_token": token, "rating": "3"})
        assert saved.status_code in (200, 303)
        page = client.get(f"/user/{user}").get_data(as_text=True)
        assert f'href="/movie/{movie}?src=recommendations' not in page
        for _ in range(15):
            assert client.get(f"/api/spin?user_id={user}").get_json()["item"]["movie_id"] != movie


# ---- incremental reading (the server's own request log is the same file: issue 13) -----------


def _requests(log: EventLog, n: int) -> None:
    log.append_many([("request", {"kind": "recommend", "user_id": i}, None) for i in range(n)])


def test_each_read_takes_only_the_appended_bytes_and_skips_request_records(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from movie_roulette.monitoring import eventlog

    log = EventLog(tmp_path / "events.jsonl")
    _requests(log, 200)
    log.log_rating(1, 7, 5.0)
    feedback = LoggedFeedback(log.path)
    assert feedback.movies(1) == {7}
    first = feedback.bytes_read
    assert first == log.path.stat().st_size

    def no_recount(*args: object) -> int:
        raise AssertionError("the log's newlines were counted from its start again")

    parsed: list[bytes] = []
    parse = eventlog.EventLog._parse
    monkeypatch.setattr(eventlog, "_count_newlines", no_recount)
    monkeypatch.setattr(
        eventlog.EventLog, "_parse", staticmethod(lambda raw: parsed.append(raw) or parse(raw))
    )
    before = log.path.stat().st_size
    _requests(log, 50)
    log.log_spin_accepted(1, 8)
    appended = log.path.stat().st_size - before
    assert feedback.movies(1) == {7, 8}
    assert feedback.bytes_read - first == appended  # nothing before them read again
    assert len(parsed) == 1 and b"spin_accepted" in parsed[0]  # 50 requests skipped unparsed
    assert feedback.movies(1) == {7, 8} and feedback.bytes_read - first == appended  # no change


def test_a_log_replaced_by_a_longer_one_is_read_from_its_start(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    EventLog(path).log_rating(1, 7, 5.0)
    feedback = LoggedFeedback(path)
    assert feedback.movies(1) == {7}
    rotated = EventLog(tmp_path / "new.jsonl")  # rotation: a new file renamed over the old one
    _requests(rotated, 3)
    rotated.log_rating(2, 9, 4.0)
    rotated.path.replace(path)
    assert feedback.movies(1) == frozenset() and feedback.movies(2) == {9}


def test_a_log_truncated_and_written_past_the_old_end_is_read_from_its_start(
    tmp_path: Path,
) -> None:
    log = EventLog(tmp_path / "events.jsonl")
    _requests(log, 2)
    log.log_rating(1, 7, 5.0)
    feedback = LoggedFeedback(log.path)
    assert feedback.movies(1) == {7}
    with log.path.open("r+b") as handle:  # copy-truncate rotation, same file
        handle.truncate(0)
    _requests(log, 5)  # longer than before the truncation by the next request
    log.log_rating(3, 11, 4.0)
    assert feedback.movies(1) == frozenset() and feedback.movies(3) == {11}
    assert feedback.problem is None


def test_a_torn_line_is_not_consumed_until_it_is_complete(tmp_path: Path) -> None:
    from movie_roulette.monitoring.eventlog import encode_record

    log = EventLog(tmp_path / "events.jsonl")
    log.log_rating(1, 7, 5.0)
    feedback = LoggedFeedback(log.path)
    assert feedback.movies(1) == {7}
    record = encode_record("rating", {"user_id": 1, "movie_id": 8, "rating": 4.0})
    with log.path.open("ab") as handle:  # a writer in the middle of its record
        handle.write(record[:30])
    assert feedback.movies(1) == {7}
    with log.path.open("ab") as handle:
        handle.write(record[30:])
    assert feedback.movies(1) == {7, 8}
    with log.path.open("ab") as handle:  # a writer killed mid-record; the next one goes on
        handle.write(b'{"data": {"user_id": 1, "movie_id": 99')
    assert feedback.movies(1) == {7, 8}
    log.log_spin_accepted(1, 12)
    assert feedback.movies(1) == {7, 8, 12}


def test_an_unreadable_log_is_empty_and_says_why(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.mkdir()  # a folder where the log should be
    feedback = LoggedFeedback(path)
    assert feedback.movies(1) == frozenset()
    assert feedback.problem is not None and str(path) in feedback.problem
    path.rmdir()
    EventLog(path).log_rating(1, 7, 5.0)
    assert feedback.movies(1) == {7}


def test_a_request_never_waits_for_a_writer_holding_the_log(tmp_path: Path) -> None:
    """The request logger holds the log's exclusive lock through its write and fsync (ms on a
    busy disk); a recommend reading the feedback must not wait for it."""
    import fcntl
    import threading

    log = EventLog(tmp_path / "events.jsonl")
    log.log_rating(1, 7, 5.0)
    feedback = LoggedFeedback(log.path)
    assert feedback.movies(1) == {7}
    log.log_rating(1, 8, 5.0)
    answers: list[frozenset[int]] = []
    with log.path.open("ab") as writer:
        fcntl.flock(writer.fileno(), fcntl.LOCK_EX)  # a writer mid-batch
        try:
            reader = threading.Thread(target=lambda: answers.append(feedback.movies(1)))
            reader.start()
            reader.join(timeout=5)
            assert not reader.is_alive(), "the request waited for the writer's lock"
        finally:
            fcntl.flock(writer.fileno(), fcntl.LOCK_UN)
    reader.join()
    assert answers == [{7, 8}]
