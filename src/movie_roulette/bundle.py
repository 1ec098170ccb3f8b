"""Save/load a trained model bundle: the one serialisation path used everywhere.

A bundle is a folder:

    manifest.json       schema_version, created_at, model class/params, component list, weights,
                        file checksums, and the caller's metadata (data checksums, code version,
                        metrics, ...)
    arrays/<name>/<key>.npy
                        one folder per component ("model" for the top-level model's own
                        arrays), one uncompressed .npy per array (np.save, allow_pickle=False).
                        `load` memory-maps them read-only, so processes that load the same
                        bundle (the model server's workers) share one copy in the page cache.
    catalogue.parquet   the catalogue the model was trained with
    reviews.parquet     optional: the scored reviews (review_id, movie_id, author, title, review,
                        rating, sentiment = P(positive), sentiment_label, ...)
    sentiment_model.npz optional: the review sentiment model's arrays (vocabularies, NB ratios,
                        coefficients); its scalars are in the manifest under "sentiment_model"

It is written to a temporary folder next to the target and renamed into place; an existing bundle
is replaced only once the new one is complete. No pickle anywhere.

Schema 1 bundles (one compressed `<name>.npz` per component, "model.npz") still load, into
ordinary in-memory arrays.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import numpy as np
import pandas as pd

from movie_roulette.exceptions import BundleError
from movie_roulette.models.base import Recommender
from movie_roulette.models.registry import model_from_state
from movie_roulette.models.sentiment import SentimentModel

SCHEMA_VERSION = 2
READABLE_SCHEMAS = (1, 2)
MANIFEST = "manifest.json"
CATALOGUE = "catalogue.parquet"
ARRAYS_DIR = "arrays"
MODEL_ARRAYS = "model.npz"  # schema 1
REVIEWS = "reviews.parquet"
SENTIMENT_ARRAYS = "sentiment_model.npz"
_PREFIX = "components/"


@dataclass(frozen=True)
class ModelBundle:
    model: Recommender
    catalogue: pd.DataFrame
    manifest: dict[str, Any]
    reviews: pd.DataFrame | None = None  # scored reviews; None in bundles saved without them
    sentiment: SentimentModel | None = None  # the review sentiment model, when trained


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path | datetime):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _split_arrays(arrays: dict[str, np.ndarray]) -> dict[str, dict[str, np.ndarray]]:
    """{"model": own arrays, "<component>": its arrays} from the flat prefixed state."""
    groups: dict[str, dict[str, np.ndarray]] = {"model": {}}
    for key, value in arrays.items():
        if key.startswith(_PREFIX):
            name, _, sub = key[len(_PREFIX) :].partition("/")
            groups.setdefault(name, {})[sub] = value
        else:
            groups["model"][key] = value
    return groups


def save(
    path: str | Path,
    model: Recommender,
    catalogue: pd.DataFrame,
    metadata: dict[str, Any] | None = None,
    *,
    reviews: pd.DataFrame | None = None,
    sentiment: SentimentModel | None = None,
) -> Path:
    """Write the bundle folder atomically and return its path. `reviews` (scored reviews) and
    `sentiment` (the sentiment model) are optional."""
    path = Path(path)
    meta, arrays = model.get_state()
    sentiment_meta, sentiment_arrays = sentiment.get_state() if sentiment else ({}, {})
    try:
        meta_json = json.loads(json.dumps(meta, default=_json_default))
        metadata_json = json.loads(json.dumps(metadata or {}, default=_json_default))
    except TypeError as err:
        raise BundleError(
            f"metadata for bundle {path} is not JSON serialisable ({err}); pass plain "
            "str/int/float/bool/list/dict values."
        ) from err
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.tmp-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    try:
        files: dict[str, dict[str, Any]] = {}
        components = []
        comp_metas = meta.get("extra", {}).get("components", {})
        array_files: dict[str, dict[str, str]] = {}
        for name, group in _split_arrays(arrays).items():
            array_files[name] = _save_group(tmp, name, group)
            if name != "model":
                components.append(
                    {
                        "name": name,
                        "class": comp_metas.get(name, {}).get("class"),
                        "arrays": array_files[name],
                        "params": comp_metas.get(name, {}).get("params", {}),
                    }
                )
        catalogue.reset_index(drop=True).to_parquet(tmp / CATALOGUE, index=False)
        if reviews is not None:
            reviews.reset_index(drop=True).to_parquet(tmp / REVIEWS, index=False)
        if sentiment is not None:
            np.savez_compressed(tmp / SENTIMENT_ARRAYS, **sentiment_arrays)
        for file in sorted(p for p in tmp.rglob("*") if p.is_file()):
            rel = file.relative_to(tmp).as_posix()
            files[rel] = {"bytes": file.stat().st_size, "sha256": _sha256(file)}
        manifest = {
            "schema_version": SCHEMA_VERSION,
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "model_class": meta["class"],
            "model_arrays": array_files["model"],
            "components": components,
            "weights": getattr(model, "weights", None),
            "rating_coefs": getattr(model, "rating_coefs", None),
            "state": meta_json,
            "files": files,
            "total_bytes": sum(f["bytes"] for f in files.values()),
            "metadata": metadata_json,
        }
        if reviews is not None:
            manifest["reviews"] = {"file": REVIEWS, "rows": len(reviews)}
        if sentiment is not None:
            manifest["sentiment_model"] = {
                "file": SENTIMENT_ARRAYS,
                "state": json.loads(json.dumps(sentiment_meta, default=_json_default)),
            }
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True), "utf-8")
        old = None
        if path.exists():
            old = path.parent / f".{path.name}.old-{uuid.uuid4().hex[:8]}"
            os.replace(path, old)
        os.replace(tmp, path)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return path


def _save_group(tmp: Path, name: str, group: dict[str, np.ndarray]) -> dict[str, str]:
    """Write one .npy per array under arrays/<name>/; returns {key: relative path}."""
    folder = tmp / ARRAYS_DIR / quote(name, safe="")
    folder.mkdir(parents=True)
    out = {}
    for key, value in group.items():
        array = np.asarray(value)
        if array.dtype == object:
            raise BundleError(f"array {name}/{key} has dtype object; bundles hold no pickles.")
        file = folder / f"{quote(key, safe='')}.npy"
        np.save(file, np.ascontiguousarray(array), allow_pickle=False)
        out[key] = file.relative_to(tmp).as_posix()
    return out


def _read_npy(file: Path, mmap: bool) -> np.ndarray:
    try:
        return np.load(file, mmap_mode="r" if mmap else None, allow_pickle=False)
    except (OSError, ValueError, EOFError) as err:
        raise BundleError(
            f"bundle file {file} is corrupt or truncated ({type(err).__name__}: {err}); "
            "rebuild the bundle by re-running training (bundle.save)."
        ) from err


def _read_group(path: Path, listing: dict[str, str], mmap: bool) -> dict[str, np.ndarray]:
    return {key: _read_npy(path / rel, mmap) for key, rel in listing.items()}


def _read_npz(file: Path) -> dict[str, np.ndarray]:
    try:
        with np.load(file, allow_pickle=False) as data:
            return {key: data[key] for key in data.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError) as err:
        raise BundleError(
            f"bundle file {file} is corrupt or truncated ({type(err).__name__}: {err}); "
            "rebuild the bundle by re-running training (bundle.save)."
        ) from err


def read_manifest(path: str | Path) -> dict[str, Any]:
    """The manifest of a bundle folder (checked: present, valid JSON, supported schema)."""
    path = Path(path)
    if not path.is_dir():
        raise BundleError(
            f"no model bundle at {path}: the folder does not exist. Train a model first "
            "(make run) or pass the folder written by bundle.save."
        )
    manifest_file = path / MANIFEST
    if not manifest_file.is_file():
        raise BundleError(
            f"{manifest_file} is missing, so {path} is not a complete bundle; "
            "rebuild it with bundle.save (re-run training)."
        )
    try:
        manifest = json.loads(manifest_file.read_text("utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise BundleError(
            f"{manifest_file} is not valid JSON ({err}); rebuild the bundle."
        ) from err
    version = manifest.get("schema_version") if isinstance(manifest, dict) else None
    if version not in READABLE_SCHEMAS:
        raise BundleError(
            f"{manifest_file} has schema_version {version!r}, but this code reads version "
            f"{SCHEMA_VERSION}; retrain to rebuild the bundle, or load it with the matching "
            "movie-roulette version."
        )
    return manifest


def _array_files(manifest: dict[str, Any]) -> list[str]:
    if manifest["schema_version"] == 1:
        return [MODEL_ARRAYS, *(c["file"] for c in manifest.get("components", []))]
    groups = [manifest.get("model_arrays", {})]
    groups += [c.get("arrays", {}) for c in manifest.get("components", [])]
    return [rel for group in groups for rel in group.values()]


def load(path: str | Path, verify_checksums: bool = False, *, mmap: bool = True) -> ModelBundle:
    """Read a bundle folder. Missing files, other schema versions and corrupt arrays raise
    `BundleError` naming the file and the fix.

    The model's arrays are memory-mapped read-only (`mmap=False`: read into memory); schema 1
    bundles are always read into memory. Models must not write into their loaded arrays.
    """
    path = Path(path)
    manifest = read_manifest(path)
    files = manifest.get("files", {})
    optional = [manifest[k]["file"] for k in ("reviews", "sentiment_model") if k in manifest]
    for name in [CATALOGUE, *_array_files(manifest), *optional]:
        file = path / name
        if not file.is_file():
            raise BundleError(
                f"bundle file {file} is missing (listed in {path / MANIFEST}); "
                "rebuild the bundle by re-running training."
            )
        expected = files.get(name, {})
        if expected.get("bytes") is not None and file.stat().st_size != expected["bytes"]:
            raise BundleError(
                f"bundle file {file} has {file.stat().st_size} bytes, the manifest says "
                f"{expected['bytes']}: it is truncated or was replaced; rebuild the bundle."
            )
        if verify_checksums and expected.get("sha256") and _sha256(file) != expected["sha256"]:
            raise BundleError(f"bundle file {file} fails its SHA-256 check; rebuild the bundle.")
    if manifest["schema_version"] == 1:
        arrays = _read_npz(path / MODEL_ARRAYS)
    else:
        arrays = _read_group(path, manifest.get("model_arrays", {}), mmap)
    for comp in manifest.get("components", []):
        if manifest["schema_version"] == 1:
            comp_arrays = _read_npz(path / comp["file"])
        else:
            comp_arrays = _read_group(path, comp.get("arrays", {}), mmap)
        arrays.update({f"{_PREFIX}{comp['name']}/{k}": v for k, v in comp_arrays.items()})
    try:
        model = model_from_state(manifest["state"], arrays)
    except (KeyError, ValueError, TypeError) as err:
        raise BundleError(
            f"bundle {path} does not hold a loadable model ({type(err).__name__}: {err}); "
            "rebuild it with bundle.save."
        ) from err
    try:
        catalogue = pd.read_parquet(path / CATALOGUE)
    except Exception as err:  # pyarrow raises several error types for broken files
        raise BundleError(
            f"bundle file {path / CATALOGUE} cannot be read ({err}); rebuild the bundle."
        ) from err
    reviews = None
    if "reviews" in manifest:
        try:
            reviews = pd.read_parquet(path / manifest["reviews"]["file"])
        except Exception as err:  # pyarrow raises several error types for broken files
            raise BundleError(
                f"bundle file {path / manifest['reviews']['file']} cannot be read ({err}); "
                "rebuild the bundle."
            ) from err
    sentiment = None
    if "sentiment_model" in manifest:
        entry = manifest["sentiment_model"]
        try:
            sentiment = SentimentModel.from_state(entry["state"], _read_npz(path / entry["file"]))
        except (KeyError, ValueError, TypeError) as err:
            raise BundleError(
                f"bundle {path} holds an unloadable sentiment model ({type(err).__name__}: "
                f"{err}); rebuild it with bundle.save."
            ) from err
    return ModelBundle(
        model=model, catalogue=catalogue, manifest=manifest, reviews=reviews, sentiment=sentiment
    )


def load_catalogue(path: str | Path) -> pd.DataFrame:
    """Only the catalogue of a bundle (no model arrays are read): for front-ends that show
    movies without scoring them."""
    path = Path(path)
    read_manifest(path)
    file = path / CATALOGUE
    if not file.is_file():
        raise BundleError(
            f"bundle file {file} is missing; rebuild the bundle by re-running training."
        )
    try:
        return pd.read_parquet(file)
    except Exception as err:  # pyarrow raises several error types for broken files
        raise BundleError(
            f"bundle file {file} cannot be read ({err}); rebuild the bundle."
        ) from err


def load_user_ids(path: str | Path) -> np.ndarray:
    """The sorted user ids the bundle's model was fitted on (reads one array, not the model)."""
    path = Path(path)
    manifest = read_manifest(path)
    if manifest["schema_version"] != 1:
        rel = manifest.get("model_arrays", {}).get("user_ids")
        file = path / (rel or f"{ARRAYS_DIR}/model/user_ids.npy")
        if rel is None or not file.is_file():
            raise BundleError(
                f"bundle file {file} is missing; rebuild the bundle by re-running training."
            )
        return np.array(_read_npy(file, mmap=False), np.int64)
    file = path / MODEL_ARRAYS
    if not file.is_file():
        raise BundleError(
            f"bundle file {file} is missing; rebuild the bundle by re-running training."
        )
    try:
        with np.load(file, allow_pickle=False) as data:
            return np.asarray(data["user_ids"], np.int64)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError) as err:
        raise BundleError(
            f"bundle file {file} has no readable user_ids array ({type(err).__name__}: {err}); "
            "rebuild the bundle."
        ) from err
