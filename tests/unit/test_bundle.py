from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import sparse

from movie_roulette import bundle
from movie_roulette.exceptions import BundleError
from movie_roulette.models.hybrid import HybridRecommender, train_hybrid
from movie_roulette.models.popularity import PopularityRecommender
from tests.unit.models.tiny import split_tiny, tiny_catalogue, tiny_model_config, tiny_ratings


@pytest.fixture(scope="module")
def model() -> HybridRecommender:
    train, valid = split_tiny(tiny_ratings())
    return train_hybrid(train, valid, tiny_catalogue(), tiny_model_config(), seed=0, k=5)


@pytest.fixture
def saved(tmp_path: Path, model: HybridRecommender) -> Path:
    return bundle.save(
        tmp_path / "bundle", model, tiny_catalogue(), {"data_sha256": "abc", "ndcg@10": 0.3}
    )


def test_round_trip_gives_identical_recommendations(saved: Path, model: HybridRecommender) -> None:
    loaded = bundle.load(saved)
    assert isinstance(loaded.model, HybridRecommender)
    for user in model.user_ids:
        assert loaded.model.recommend_items(int(user), k=5) == model.recommend_items(int(user), k=5)
    assert loaded.model.recommend_items(777, k=3) == model.recommend_items(777, k=3)
    assert loaded.model.recommend_from_ratings({1: 5.0}, k=3) == model.recommend_from_ratings(
        {1: 5.0}, k=3
    )
    assert (loaded.model.predict_rating(1, [1, 2, 11]) == model.predict_rating(1, [1, 2, 11])).all()
    assert loaded.model.weights == model.weights
    pd.testing.assert_frame_equal(loaded.catalogue, tiny_catalogue())


def test_manifest_records_components_weights_and_metadata(saved: Path) -> None:
    manifest = json.loads((saved / "manifest.json").read_text())
    assert manifest["schema_version"] == bundle.SCHEMA_VERSION
    assert manifest["metadata"] == {"data_sha256": "abc", "ndcg@10": 0.3}
    names = {c["name"]: c["class"] for c in manifest["components"]}
    assert names["ease"] == "EASERecommender" and names["svd"] == "SVDRecommender"
    assert set(manifest["weights"]) == set(names)
    for comp in manifest["components"]:
        assert comp["arrays"] and all((saved / rel).is_file() for rel in comp["arrays"].values())
    assert (saved / "catalogue.parquet").is_file()
    bundle.load(saved, verify_checksums=True)


def test_single_model_bundle_round_trips(tmp_path: Path) -> None:
    model = PopularityRecommender().fit(tiny_ratings())
    loaded = bundle.load(bundle.save(tmp_path / "pop", model, tiny_catalogue(), {})).model
    assert loaded.recommend(1, k=5) == model.recommend(1, k=5)


def test_saving_over_an_existing_bundle_replaces_it_and_leaves_no_temp_dirs(
    tmp_path: Path, model: HybridRecommender
) -> None:
    target = tmp_path / "bundle"
    bundle.save(target, model, tiny_catalogue(), {"run": 1})
    bundle.save(target, model, tiny_catalogue(), {"run": 2})
    assert bundle.load(target).manifest["metadata"] == {"run": 2}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bundle"]


def test_failed_save_leaves_nothing_behind_and_keeps_the_old_bundle(
    tmp_path: Path, model: HybridRecommender
) -> None:
    target = tmp_path / "bundle"
    bundle.save(target, model, tiny_catalogue(), {"run": 1})
    with pytest.raises(BundleError, match="JSON"):
        bundle.save(target, model, tiny_catalogue(), {"bad": object()})
    bad_catalogue = tiny_catalogue().assign(title=[object()] * 20)
    with pytest.raises(Exception):  # noqa: B017 - pyarrow's own error type
        bundle.save(target, model, bad_catalogue, {"run": 3})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bundle"]
    assert bundle.load(target).manifest["metadata"] == {"run": 1}


def test_missing_folder_is_a_bundle_error(tmp_path: Path) -> None:
    with pytest.raises(BundleError, match="does not exist"):
        bundle.load(tmp_path / "nope")


def test_missing_manifest_is_a_bundle_error(saved: Path) -> None:
    (saved / "manifest.json").unlink()
    with pytest.raises(BundleError, match="manifest.json is missing"):
        bundle.load(saved)


def test_wrong_schema_version_is_a_bundle_error(saved: Path) -> None:
    manifest = json.loads((saved / "manifest.json").read_text())
    manifest["schema_version"] = 999
    (saved / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(BundleError, match="schema_version 999"):
        bundle.load(saved)


def test_missing_component_file_is_a_bundle_error(saved: Path) -> None:
    (saved / "arrays" / "ease" / "B.npy").unlink()
    with pytest.raises(BundleError, match="arrays/ease/B.npy is missing"):
        bundle.load(saved)


def test_truncated_array_is_a_bundle_error_naming_the_file(saved: Path) -> None:
    file = max((saved / "arrays" / "svd").iterdir(), key=lambda f: f.stat().st_size)
    data = file.read_bytes()
    file.write_bytes(data[: len(data) // 2])
    with pytest.raises(BundleError, match=f"arrays/svd/{file.name}.*truncated"):
        bundle.load(saved)


def test_corrupt_array_of_the_right_size_is_a_bundle_error(saved: Path) -> None:
    file = max((saved / "arrays" / "content").iterdir(), key=lambda f: f.stat().st_size)
    size = file.stat().st_size
    file.write_bytes(b"\0" * size)
    with pytest.raises(BundleError, match=f"arrays/content/{file.name}.*corrupt"):
        bundle.load(saved)


def test_catalogue_and_user_ids_load_without_the_model(
    saved: Path, model: HybridRecommender
) -> None:
    pd.testing.assert_frame_equal(bundle.load_catalogue(saved), tiny_catalogue())
    assert bundle.load_user_ids(saved).tolist() == model.user_ids.tolist()


def test_user_ids_of_a_broken_model_file_name_the_file(saved: Path) -> None:
    (saved / "arrays" / "model" / "user_ids.npy").write_bytes(b"not an npy")
    with pytest.raises(BundleError, match="user_ids.npy"):
        bundle.load_user_ids(saved)
    with pytest.raises(BundleError, match="no model bundle"):
        bundle.load_catalogue(saved / "missing")


def _mapping_file(array: np.ndarray) -> str | None:
    """The file the array's memory is a memory map of (None: the process's own memory)."""
    base: object = array
    while base is not None and not (isinstance(base, np.memmap) and base.filename):
        base = getattr(base, "base", None)
    return None if base is None else str(Path(base.filename).resolve())


def _mapped_file(array: np.ndarray) -> bool:
    """True when the array's memory is a memory map of a file."""
    return _mapping_file(array) is not None


def test_arrays_are_uncompressed_npy_memory_mapped_read_only(
    saved: Path, model: HybridRecommender
) -> None:
    loaded = bundle.load(saved).model
    assert (saved / "arrays" / "model" / "user_ids.npy").is_file()
    assert not list(saved.glob("*.npz"))
    svd = loaded.components["svd"]
    eases = [c.B for c in loaded.components.values() if hasattr(c, "B")]
    assert eases, "the test model has no EASE component"
    for array in (loaded.user_ids, loaded._ui_indptr, svd.user_ids, *eases):
        assert _mapped_file(array) and not array.flags.writeable
    with pytest.raises(ValueError, match="read-only"):
        loaded.user_ids[0] = 5
    in_memory = bundle.load(saved, mmap=False).model
    assert not _mapped_file(in_memory.user_ids) and in_memory.user_ids.flags.writeable
    for user in model.user_ids[:5]:
        assert in_memory.recommend_items(int(user), k=5) == loaded.recommend_items(int(user), k=5)


def _held_mappings(obj: object, seen: set[int] | None = None) -> set[str]:
    """The files whose memory maps the arrays reachable from a loaded model are views of
    (through its attributes, dicts, lists and scipy matrices)."""
    seen = set() if seen is None else seen
    if id(obj) in seen:
        return set()
    seen.add(id(obj))
    if isinstance(obj, np.ndarray):
        file = _mapping_file(obj)
        return set() if file is None else {file}
    if sparse.issparse(obj):
        parts = [getattr(obj, f) for f in ("data", "indices", "indptr") if hasattr(obj, f)]
    elif isinstance(obj, dict):
        parts = list(obj.values())
    elif isinstance(obj, (list, tuple)):
        parts = list(obj)
    elif type(obj).__module__.startswith("movie_roulette"):
        parts = list(vars(obj).values())
    else:
        parts = []
    return set().union(*(_held_mappings(part, seen) for part in parts))


def test_every_array_of_the_bundle_is_used_from_its_shared_mapping(
    saved: Path, model: HybridRecommender
) -> None:
    """A loaded model that converts an array (a dtype change, scipy narrowing an int64 indptr
    next to int32 indices) holds a private copy per server worker instead of the shared pages."""
    loaded = bundle.load(saved).model
    assert {"content", "itemknn"} <= set(loaded.components), "the sparse components are tested"
    files = {str(f.resolve()) for f in (saved / "arrays").rglob("*.npy")}
    assert _held_mappings(loaded) == files
    for user in model.user_ids[:5]:  # serving builds its lazy structures beside, not instead
        loaded.recommend_items(int(user), k=5)
        loaded.similar_movies(int(model.components["content"].movie_ids[0]), k=5)
    assert _held_mappings(loaded) == files


def test_a_schema_1_bundle_written_by_main_still_loads() -> None:
    fixtures = Path(__file__).parent / "fixtures"
    loaded = bundle.load(fixtures / "bundle_v1", verify_checksums=True)
    assert loaded.manifest["schema_version"] == 1
    expected = json.loads((fixtures / "bundle_v1_recommendations.json").read_text())
    for user, recs in expected.items():
        got = loaded.model.recommend(int(user), k=5)
        assert [m for m, _ in got] == [m for m, _ in recs]
        np.testing.assert_allclose([s for _, s in got], [s for _, s in recs], rtol=1e-6)
    assert bundle.load_user_ids(fixtures / "bundle_v1").tolist() == sorted(map(int, expected))


_READER = """
import json, sys
import numpy as np
from movie_roulette import bundle
model = bundle.load(sys.argv[1]).model
total = int(np.asarray(model.user_ids).sum())  # touch every page
print("ready", total, flush=True)
sys.stdin.readline()
stats, inside = {}, False
for line in open("/proc/self/smaps"):
    if line[0] in "0123456789abcdef" and "-" in line.split()[0]:
        inside = line.rstrip().endswith(sys.argv[2])
    elif inside and line.split(":")[0] in ("Rss", "Pss", "Shared_Clean", "Shared_Dirty"):
        stats[line.split(":")[0]] = stats.get(line.split(":")[0], 0) + int(line.split()[1])
print(json.dumps(stats), flush=True)
sys.stdin.readline()  # keep the mapping until the other process has measured too
"""


@pytest.mark.skipif(not Path("/proc/self/smaps").exists(), reason="needs Linux /proc smaps")
def test_two_processes_share_one_copy_of_the_arrays(tmp_path: Path) -> None:
    users = np.arange(1, 300_001)  # 2.3 MB of user ids
    ratings = pd.DataFrame({"user_id": users, "movie_id": users % 7, "rating": 4.0})
    path = bundle.save(tmp_path / "big", PopularityRecommender().fit(ratings), tiny_catalogue())
    target = str((path / "arrays" / "model" / "user_ids.npy").resolve())
    cmd = [sys.executable, "-c", _READER, str(path), target]
    procs = [
        subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    try:
        for proc in procs:
            assert proc.stdout.readline().startswith("ready")  # both hold the mapping now
        for proc in procs:
            proc.stdin.write("go\n")
            proc.stdin.flush()
        stats = [json.loads(proc.stdout.readline()) for proc in procs]
        for proc in procs:
            proc.communicate("done\n", timeout=60)
    finally:
        for proc in procs:
            proc.kill() if proc.poll() is None else None
    size_kb = users.nbytes // 1024
    for stat in stats:  # (the pages may still be dirty: the bundle was just written)
        assert stat["Rss"] >= 0.9 * size_kb
        assert stat["Shared_Clean"] + stat["Shared_Dirty"] >= 0.9 * size_kb  # mapped by both
        assert stat["Pss"] <= 0.6 * size_kb  # each process is charged about half
