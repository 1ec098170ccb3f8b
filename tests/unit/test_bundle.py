from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

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
        assert (saved / comp["file"]).is_file()
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
    (saved / "ease.npz").unlink()
    with pytest.raises(BundleError, match="ease.npz is missing"):
        bundle.load(saved)


def test_truncated_npz_is_a_bundle_error_naming_the_file(saved: Path) -> None:
    file = saved / "svd.npz"
    data = file.read_bytes()
    file.write_bytes(data[: len(data) // 2])
    with pytest.raises(BundleError, match="svd.npz"):
        bundle.load(saved)


def test_corrupt_npz_of_the_right_size_is_a_bundle_error(saved: Path) -> None:
    file = saved / "content.npz"
    size = file.stat().st_size
    file.write_bytes(b"\0" * size)
    with pytest.raises(BundleError, match="content.npz.*corrupt"):
        bundle.load(saved)


def test_catalogue_and_user_ids_load_without_the_model(
    saved: Path, model: HybridRecommender
) -> None:
    pd.testing.assert_frame_equal(bundle.load_catalogue(saved), tiny_catalogue())
    assert bundle.load_user_ids(saved).tolist() == model.user_ids.tolist()


def test_user_ids_of_a_broken_model_file_name_the_file(saved: Path) -> None:
    (saved / "model.npz").write_bytes(b"not a zip")
    with pytest.raises(BundleError, match="model.npz"):
        bundle.load_user_ids(saved)
    with pytest.raises(BundleError, match="no model bundle"):
        bundle.load_catalogue(saved / "missing")
