"""Labelled review sentences for the sentiment model: loaders, de-duplication and splits.

Datasets (folder names as in shared/data; see its README for the quirks handled here):

* "rt-polarity": Cornell sentence polarity v1.0, `rt-polaritydata/rt-polarity.{pos,neg}`,
  Windows-1252 (not UTF-8, not latin-1), one snippet per line, label = file.
* "imdb_labelled": UCI Sentiment Labelled Sentences, `sentiment-labelled-sentences/
  imdb_labelled.txt`, `sentence<TAB>label`; unbalanced quotes, so it is read with QUOTE_NONE
  (pandas' default quoting silently returns 824 of the 1,000 rows).
* "si650": `si650-reviews/reviews.txt`, `label<TAB>sentence`, 7,086 lines but only 1,411
  distinct pairs: exact duplicates are dropped and a sentence carrying both labels is removed
  *before* any split, or the held-out part would repeat training sentences.
* "demo-reviews": the generated demo reviews, labelled by their star rating (>= 3.5 positive,
  <= 2.5 negative, in between dropped).

Every loader returns a frame with `text` (str), `label` (int 0/1) and `dataset`.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from movie_roulette import columns as C
from movie_roulette.exceptions import DataSourceError

TEXT, LABEL, DATASET = "text", "label", "dataset"
FILE_DATASETS = {
    "rt-polarity": ("rt-polaritydata", ("rt-polarity.pos", "rt-polarity.neg")),
    "imdb_labelled": ("sentiment-labelled-sentences", ("imdb_labelled.txt",)),
    "si650": ("si650-reviews", ("reviews.txt",)),
}
DEMO_DATASET = "demo-reviews"
DATASETS = (*FILE_DATASETS, DEMO_DATASET)
POSITIVE_FROM, NEGATIVE_UP_TO = 3.5, 2.5


def _frame(texts: list[str], labels: list[int], name: str) -> pd.DataFrame:
    frame = pd.DataFrame({TEXT: [" ".join(str(t).split()) for t in texts], LABEL: labels})
    frame[LABEL] = frame[LABEL].astype("int64")
    frame = frame[frame[TEXT] != ""]
    frame[DATASET] = name
    return frame.reset_index(drop=True)


def _paths(data_dir: Path, name: str) -> list[Path]:
    folder, files = FILE_DATASETS[name]
    paths = [data_dir / folder / f for f in files]
    missing = [p for p in paths if not p.is_file()]
    if missing:
        raise DataSourceError(
            f"sentiment dataset {name!r}: {', '.join(str(p) for p in missing)} not found. Put the "
            f"{folder}/ folder under {data_dir} (set sentiment.data_dir, data.data_dir or "
            "MOVIE_ROULETTE_DATA_DIR to its parent), or remove it from sentiment.train_datasets/"
            "eval_datasets."
        )
    return paths


def _read_lines(path: Path, encoding: str) -> list[str]:
    try:
        return path.read_text(encoding=encoding).splitlines()
    except (OSError, UnicodeDecodeError) as err:
        raise DataSourceError(f"{path} cannot be read as {encoding} ({err}).") from err


def load_rt_polarity(data_dir: Path) -> pd.DataFrame:
    pos_path, neg_path = _paths(data_dir, "rt-polarity")
    pos = _read_lines(pos_path, "cp1252")
    neg = _read_lines(neg_path, "cp1252")
    return _frame(pos + neg, [1] * len(pos) + [0] * len(neg), "rt-polarity")


def _read_tsv(path: Path, names: list[str]) -> pd.DataFrame:
    try:
        raw = pd.read_csv(
            path,
            sep="\t",
            header=None,
            names=names,
            quoting=csv.QUOTE_NONE,
            dtype=str,
            keep_default_na=False,
            encoding="utf-8",
        )
    except (OSError, UnicodeDecodeError, pd.errors.ParserError) as err:
        raise DataSourceError(f"{path} is not a two-column tab-separated file ({err}).") from err
    labels = pd.to_numeric(raw["label"].str.strip(), errors="coerce")
    bad = ~labels.isin([0, 1])
    if bad.any():
        raise DataSourceError(
            f"{path}: {int(bad.sum())} line(s) have a label other than 0/1, e.g. line "
            f"{int(np.flatnonzero(bad)[0]) + 1}; expected {' <TAB> '.join(names)}."
        )
    return raw.assign(label=labels.astype("int64"))


def load_imdb_labelled(data_dir: Path) -> pd.DataFrame:
    (path,) = _paths(data_dir, "imdb_labelled")
    raw = _read_tsv(path, [TEXT, LABEL])
    return _frame(raw[TEXT].tolist(), raw[LABEL].tolist(), "imdb_labelled")


def load_si650(data_dir: Path) -> pd.DataFrame:
    """De-duplicated: exact repeats dropped, sentences with both labels removed."""
    (path,) = _paths(data_dir, "si650")
    raw = _read_tsv(path, [LABEL, TEXT])
    frame = _frame(raw[TEXT].tolist(), raw[LABEL].tolist(), "si650")
    return dedupe(frame)


def dedupe(frame: pd.DataFrame) -> pd.DataFrame:
    """Drop repeated (text, label) pairs and every text that carries both labels."""
    unique = frame.drop_duplicates([TEXT, LABEL])
    conflicting = unique[TEXT].duplicated(keep=False)
    return unique[~conflicting].reset_index(drop=True)


def labelled_demo_reviews(reviews: pd.DataFrame) -> pd.DataFrame:
    """Demo reviews labelled by their rating (middle ratings dropped), de-duplicated."""
    rated = reviews[reviews[C.RATING].notna()]
    rating = rated[C.RATING].to_numpy(dtype="float64")
    keep = (rating >= POSITIVE_FROM) | (rating <= NEGATIVE_UP_TO)
    picked = rated[keep]
    labels = (picked[C.RATING].to_numpy() >= POSITIVE_FROM).astype(int).tolist()
    return dedupe(_frame(picked[C.REVIEW_TEXT].astype(str).tolist(), labels, DEMO_DATASET))


def dataset_files(names: Iterable[str], data_dir: Path | None) -> list[Path]:
    """The files the file-based datasets among `names` are read from (present or not); what
    the pipeline fingerprints so that a changed file invalidates the cached sentiment step."""
    if data_dir is None:
        return []
    return [
        data_dir / FILE_DATASETS[name][0] / file
        for name in names
        if name in FILE_DATASETS
        for file in FILE_DATASETS[name][1]
    ]


def load_labelled(name: str, data_dir: Path | None, demo_reviews: pd.DataFrame | None = None):
    """One labelled dataset by name (see module docstring)."""
    if name == DEMO_DATASET:
        if demo_reviews is None:
            raise DataSourceError(
                f"sentiment dataset {DEMO_DATASET!r} needs the generated demo reviews "
                "(data.source: demo)."
            )
        return labelled_demo_reviews(demo_reviews)
    if name not in FILE_DATASETS:
        raise DataSourceError(
            f"sentiment dataset {name!r} is unknown; choose from {list(DATASETS)}."
        )
    if data_dir is None:
        raise DataSourceError(
            f"sentiment dataset {name!r} needs a data folder: set sentiment.data_dir, "
            "data.data_dir or MOVIE_ROULETTE_DATA_DIR to the folder holding "
            f"{FILE_DATASETS[name][0]}/."
        )
    loader = {
        "rt-polarity": load_rt_polarity,
        "imdb_labelled": load_imdb_labelled,
        "si650": load_si650,
    }[name]
    return loader(Path(data_dir))


def split_three(
    frame: pd.DataFrame, heldout_fraction: float, valid_fraction: float, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Stratified (train, valid, held-out test). `valid_fraction` is of what remains after the
    held-out part. Texts are unique within a de-duplicated dataset, so no text is in two parts."""
    if len(frame) < 10 or frame[LABEL].nunique() < 2:
        raise DataSourceError(
            f"labelled dataset {frame[DATASET].iloc[0] if len(frame) else '?'} has "
            f"{len(frame)} rows and {frame[LABEL].nunique()} label(s); it needs at least 10 rows "
            "with both labels to be split."
        )
    rest, heldout = train_test_split(
        frame, test_size=heldout_fraction, random_state=seed, stratify=frame[LABEL]
    )
    train, valid = train_test_split(
        rest, test_size=valid_fraction, random_state=seed, stratify=rest[LABEL]
    )
    return (
        train.reset_index(drop=True),
        valid.reset_index(drop=True),
        heldout.reset_index(drop=True),
    )
