"""Download, verify and cache MovieLens ml-latest-small from GroupLens."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import zipfile
from pathlib import Path

import requests
from tqdm.auto import tqdm

from movie_roulette.data.movielens import ML_DIR_NAME, ML_FILES, has_movielens
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


def default_cache_dir() -> Path:
    """$MOVIE_ROULETTE_CACHE_DIR, else ~/.cache/movie_roulette."""
    value = os.environ.get(CACHE_DIR_ENV)
    return Path(value).expanduser() if value else Path.home() / ".cache" / "movie_roulette"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def _where_to_put(target_dir: Path) -> str:
    return (
        f"Put {ML_DIR_NAME}/ ({', '.join(ML_FILES)}) under {target_dir} "
        "or set MOVIE_ROULETTE_DATA_DIR"
    )


def _fetch(url: str, dest: Path, progress: bool, target_dir: Path) -> None:
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
                    desc=f"Downloading {ML_DIR_NAME}",
                    disable=not progress,
                ) as bar,
            ):
                for chunk in response.iter_content(chunk_size=_CHUNK):
                    handle.write(chunk)
                    bar.update(len(chunk))
    except requests.RequestException as err:
        raise DataSourceError(
            f"could not download {url} ({err}); no network? {_where_to_put(target_dir)}."
        ) from err


def _extract(archive: Path, into: Path, url: str, target_dir: Path) -> Path:
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
            f"download it by hand and unpack it: {_where_to_put(target_dir)}."
        ) from err
    candidates = [into / ML_DIR_NAME, into]
    for folder in candidates:
        if has_movielens(folder):
            return folder
    raise DataSourceError(f"{url}: the archive holds no {ML_DIR_NAME}/ with {', '.join(ML_FILES)}.")


def _verify(folder: Path, url: str) -> None:
    bad = [name for name, expected in ML_SHA256.items() if sha256_of(folder / name) != expected]
    if bad:
        raise DataSourceError(
            f"checksum mismatch for {bad} downloaded from {url}: the files are damaged or not "
            "the 2018 ml-latest-small build. Nothing was kept; try again."
        )


def ensure_movielens(
    target_dir: Path,
    *,
    allow_download: bool = True,
    progress: bool = True,
    url: str = GROUPLENS_URL,
) -> Path:
    """Return `target_dir/ml-latest-small`, downloading and verifying it first if absent.

    The archive is fetched and unpacked in a temp dir inside `target_dir`, checked against
    the SHA-256 sums, then renamed into place; on any failure nothing is left behind.
    """
    target_dir = Path(target_dir).expanduser()
    final = target_dir / ML_DIR_NAME
    if has_movielens(final):
        return final
    if not allow_download:
        raise DataSourceError(
            f"MovieLens data not found in {final} and downloading is disabled. "
            f"{_where_to_put(target_dir)}, or enable data.download."
        )
    try:
        target_dir.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise DataSourceError(f"cannot create the cache folder {target_dir} ({err}).") from err
    work = Path(tempfile.mkdtemp(prefix=".ml-download-", dir=target_dir))
    try:
        archive = work / "ml-latest-small.zip"
        _fetch(url, archive, progress, target_dir)
        folder = _extract(archive, work / "unpacked", url, target_dir)
        _verify(folder, url)
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
