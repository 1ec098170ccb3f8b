"""The model card's audit figures, reproducibly, outside the pipeline.

python benchmarks/audit.py --config configs/movielens.yaml [--version N | --bundle DIR]
                           [--data-dir DIR] [--json] [--html card.html]

The ratings and the split come from the config (same data, same seed: the split the pipeline
used). The model is a registered MLflow version (`--version`, of the config's model_name), a
saved bundle folder (`--bundle`), or, with neither, the config's recipe trained here
(`train_hybrid` on train, tuned on valid, refitted on train + valid: the model the pipeline
evaluates). A registered version is the recipe refitted on every rating: like the pipeline's
card step, its recipe is refitted on train + valid first (`comparable_production`), which gives
back the evaluated model. The card is built by the pipeline's own library call
(`evaluation.model_card.build_card`), so the numbers are the same code's. `--json` prints the
candidate's figures, the numbers the card and the promotion gate use; without it, a short
readable summary.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from movie_roulette import bundle as bundle_io  # noqa: E402
from movie_roulette.config import load_config  # noqa: E402
from movie_roulette.data import sources  # noqa: E402
from movie_roulette.data.catalogue import merge_catalogue  # noqa: E402
from movie_roulette.data.split import train_valid_test  # noqa: E402
from movie_roulette.evaluation.model_card import build_card  # noqa: E402
from movie_roulette.evaluation.seen import seen_ratings  # noqa: E402
from movie_roulette.features.text import add_content_text  # noqa: E402
from movie_roulette.models.hybrid import train_hybrid  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--config", default=str(ROOT / "configs" / "movielens.yaml"))
    parser.add_argument("--data-dir", default=None)
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--version", default=None, help="registered MLflow model version")
    which.add_argument("--bundle", default=None, help="a saved bundle folder")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--html", default=None, help="also write the model card here")
    args = parser.parse_args(argv)
    cfg = load_config(args.config)
    if args.data_dir:
        cfg = cfg.model_copy(
            update={"data": cfg.data.model_copy(update={"data_dir": args.data_dir})}
        )
    start = time.perf_counter()
    ratings = sources.load_ratings(cfg.data, seed=cfg.seed)
    train, valid, test = train_valid_test(ratings, cfg.split, seed=cfg.seed)
    seen = seen_ratings(train, valid, cfg.model.refit_on_train_and_valid)
    label = "trained here"
    served = bool(args.version or args.bundle)
    if served:
        if args.version:
            from serving.registry import configure_mlflow, download_bundle

            configure_mlflow()
            with tempfile.TemporaryDirectory() as tmp:
                loaded = bundle_io.load(download_bundle(cfg.model_name, args.version, Path(tmp)))
            label = f"version {args.version}"
        else:
            loaded = bundle_io.load(args.bundle)
            label = f"bundle {args.bundle}"
        model, catalogue = loaded.model, loaded.catalogue
    else:
        catalogue = add_content_text(
            merge_catalogue(sources.load_catalogue_sources(cfg.data, seed=cfg.seed), ratings)
        )
        model = train_hybrid(
            train,
            valid,
            catalogue,
            cfg.model,
            seed=cfg.seed,
            k=cfg.evaluation.k,
            threshold=cfg.evaluation.relevance_threshold,
        )
    fitted = time.perf_counter()
    # the pipeline's card step's call (a registered version is made comparable like production)
    card = build_card(
        cfg, args.version or label, model, catalogue, seen, test, served_candidate=served
    )
    figures = card.figures["candidate"]
    done = time.perf_counter()
    if args.html:
        Path(args.html).write_text(card.html, encoding="utf-8")
    if args.json:
        print(json.dumps(figures, indent=1, sort_keys=True))
        return 0
    print(
        f"{cfg.model_name} ({label}); data {cfg.data.source}; "
        f"{int(figures['users_audited'])} test users"
    )
    for note in card.figures["notes"]:
        print(f"note: {note}")
    for key, value in figures.items():
        if key.startswith(("popularity.", "group.", "explain.", "gap.")):
            print(f"{key:60s} {value:.4f}")
    print(f"model {fitted - start:.1f} s; audit {done - fitted:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
