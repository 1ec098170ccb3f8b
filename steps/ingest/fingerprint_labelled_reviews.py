"""Checksum of the labelled review files the sentiment model is trained and evaluated on.

Never cached itself (it reads the files every run); its value is an input of `train_sentiment`,
so that step is reused until a file or the dataset list changes.
"""

from typing import Annotated

from zenml import step

from movie_roulette.config import SentimentConfig
from movie_roulette.data.labelled_reviews import dataset_files
from movie_roulette.fingerprint import files_fingerprint, library_fingerprint
from movie_roulette.models.sentiment import sentiment_data_dir


@step(enable_cache=False)
def fingerprint_labelled_reviews(
    sentiment: SentimentConfig, data_dir: str | None
) -> Annotated[str, "labelled_fingerprint"]:
    names = [*sentiment.train_datasets, *sentiment.eval_datasets]
    files = dataset_files(names, sentiment_data_dir(sentiment, data_dir))
    return files_fingerprint(files, salt=",".join(names) + library_fingerprint())
