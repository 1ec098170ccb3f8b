"""ensure_movielens against a real local HTTP server (no network needed)."""

from __future__ import annotations

import functools
import hashlib
import socket
import threading
import zipfile
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from movie_roulette.data.download import (
    ML_SHA256,
    RELEASES,
    SUMS_FILE,
    MovieLensRelease,
    ensure_movielens,
    sha256_of,
)
from movie_roulette.exceptions import DataSourceError


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A folder served over http://127.0.0.1:<port>/ for the duration of the test."""
    root = tmp_path / "www"
    root.mkdir()
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield root, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def build_zip(dest: Path, source: Path, *, tamper: bool = False) -> Path:
    with zipfile.ZipFile(dest, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zipped:
        for name in ("README.txt", *ML_SHA256):
            data = (source / name).read_bytes()
            if tamper and name == "ratings.csv":
                data = data.replace(b"1,1,4.0,964982703", b"1,1,5.0,964982703", 1)
            zipped.writestr(f"ml-latest-small/{name}", data)
    return dest


@pytest.fixture(scope="module")
def good_zip(tmp_path_factory: pytest.TempPathFactory, shared_data_dir: Path) -> Path:
    folder = tmp_path_factory.mktemp("zip")
    return build_zip(folder / "ml-latest-small.zip", shared_data_dir / "ml-latest-small")


def test_downloads_verifies_and_caches(served, good_zip: Path, tmp_path: Path, capsys) -> None:
    root, base = served
    (root / "ml-latest-small.zip").write_bytes(good_zip.read_bytes())
    cache = tmp_path / "cache"
    folder = ensure_movielens(cache, url=f"{base}/ml-latest-small.zip", progress=True)
    assert folder == cache / "ml-latest-small"
    for name, digest in ML_SHA256.items():
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == digest
    assert [p.name for p in cache.iterdir()] == ["ml-latest-small"]
    assert "Downloading ml-latest-small" in capsys.readouterr().err
    (root / "ml-latest-small.zip").unlink()  # a second call must not need the server
    assert ensure_movielens(cache, url=f"{base}/ml-latest-small.zip") == folder


def test_corrupted_zip_leaves_nothing_behind(served, tmp_path: Path) -> None:
    root, base = served
    (root / "broken.zip").write_bytes(b"PK\x03\x04 this is not really a zip" * 100)
    cache = tmp_path / "cache"
    with pytest.raises(DataSourceError, match="valid zip archive"):
        ensure_movielens(cache, url=f"{base}/broken.zip", progress=False)
    assert list(cache.iterdir()) == []


def test_checksum_mismatch_leaves_nothing_behind(
    served, tmp_path: Path, shared_data_dir: Path
) -> None:
    root, base = served
    build_zip(root / "tampered.zip", shared_data_dir / "ml-latest-small", tamper=True)
    cache = tmp_path / "cache"
    with pytest.raises(DataSourceError, match=r"checksum mismatch for \['ratings.csv'\]"):
        ensure_movielens(cache, url=f"{base}/tampered.zip", progress=False)
    assert list(cache.iterdir()) == []


def test_http_error_is_a_data_source_error(served, tmp_path: Path) -> None:
    _, base = served
    with pytest.raises(DataSourceError, match="could not download.*404"):
        ensure_movielens(tmp_path / "cache", url=f"{base}/missing.zip", progress=False)


def test_refused_connection_says_where_to_put_files(tmp_path: Path) -> None:
    with socket.socket() as sock:  # a port with nobody listening
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    cache = tmp_path / "cache"
    with pytest.raises(DataSourceError) as err:
        ensure_movielens(cache, url=f"http://127.0.0.1:{port}/ml.zip", progress=False)
    message = str(err.value)
    assert "could not download" in message and "no network?" in message
    assert (
        f"Put ml-latest-small/ (ratings.csv, movies.csv, links.csv, tags.csv) under {cache}"
        in message
    )
    assert "MOVIE_ROULETTE_DATA_DIR" in message
    assert list(cache.iterdir()) == []


def test_download_disabled_raises(tmp_path: Path) -> None:
    with pytest.raises(DataSourceError, match="downloading is disabled"):
        ensure_movielens(tmp_path, allow_download=False)


def test_large_releases_pin_the_md5_grouplens_publishes() -> None:
    assert RELEASES["ml-25m"].url == "https://files.grouplens.org/datasets/movielens/ml-25m.zip"
    assert RELEASES["ml-25m"].archive_md5 == "6b51fb2759a8657d3bfcbfc42b592ada"
    assert RELEASES["ml-32m"].url == "https://files.grouplens.org/datasets/movielens/ml-32m.zip"
    assert RELEASES["ml-32m"].archive_md5 == "d472be332d4daa821edc399621853b57"


def _release_zip(dest: Path, source: Path, folder: str) -> str:
    with zipfile.ZipFile(dest, "w") as zipped:
        for name in ML_SHA256:
            zipped.writestr(f"{folder}/{name}", (source / name).read_bytes())
    return hashlib.md5(dest.read_bytes(), usedforsecurity=False).hexdigest()


def test_md5_release_is_checked_unpacked_and_its_sha256_recorded(
    served, tmp_path: Path, shared_data_dir: Path, capsys
) -> None:
    root, base = served
    md5 = _release_zip(root / "ml-25m.zip", shared_data_dir / "ml-latest-small", "ml-25m")
    rel = MovieLensRelease("ml-25m", f"{base}/ml-25m.zip", archive_md5=md5)
    cache = tmp_path / "cache"
    folder = ensure_movielens(cache, release=rel)
    assert folder == cache / "ml-25m" and [p.name for p in cache.iterdir()] == ["ml-25m"]
    assert "Downloading ml-25m" in capsys.readouterr().err
    sums = dict(
        reversed(line.split("  ")) for line in (folder / SUMS_FILE).read_text().splitlines()
    )
    assert sums == {name: sha256_of(folder / name) for name in ML_SHA256}
    (root / "ml-25m.zip").unlink()  # cached: no second download
    assert ensure_movielens(cache, release=rel) == folder


def test_md5_mismatch_keeps_nothing(served, tmp_path: Path, shared_data_dir: Path) -> None:
    root, base = served
    _release_zip(root / "ml-32m.zip", shared_data_dir / "ml-latest-small", "ml-32m")
    cache = tmp_path / "cache"
    with pytest.raises(DataSourceError, match="MD5 GroupLens publishes for ml-32m"):
        ensure_movielens(cache, release="ml-32m", url=f"{base}/ml-32m.zip", progress=False)
    assert list(cache.iterdir()) == []


def test_offline_large_release_says_where_to_put_it_and_which_md5(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    cache = tmp_path / "cache"
    with pytest.raises(DataSourceError) as err:
        ensure_movielens(cache, release="ml-25m", url=f"http://127.0.0.1:{port}/x.zip")
    message = str(err.value)
    assert f"Put ml-25m/ (ratings.csv, movies.csv, links.csv, tags.csv) under {cache}" in message
    assert "https://files.grouplens.org/datasets/movielens/ml-25m.zip" in message
    assert "6b51fb2759a8657d3bfcbfc42b592ada" in message
    with pytest.raises(DataSourceError, match="unknown MovieLens release 'ml-99m'"):
        ensure_movielens(cache, release="ml-99m")
