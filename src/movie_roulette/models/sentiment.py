"""Review sentiment: TF-IDF-style n-gram features + logistic regression, and a lexicon baseline.

Model (`SentimentModel`): binary word 1-2-gram and character 2-5-gram (within word boundaries)
features, each scaled by its naive-Bayes log-count ratio (Wang & Manning 2012, "NBSVM"), rows
l2-normalised, then an L2-regularised logistic regression. `C` is chosen on a validation split
(lowest log-loss); the final model is refitted on train + valid. The state is plain arrays (the
two vocabularies as newline-joined UTF-8, the NB ratios, the coefficients and the intercept), so
it goes into the bundle's `.npz` without pickle.

Baseline (`LexiconBaseline`): VADER (Hutto & Gilbert 2014, `vaderSentiment`), a rule-based
lexicon scorer; probability positive = (compound + 1) / 2, label positive when compound > 0.

`train_sentiment` does the whole job for the pipeline and the benchmark: loads the configured
datasets, splits each training set into train/valid/held-out test (after de-duplication, and
with every text of an evaluation set removed from training), tunes, refits and evaluates both
models on every held-out part and every evaluation-only dataset.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score, log_loss, roc_auc_score
from sklearn.preprocessing import normalize

from movie_roulette.config import SentimentConfig
from movie_roulette.data import labelled_reviews as L

STATE_FORMAT = 1
WORD_NGRAMS = (1, 2)
CHAR_NGRAMS = (2, 5)
CHAR_MIN_DF = 2
NB_ALPHA = 1.0


def _vectorizers(
    word_vocab: Mapping[str, int] | None = None, char_vocab: Mapping[str, int] | None = None
) -> tuple[CountVectorizer, CountVectorizer]:
    word = CountVectorizer(
        ngram_range=WORD_NGRAMS, binary=True, lowercase=True, vocabulary=word_vocab
    )
    char = CountVectorizer(
        analyzer="char_wb",
        ngram_range=CHAR_NGRAMS,
        binary=True,
        lowercase=True,
        min_df=1 if char_vocab is not None else CHAR_MIN_DF,
        vocabulary=char_vocab,
    )
    return word, char


def _join_vocab(vocab: Mapping[str, int]) -> np.ndarray:
    terms = sorted(vocab, key=vocab.__getitem__)
    if any("\n" in t for t in terms):
        raise ValueError("vocabulary terms must not contain newlines")
    return np.frombuffer("\n".join(terms).encode("utf-8"), dtype=np.uint8).copy()


def _split_vocab(blob: np.ndarray) -> dict[str, int]:
    text = np.asarray(blob, dtype=np.uint8).tobytes().decode("utf-8")
    return {term: i for i, term in enumerate(text.split("\n"))} if text else {}


class SentimentModel:
    """P(positive | text). `fit(texts, labels)`, `predict_proba(texts)`, `get_state()`."""

    def __init__(self, C: float = 3.0) -> None:  # noqa: N803 (scikit-learn's name)
        if C <= 0:
            raise ValueError(f"C: must be positive, got {C}.")
        self.C = float(C)
        self.word: CountVectorizer | None = None
        self.char: CountVectorizer | None = None
        self.ratio = np.empty(0)
        self.coef = np.empty(0)
        self.intercept = 0.0
        self.info: dict[str, Any] = {}

    def __repr__(self) -> str:
        return f"SentimentModel(C={self.C}, features={len(self.coef)})"

    @staticmethod
    def _texts(texts: Iterable[str]) -> list[str]:
        return ["" if t is None else str(t) for t in texts]

    def _binary(self, texts: Sequence[str]) -> sparse.csr_matrix:
        assert self.word is not None and self.char is not None
        return sparse.hstack([self.word.transform(texts), self.char.transform(texts)]).tocsr()

    def fit(self, texts: Iterable[str], labels: Iterable[int]) -> SentimentModel:
        docs = self._texts(texts)
        y = np.asarray(list(labels), dtype=np.int64)
        if len(docs) != len(y):
            raise ValueError(f"texts ({len(docs)}) and labels ({len(y)}) differ in length.")
        if set(np.unique(y)) != {0, 1}:
            raise ValueError("labels: need both classes, coded 0 (negative) and 1 (positive).")
        word, char = _vectorizers()
        X = sparse.hstack([word.fit_transform(docs), char.fit_transform(docs)]).tocsr()
        X.data[:] = 1.0
        p = NB_ALPHA + np.asarray(X[y == 1].sum(axis=0)).ravel()
        q = NB_ALPHA + np.asarray(X[y == 0].sum(axis=0)).ravel()
        self.ratio = np.log((p / p.sum()) / (q / q.sum()))
        features = normalize(X.multiply(self.ratio).tocsr())
        clf = LogisticRegression(C=self.C, max_iter=5000)
        clf.fit(features, y)
        self.word, self.char = _vectorizers(word.vocabulary_, char.vocabulary_)
        self.word.fit([""])  # fixed vocabularies: fit only validates them
        self.char.fit([""])
        self.coef = clf.coef_.ravel().astype(np.float64)
        self.intercept = float(clf.intercept_[0])
        self.info = {"n_train": len(docs), "n_features": int(X.shape[1]), "C": self.C}
        return self

    def decision_function(self, texts: Iterable[str]) -> np.ndarray:
        if self.word is None:
            raise RuntimeError("SentimentModel is not fitted; call fit(texts, labels) first.")
        docs = self._texts(texts)
        if not docs:
            return np.empty(0)
        X = self._binary(docs)
        X.data[:] = 1.0
        features = normalize(X.multiply(self.ratio).tocsr())
        return np.asarray(features @ self.coef).ravel() + self.intercept

    def predict_proba(self, texts: Iterable[str]) -> np.ndarray:
        """Probability that each text is positive."""
        return 1.0 / (1.0 + np.exp(-self.decision_function(texts)))

    def predict(self, texts: Iterable[str]) -> np.ndarray:
        return (self.predict_proba(texts) >= 0.5).astype(np.int64)

    # ------------------------------------------------------------------ plain-format state
    def get_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        if self.word is None or self.char is None:
            raise RuntimeError("SentimentModel is not fitted; nothing to save.")
        meta = {
            "class": type(self).__name__,
            "format": STATE_FORMAT,
            "params": {"C": self.C},
            "features": {
                "word_ngrams": list(WORD_NGRAMS),
                "char_ngrams": list(CHAR_NGRAMS),
                "nb_alpha": NB_ALPHA,
            },
            "intercept": self.intercept,
            "info": self.info,
        }
        arrays = {
            "word_vocab": _join_vocab(self.word.vocabulary_),
            "char_vocab": _join_vocab(self.char.vocabulary_),
            "ratio": self.ratio.astype(np.float32),
            "coef": self.coef.astype(np.float32),
        }
        return meta, arrays

    @classmethod
    def from_state(
        cls, meta: Mapping[str, Any], arrays: Mapping[str, np.ndarray]
    ) -> SentimentModel:
        if meta.get("class") != cls.__name__ or meta.get("format") != STATE_FORMAT:
            raise ValueError(
                f"state is for {meta.get('class')!r} format {meta.get('format')!r}, not "
                f"{cls.__name__} format {STATE_FORMAT}; retrain the sentiment model."
            )
        obj = cls(**meta["params"])
        word_vocab, char_vocab = (
            _split_vocab(arrays["word_vocab"]),
            _split_vocab(arrays["char_vocab"]),
        )
        obj.word, obj.char = _vectorizers(word_vocab, char_vocab)
        obj.word.fit([""])
        obj.char.fit([""])
        obj.ratio = np.asarray(arrays["ratio"], np.float64)
        obj.coef = np.asarray(arrays["coef"], np.float64)
        n = len(word_vocab) + len(char_vocab)
        if len(obj.ratio) != n or len(obj.coef) != n:
            raise ValueError(
                f"sentiment state is inconsistent: {n} vocabulary terms, {len(obj.ratio)} ratios, "
                f"{len(obj.coef)} coefficients."
            )
        obj.intercept = float(meta["intercept"])
        obj.info = dict(meta.get("info", {}))
        return obj


class LexiconBaseline:
    """VADER lexicon scores as probabilities: (compound + 1) / 2; positive when compound > 0."""

    name = "vader"

    def __init__(self) -> None:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

        self._analyzer = SentimentIntensityAnalyzer()

    def compound(self, texts: Iterable[str]) -> np.ndarray:
        return np.array(
            [self._analyzer.polarity_scores(str(t))["compound"] for t in texts], dtype=np.float64
        )

    def predict_proba(self, texts: Iterable[str]) -> np.ndarray:
        return (self.compound(texts) + 1.0) / 2.0

    def predict(self, texts: Iterable[str]) -> np.ndarray:
        return (self.compound(texts) > 0).astype(np.int64)


def binary_metrics(
    labels: Iterable[int], proba: Iterable[float], predicted: Iterable[int] | None = None
) -> dict[str, float]:
    """accuracy, F1 (positive class) and ROC-AUC of probabilities against 0/1 labels.
    `predicted` labels default to proba >= 0.5."""
    y = np.asarray(list(labels), dtype=np.int64)
    p = np.asarray(list(proba), dtype=np.float64)
    if len(y) != len(p) or len(y) == 0:
        raise ValueError(f"labels ({len(y)}) and proba ({len(p)}) must be non-empty and equal.")
    pred = (p >= 0.5).astype(np.int64) if predicted is None else np.asarray(list(predicted))
    auc = float(roc_auc_score(y, p)) if len(np.unique(y)) == 2 else float("nan")
    return {
        "accuracy": float(accuracy_score(y, pred)),
        "f1": float(f1_score(y, pred, zero_division=0.0)),
        "roc_auc": auc,
        "n": int(len(y)),
    }


@dataclass
class SentimentTraining:
    model: SentimentModel
    metrics: dict[str, dict[str, dict[str, float]]]  # {"model"|"lexicon": {eval set: metrics}}
    validation: dict[str, dict[str, float]]  # C -> validation log_loss and accuracy
    data: dict[str, Any] = field(default_factory=dict)  # row counts per dataset and part


def _evaluate(model: Any, frames: Mapping[str, pd.DataFrame]) -> dict[str, dict[str, float]]:
    out = {}
    for name, frame in frames.items():
        texts = frame[L.TEXT].tolist()
        labels = frame[L.LABEL].to_numpy()
        if isinstance(model, LexiconBaseline):
            compound = model.compound(texts)
            out[name] = binary_metrics(labels, (compound + 1.0) / 2.0, (compound > 0).astype(int))
        else:
            out[name] = binary_metrics(labels, model.predict_proba(texts))
    return out


@dataclass
class SentimentData:
    train: pd.DataFrame
    valid: pd.DataFrame
    evals: dict[str, pd.DataFrame]  # "<dataset>-heldout" parts and eval-only datasets
    removed_from_train: int = 0  # training rows dropped because an eval set holds the text


def load_sentiment_data(
    cfg: SentimentConfig,
    data_dir: Path | None,
    seed: int,
    demo_reviews: pd.DataFrame | None = None,
) -> SentimentData:
    """The configured datasets, each training set de-duplicated and split into train / valid /
    held-out test; any training or validation text that also appears in an evaluation set is
    removed from training, so no evaluation can leak."""
    evals: dict[str, pd.DataFrame] = {
        name: L.load_labelled(name, data_dir, demo_reviews) for name in cfg.eval_datasets
    }
    parts: dict[str, tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]] = {}
    for name in cfg.train_datasets:
        frame = L.dedupe(L.load_labelled(name, data_dir, demo_reviews))
        parts[name] = L.split_three(frame, cfg.heldout_fraction, cfg.valid_fraction, seed)
    for name, (_, _, heldout) in parts.items():
        evals[f"{name}-heldout"] = heldout
    protected = set().union(*(set(f[L.TEXT]) for f in evals.values()))
    train = pd.concat([p[0] for p in parts.values()], ignore_index=True)
    valid = pd.concat([p[1] for p in parts.values()], ignore_index=True)
    leaked = train[L.TEXT].isin(protected) | train[L.TEXT].duplicated()
    train = train[~leaked].reset_index(drop=True)
    valid = valid[~valid[L.TEXT].isin(protected | set(train[L.TEXT]))].reset_index(drop=True)
    return SentimentData(train, valid, evals, int(leaked.sum()))


def fit_sentiment(
    data: SentimentData, c_grid: Sequence[float], with_lexicon: bool = True
) -> SentimentTraining:
    """Tune C on valid (lowest log-loss: a proper score, less noisy than accuracy on a few
    thousand sentences; ties -> smaller C), refit on train + valid, evaluate the model and
    (optionally) the lexicon baseline on every evaluation set."""
    start = time.perf_counter()
    train, valid = data.train, data.valid
    losses, accuracies = {}, {}
    for c in c_grid:
        candidate = SentimentModel(C=c).fit(train[L.TEXT], train[L.LABEL])
        proba = candidate.predict_proba(valid[L.TEXT])
        losses[c] = float(log_loss(valid[L.LABEL], proba, labels=[0, 1]))
        accuracies[c] = float(accuracy_score(valid[L.LABEL], proba >= 0.5))
    best_c = min(losses, key=lambda c: (losses[c], c))
    both = pd.concat([train, valid], ignore_index=True)
    model = SentimentModel(C=best_c).fit(both[L.TEXT], both[L.LABEL])
    model.info.update(
        {
            "valid_log_loss": losses[best_c],
            "valid_accuracy": accuracies[best_c],
            "train_datasets": sorted(set(train[L.DATASET])),
            "fit_seconds": round(time.perf_counter() - start, 2),
        }
    )
    metrics = {"model": _evaluate(model, data.evals)}
    if with_lexicon:
        metrics["lexicon"] = _evaluate(LexiconBaseline(), data.evals)
    counts = {
        "train": len(train),
        "valid": len(valid),
        "removed_from_train_as_in_an_eval_set": data.removed_from_train,
        **{f"{name}_rows": len(frame) for name, frame in data.evals.items()},
    }
    validation = {
        str(c): {"log_loss": round(losses[c], 4), "accuracy": round(accuracies[c], 4)}
        for c in c_grid
    }
    return SentimentTraining(model, metrics, validation, counts)


def train_sentiment(
    cfg: SentimentConfig,
    data_dir: Path | None,
    seed: int,
    demo_reviews: pd.DataFrame | None = None,
    with_lexicon: bool = True,
) -> SentimentTraining:
    """Load, split, tune C on valid, refit on train+valid, evaluate model and lexicon on every
    held-out part ("<dataset>-heldout") and every eval-only dataset (its own name)."""
    data = load_sentiment_data(cfg, data_dir, seed, demo_reviews)
    return fit_sentiment(data, cfg.c_grid, with_lexicon)


def sentiment_data_dir(cfg: SentimentConfig, data_dir: str | None) -> Path | None:
    """sentiment.data_dir, else data.data_dir, else $MOVIE_ROULETTE_DATA_DIR (or None)."""
    from movie_roulette.config import resolve_data_dir

    return resolve_data_dir(cfg.data_dir or data_dir)
