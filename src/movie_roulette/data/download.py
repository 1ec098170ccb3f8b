"""Download, verify and cache a MovieLens release from GroupLens (ml-latest-small, ml-25m, ml-32m).

ml-latest-small is checked file by file against SHA-256 sums of the 2018 build. For ml-25m and
ml-32m GroupLens publishes only the MD5 of the zip (`<url>.md5`), so the archive is checked
against that before it is unpacked; the SHA-256 of the four CSVs is then written into the cache
(`SHA256SUMS` in the release folder) as the record of what was verified.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import requests
from tqdm.auto import tqdm

from movie_roulette.data.movielens import ML_FILES, has_movielens
from movie_roulette.exceptions import DataSourceError

GROUPLENS_URL = "https://files.grouplens.org/datasets/movielens/ml-latest-small.zip"
CACHE_DIR_ENV = "MOVIE_ROULETTE_CACHE_DIR"
# SHA-256 of the GroupLens 2018-09-26 build (see ../shared/data/README.md).
ML_SHA256: dict[str, str] = {
    "links.csv": "97ad18e4e56a09363c65676b6cb3482ce3e2cea2372a24620c1599c843325f31",
    "movies.csv": "5a5f32dd9bb3797b8e728a1b98958789d2b13f294a69fdfbc5727f8a9611aa07",
    "ratings.csv": "aa289ca83157595d0df6aea1be6a4ded676ddc4385472e8313a8ed9805352646",
    "tags.csv": "92a9f8bb7916dceef6151209845788c3643f794dfa79d1feaec7121b5960399d",
}
_CHUNK = 1 << 16
SUMS_FILE = "SHA256SUMS"


@dataclass(frozen=True)
class MovieLensRelease:
    """A GroupLens archive: its folder name, URL and the published checksums."""

    name: str
    url: str
    file_sha256: Mapping[str, str] = field(default_factory=dict)  # per CSV
    archive_md5: str | None = None  # GroupLens' <url>.md5 (no SHA-256 is published)


_BASE = "https://files.grouplens.org/datasets/movielens"
RELEASES: dict[str, MovieLensRelease] = {
    "ml-latest-small": MovieLensRelease("ml-latest-small", GROUPLENS_URL, file_sha256=ML_SHA256),
    # MD5 of the zips as published in ml-25m.zip.md5 / ml-32m.zip.md5 (see docs/scale.md)
    "ml-25m": MovieLensRelease(
        "ml-25m", f"{_BASE}/ml-25m.zip", archive_md5="6b51fb2759a8657d3bfcbfc42b592ada"
    ),
    "ml-32m": MovieLensRelease(
        "ml-32m", f"{_BASE}/ml-32m.zip", archive_md5="d472be332d4daa821edc399621853b57"
    ),
}


def get_release(name: str) -> MovieLensRelease:
    if name not in RELEASES:
        raise DataSourceError(
            f"unknown MovieLens release {name!r}; use one of {sorted(RELEASES)} "
            "(data.movielens_release)."
        )
    return RELEASES[name]


def default_cache_dir() -> Path:
    """$MOVIE_ROULETTE_CACHE_DIR, else ~/.cache/movie_roulette."""
    value = os.environ.get(CACHE_DIR_ENV)
    return Path(value).expanduser() if value else Path.home() / ".cache" / "movie_roulette"


def sha256_of(path: Path) -> str:
    return _digest(path, hashlib.sha256())


def md5_of(path: Path) -> str:
    return _digest(path, hashlib.md5(usedforsecurity=False))


def _digest(path: Path, digest) -> str:
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _where_to_put(target_dir: Path, rel: MovieLensRelease) -> str:
    text = (
        f"Put {rel.name}/ ({', '.join(ML_FILES)}) under {target_dir} or set MOVIE_ROULETTE_DATA_DIR"
    )
    if rel.archive_md5:
        text += (
            f" (download {rel.url} by hand, check its MD5 is {rel.archive_md5}, and unzip it there)"
        )
    return text


def _fetch(url: str, dest: Path, progress: bool, target_dir: Path, rel: MovieLensRelease) -> None:
    try:
        with requests.get(url, stream=True, timeout=(10, 60)) as response:
            response.raise_for_status()
            total = int(response.headers.get("content-length") or 0) or None
            with (
                open(dest, "wb") as handle,
                tqdm(
                    total=total,
                    unit="B",
                    unit_scale=True,
                    desc=f"Downloading {rel.name}",
                    disable=not progress,
                ) as bar,
            ):
                for chunk in response.iter_content(chunk_size=_CHUNK):
                    handle.write(chunk)
                    bar.update(len(chunk))
    except requests.RequestException as err:
        raise DataSourceError(
            f"could not download {url} ({err}); no network? {_where_to_put(target_dir, rel)}."
        ) from err


def _extract(archive: Path, into: Path, url: str, target_dir: Path, rel: MovieLensRelease) -> Path:
    try:
        with zipfile.ZipFile(archive) as zipped:
            root = into.resolve()
            for name in zipped.namelist():
                if not (root / name).resolve().is_relative_to(root):
                    raise DataSourceError(f"{url}: unsafe path {name!r} in the zip archive.")
            zipped.extractall(into)
    except (zipfile.BadZipFile, EOFError) as err:
        raise DataSourceError(
            f"{url} did not give a valid zip archive ({err}). Try again later, or "
            f"download it by hand and unpack it: {_where_to_put(target_dir, rel)}."
        ) from err
    candidates = [into / rel.name, into]
    for folder in candidates:
        if has_movielens(folder):
            return folder
    raise DataSourceError(f"{url}: the archive holds no {rel.name}/ with {', '.join(ML_FILES)}.")


def _verify_archive(archive: Path, url: str, rel: MovieLensRelease) -> None:
    if rel.archive_md5 and md5_of(archive) != rel.archive_md5:
        raise DataSourceError(
            f"checksum mismatch: {url} does not have the MD5 GroupLens publishes for {rel.name} "
            f"({rel.archive_md5}); the download is damaged or not that release. Nothing was "
            "kept; try again."
        )


def _verify(folder: Path, url: str, rel: MovieLensRelease) -> None:
    expected = rel.file_sha256
    bad = [name for name, digest in expected.items() if sha256_of(folder / name) != digest]
    if bad:
        raise DataSourceError(
            f"checksum mismatch for {bad} downloaded from {url}: the files are damaged or not "
            f"the {rel.name} build. Nothing was kept; try again."
        )
    sums = "".join(f"{sha256_of(folder / name)}  {name}\n" for name in ML_FILES)
    (folder / SUMS_FILE).write_text(sums, "utf-8")


def ensure_movielens(
    target_dir: Path,
    *,
    allow_download: bool = True,
    progress: bool = True,
    url: str | None = None,
    release: str | MovieLensRelease = "ml-latest-small",
) -> Path:
    """Return `target_dir/<release>`, downloading and verifying it first if absent.

    The archive is fetched and unpacked in a temp dir inside `target_dir`, checked against
    the published checksums, then renamed into place; on any failure nothing is left behind.
    `url` overrides the release's URL (tests, mirrors); the checksums still apply.
    """
    rel = release if isinstance(release, MovieLensRelease) else get_release(release)
    url = url or rel.url
    target_dir = Path(target_dir).expanduser()
    final = target_dir / rel.name
    if has_movielens(final):
        return final
    if not allow_download:
        raise DataSourceError(
            f"MovieLens data not found in {final} and downloading is disabled. "
            f"{_where_to_put(target_dir, rel)}, or enable data.download."
        )
    try:
        target_dir.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise DataSourceError(f"cannot create the cache folder {target_dir} ({err}).") from err
    work = Path(tempfile.mkdtemp(prefix=".ml-download-", dir=target_dir))
    try:
        archive = work / f"{rel.name}.zip"
        _fetch(url, archive, progress, target_dir, rel)
        _verify_archive(archive, url, rel)
        folder = _extract(archive, work / "unpacked", url, target_dir, rel)
        archive.unlink()  # the unpacked copy is what is kept; free the space early
        _verify(folder, url, rel)
        if final.exists():  # an incomplete leftover from an older run
            shutil.rmtree(final)
        try:
            os.replace(folder, final)
        except OSError as err:
            if not has_movielens(final):  # not a concurrent run that finished first
                raise DataSourceError(f"cannot move the download into {final} ({err}).") from err
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return final
