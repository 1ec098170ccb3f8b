"""Production prepared once per run (`evaluation.production`) and its ZenML materializer: the
card and the promotion get back the same comparable model and the same notes."""

from __future__ import annotations

from pathlib import Path

import pytest

from materializers.production_materializer import PreparedProductionMaterializer
from movie_roulette.bundle import ModelBundle
from movie_roulette.evaluation.like_for_like import production_seen_share
from movie_roulette.evaluation.production import PreparedProduction, prepare_production
from movie_roulette.models.hybrid import train_hybrid
from tests.unit.models.tiny import split_tiny, tiny_catalogue, tiny_model_config, tiny_ratings


@pytest.fixture(scope="module")
def prepared() -> PreparedProduction:
    """A served production (fitted on every rating) judged on a split whose test rows it saw."""
    ratings = tiny_ratings()
    train, valid = split_tiny(ratings)
    served = train_hybrid(train, valid, tiny_catalogue(), tiny_model_config(), seed=0, k=5)
    served.refit(ratings, tiny_catalogue())
    loaded = ModelBundle(model=served, catalogue=tiny_catalogue(), manifest={"metadata": {}})
    assert production_seen_share(served, valid) == 1.0
    return prepare_production(("3", loaded), train, valid)


def test_a_production_that_saw_the_test_rows_is_refitted_on_the_seen_ones(prepared) -> None:
    _, valid = split_tiny(tiny_ratings())
    assert prepared.version == "3" and prepared.refitted and prepared.refit_seconds > 0
    assert "refitted on the candidate's training ratings" in prepared.notes[0]
    assert production_seen_share(prepared.model, valid) == 0.0
    assert prepared.summary() == {
        "version": "3",
        "notes": list(prepared.notes),
        "refitted": True,
        "refit_seconds": prepared.refit_seconds,
    }


def test_the_materializer_round_trips_the_comparable_model_and_its_notes(
    tmp_path: Path, prepared: PreparedProduction
) -> None:
    materializer = PreparedProductionMaterializer(str(tmp_path))
    materializer.save(prepared)
    loaded = materializer.load(PreparedProduction)
    assert loaded.summary() == prepared.summary()
    for user in prepared.model.user_ids:
        assert loaded.model.recommend_items(int(user), k=5) == prepared.model.recommend_items(
            int(user), k=5
        )
    assert loaded.catalogue.equals(prepared.catalogue)
    assert materializer.extract_metadata(prepared)["refitted"] is True


def test_no_production_round_trips_as_none(tmp_path: Path) -> None:
    none = prepare_production(None, tiny_ratings(), tiny_ratings())
    assert none == PreparedProduction() and none.model is None and none.catalogue is None
    materializer = PreparedProductionMaterializer(str(tmp_path))
    materializer.save(none)
    assert materializer.load(PreparedProduction) == none
    assert not (tmp_path / "bundle").exists()


def test_a_version_without_a_bundle_is_refused() -> None:
    with pytest.raises(ValueError, match="both a version and a bundle, or neither"):
        PreparedProduction(version="2")


def test_the_console_line_says_what_was_done(prepared: PreparedProduction) -> None:
    assert PreparedProduction().describe() == (
        "No production version: nothing to compare the candidate with."
    )
    line = prepared.describe()
    assert line.startswith("Production version 3: production was trained on 100%")
    assert line.endswith(f"({prepared.refit_seconds:.0f} s).")
    unrefitted = PreparedProduction(version="4", bundle=prepared.bundle)
    assert not unrefitted.refitted
    assert unrefitted.describe() == (
        "Production version 4: had not seen the test ratings, compared as it is."
    )
