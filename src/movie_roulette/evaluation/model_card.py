"""The model card: the audit (`evaluation.audit`) of a new version beside production's, as one
self-contained HTML page (inline CSS, no scripts, no external assets), plus what the pipeline
step and the benchmark share: settings from the config, the optional users table, and a
production model made comparable on the candidate's split.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from movie_roulette import columns as C
from movie_roulette.config import PipelineConfig
from movie_roulette.evaluation.audit import (
    ALL,
    HIGHER_IS_BETTER,
    Audit,
    AuditSettings,
    ExposureRow,
    GroupFigures,
    audit_model,
)
from movie_roulette.evaluation.like_for_like import comparable_production
from movie_roulette.evaluation.seen import SeenRatings
from movie_roulette.exceptions import ConfigError
from movie_roulette.promotion import check_audit_gate

INTENDED_USE = (
    "Ranks movies for people of a movie-night web app from their star ratings (known users) or "
    "a few ratings given on the spot (newcomers). Not for decisions about people; its taste "
    "model is only as broad as the ratings it was fitted on."
)


@dataclass(frozen=True)
class CardContext:
    model_name: str
    candidate_version: str
    production_version: str | None = None
    production_notes: list[str] = field(default_factory=list)  # how the models were made fair
    gate: list[dict[str, Any]] = field(default_factory=list)  # promotion.GateCheck as dicts


def settings_from_config(cfg: PipelineConfig) -> AuditSettings:
    a = cfg.audit
    return AuditSettings(
        k=cfg.evaluation.k,
        threshold=cfg.evaluation.relevance_threshold,
        long_tail_share=a.long_tail_share,
        min_group_users=a.min_group_users,
        explain_users=a.explain_users,
        counterfactual_candidates=a.counterfactual_candidates,
        max_users=a.max_users,
        seed=cfg.seed,
    )


def load_users_table(path: str | None) -> pd.DataFrame | None:
    """The optional users table (CSV with user_id and demographic columns), or None."""
    if path is None:
        return None
    file = Path(path).expanduser()
    if not file.is_file():
        raise ConfigError(
            f"audit.users_table: {file} does not exist; point it at a CSV with a user_id column "
            "(and age_group / gender / occupation), or set it to null."
        )
    users = pd.read_csv(file)
    if C.USER_ID not in users.columns:
        raise ConfigError(f"audit.users_table: {file} has no '{C.USER_ID}' column.")
    return users


# ---------------------------------------------------------------------------------- HTML
CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:2rem;color:#1d2330;
max-width:1100px}
h1{font-size:1.6rem}h2{border-bottom:2px solid #dde3ee;padding-bottom:.2rem;margin-top:2rem}
table{border-collapse:collapse;margin:.5rem 0 1rem}
td,th{padding:.25rem .6rem;border-bottom:1px solid #e6e9f0;text-align:right}
th:first-child,td:first-child{text-align:left}th{background:#f3f5f9}
.worse{color:#b3261e;font-weight:600}.better{color:#1b7a3d}.small{color:#888;font-style:italic}
.note{background:#fff8e1;border-left:4px solid #f0b400;padding:.4rem .8rem;margin:.3rem 0}
.bar{display:inline-block;height:.8rem;vertical-align:middle}.pos{background:#4a78c2}.neg{background:#d9822b}
.fail{color:#b3261e;font-weight:600}.pass{color:#1b7a3d}code{background:#f3f5f9;padding:0 .2rem}
"""


def _fmt(value: float | None, digits: int = 4) -> str:
    return "&mdash;" if value is None else f"{value:.{digits}f}"


def _e(text: object) -> str:
    return html.escape(str(text))


def _delta(metric: str, cand: float | None, prod: float | None) -> str:
    if cand is None or prod is None:
        return ""
    diff = cand - prod
    better = diff > 0 if HIGHER_IS_BETTER.get(metric, False) else diff < 0
    css = "better" if better else ("worse" if diff != 0 else "")
    return f'<span class="{css}">{diff:+.4f}</span>'


def _table(head: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    th = "".join(f"<th>{_e(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"


def _data(audit: Audit) -> str:
    d = audit.data
    rows = [
        ["ratings the model was fitted on", f"{d.seen_ratings:,}"],
        ["held-out test ratings", f"{d.test_ratings:,}"],
        ["users / movies", f"{d.users:,} / {d.movies:,}"],
        ["date range", f"{d.first_rating or 'no timestamps'} to {d.last_rating or '-'}"],
        ["training ratings sha256", f"<code>{d.seen_sha256[:16]}</code>"],
        ["test ratings sha256", f"<code>{d.test_sha256[:16]}</code>"],
        ["catalogue sha256", f"<code>{d.catalogue_sha256[:16]}</code>"],
        ["test users audited", f"{audit.users_audited:,}"],
    ]
    return _table(["", "value"], rows)


def _popularity(cand: Audit, prod: Audit | None) -> str:
    names = [
        ("long_tail_share", "recommendations from the long tail"),
        ("history_long_tail_share", "ratings from the long tail (users' histories)"),
        ("exposure_gini", "exposure Gini over the catalogue"),
        ("arp", "average recommendation popularity (ratings)"),
        ("pop_lift", "popularity lift (1 = as mainstream as the user)"),
    ]
    rows = []
    for key, label in names:
        c = getattr(cand.popularity, key)
        p = getattr(prod.popularity, key) if prod else None
        rows.append([_e(label), _fmt(c), _fmt(p), _delta(key, c, p)])
    s = cand.settings
    lead = (
        f"<p>Long tail: the least-rated {s.long_tail_share:.0%} of the "
        f"{cand.popularity.catalogue_movies:,} movies ({cand.popularity.long_tail_movies:,}), by "
        "ratings the model was fitted on.</p>"
    )
    return lead + _table(["figure", "new version", "production", "change"], rows)


GROUP_COLUMNS = [
    ("ndcg", "NDCG@k"),
    ("recall", "recall@k"),
    ("coverage", "coverage@k"),
    ("long_tail_share", "long-tail share"),
    ("pop_lift", "pop. lift"),
    ("miscalibration", "genre miscalibration (KL)"),
]


def _group_cell(metric: str, g: GroupFigures, p: GroupFigures | None) -> str:
    c = getattr(g, metric)
    pv = getattr(p, metric) if p is not None and not p.too_small else None
    text = _fmt(c)
    if pv is not None:
        text += f"<br><small>prod {_fmt(pv)} {_delta(metric, c, pv)}</small>"
    return text


def _groups(cand: Audit, prod: Audit | None) -> str:
    rows = []
    for g in cand.groups:
        label = "everyone" if g.dimension == ALL else f"{g.dimension}: {g.name}"
        if g.too_small:
            rows.append(
                [_e(label), str(g.users)]
                + [f'<span class="small">too small (&lt; {cand.settings.min_group_users})</span>']
                + [""] * (len(GROUP_COLUMNS) - 1)
            )
            continue
        p = prod.group(g.key) if prod else None
        rows.append([_e(label), str(g.users)] + [_group_cell(m, g, p) for m, _ in GROUP_COLUMNS])
    out = _table(["group", "users"] + [h for _, h in GROUP_COLUMNS], rows)
    gaps = [
        [_e(x.dimension), _e(x.metric), _e(x.best), _e(x.worst), _fmt(x.gap)] for x in cand.gaps
    ]
    if gaps:
        out += "<h3>Gap between the best and the worst group</h3>"
        out += _table(["dimension", "figure", "best", "worst", "gap"], gaps)
    return out


def _exposure(rows: list[ExposureRow], prod_rows: list[ExposureRow] | None, what: str) -> str:
    if not rows:
        return f'<p class="note">No exposure by {_e(what)}: the data has none.</p>'
    prod = {r.bucket: r for r in prod_rows or []}
    body = []
    for r in rows:
        ratio = r.exposure_share / r.catalogue_share if r.catalogue_share else None
        p = prod.get(r.bucket)
        body.append(
            [
                _e(r.bucket),
                _fmt(r.exposure_share, 3),
                _fmt(p.exposure_share, 3) if p else "&mdash;",
                _fmt(r.catalogue_share, 3),
                _fmt(r.ratings_share, 3),
                _fmt(ratio, 2),
            ]
        )
    head = [what, "exposure", "production exposure", "catalogue share", "ratings share"]
    return _table([*head, "exposure / catalogue"], body)


def _bar(value: float, scale: float) -> str:
    width = 0 if scale <= 0 else min(120, int(round(120 * abs(value) / scale)))
    css = "pos" if value >= 0 else "neg"
    return f'<span class="bar {css}" style="width:{width}px"></span> {value:+.3f}'


def _explain(cand: Audit, prod: Audit | None) -> str:
    ex = cand.explainability
    if ex is None:
        return '<p class="note">This model is not a blend of components: no decomposition.</p>'
    prod_ex = prod.explainability if prod else None
    rows = [
        [
            _e(n),
            _fmt(ex.weights.get(n, 0.0), 2),
            _fmt(ex.mean_share.get(n), 3),
            _fmt(prod_ex.weights.get(n), 2) if prod_ex else "&mdash;",
            _fmt(prod_ex.mean_share.get(n), 3) if prod_ex else "&mdash;",
        ]
        for n in sorted(set(ex.weights) | set(prod_ex.weights if prod_ex else {}))
    ]
    out = _table(
        ["component", "blend weight", "mean share of score", "production weight", "prod. share"],
        rows,
    )
    cf = ex.counterfactual
    share = cf.matters_most_share
    out += (
        "<h3>Counterfactual check of &ldquo;because you rated X highly&rdquo;</h3>"
        f"<p>{cf.checked} cited reasons checked: removing X from the user's ratings moved the "
        f"movie's rank in {cf.rank_changed} ({_pct(cf.rank_changed, cf.checked)}); X was the "
        f"rating whose removal lowered it most in {cf.cited_matters_most} "
        f"({_fmt(share, 3) if share is not None else '&mdash;'}). Mean rank drop: "
        f"{_fmt(cf.mean_rank_drop, 2)}. (Newcomer fold-in of the user's own ratings, with and "
        "without X, against the cited movie and the user's best-rated liked movies.)</p>"
        f"<p>Largest |sum of contributions &minus; score| over the sampled items: "
        f"{ex.max_decomposition_error:.2e}.</p>"
    )
    for user in ex.users[:5]:
        scale = max((abs(v) for it in user.items for v in it.contributions.values()), default=1.0)
        comps = sorted({n for it in user.items for n in it.contributions})
        body = []
        for it in user.items:
            cited = (
                f"<br><small>because you rated {_e(it.cited_title or it.cited)} highly</small>"
                if it.cited is not None
                else ""
            )
            body.append(
                [f"{it.rank}. {_e(it.title)}{cited}", _fmt(it.score, 3)]
                + [_bar(it.contributions.get(n, 0.0), scale) for n in comps]
            )
        out += f"<h3>User {user.user_id}: top-{len(user.items)} decomposed</h3>"
        out += _table(["movie", "score", *comps], body)
    return out


def _pct(part: int, whole: int) -> str:
    return f"{part / whole:.0%}" if whole else "&mdash;"


def _gate(checks: list[dict[str, Any]]) -> str:
    if not checks:
        return "<p>No audit gate configured (<code>audit.gate: []</code>).</p>"
    rows = [
        [
            _e(c["metric"]),
            _e(c["group"]),
            _fmt(c.get("candidate")),
            _fmt(c.get("production")),
            _fmt(c["max_drop"]),
            f'<span class="{"pass" if c["passed"] else "fail"}">'
            f"{'pass' if c['passed'] else 'BLOCKS'}</span>",
            _e(c["reason"]),
        ]
        for c in checks
    ]
    return _table(
        ["figure", "group", "new", "production", "allowed drop", "result", "reason"], rows
    )


def render_card(candidate: Audit, production: Audit | None, context: CardContext) -> str:
    """The model card as one self-contained HTML document."""
    prod_label = (
        f"production (version {_e(context.production_version)})"
        if context.production_version
        else "no production version yet"
    )
    notes = [*candidate.notes, *context.production_notes]
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>Model card: {_e(context.model_name)} v{_e(context.candidate_version)}</title>",
        f"<style>{CSS}</style></head><body>",
        f"<h1>Model card: {_e(context.model_name)} version {_e(context.candidate_version)}</h1>",
        f"<p>New version beside {prod_label}, both measured on the new version's held-out test "
        f"split, k = {candidate.settings.k}, relevant = rated at least "
        f"{candidate.settings.threshold:g}.</p>",
        "<h2>Intended use</h2>",
        f"<p>{_e(INTENDED_USE)}</p>",
        "<h2>Data</h2>",
        _data(candidate),
        "".join(f'<p class="note">{_e(n)}</p>' for n in notes),
        "<h2>Promotion gate (audit.gate)</h2>",
        _gate(context.gate),
        "<h2>Popularity bias</h2>",
        _popularity(candidate, production),
        "<h2>User groups: quality, popularity and calibration</h2>",
        "<p>Activity: terciles of the users' rating counts. Mainstream: terciles of the mean "
        "log popularity of the movies they rated. Genre miscalibration: KL divergence between "
        "the genre mix of the user's ratings and of their top-k (0 = same mix).</p>",
        _groups(candidate, production),
        "<h2>Item-side exposure</h2>",
        "<h3>By release decade</h3>",
        _exposure(
            candidate.items.by_decade, production.items.by_decade if production else None, "decade"
        ),
        "<h3>By genre</h3>",
        _exposure(
            candidate.items.by_genre, production.items.by_genre if production else None, "genre"
        ),
        "<h2>Explainability</h2>",
        _explain(candidate, production),
        "</body></html>",
    ]
    return "\n".join(parts)


__all__ = [
    "INTENDED_USE",
    "CardContext",
    "load_users_table",
    "render_card",
    "settings_from_config",
]


@dataclass(frozen=True)
class ModelCard:
    """A version's card: the HTML page and its figures (candidate, production, notes)."""

    html: str
    figures: dict[str, Any]


def build_card(
    cfg: PipelineConfig,
    version: str,
    model: Any,
    catalogue: pd.DataFrame | None,
    seen: pd.DataFrame | SeenRatings,
    test: pd.DataFrame,
    production: tuple[str, Any, pd.DataFrame | None] | None = None,
    served_candidate: bool = False,
    production_notes: Sequence[str] = (),
) -> ModelCard:
    """Audit `model` (and production, as `(version, model, catalogue)`, made comparable on the
    same test split), check the audit gate and render the card.

    `model` is the evaluated model (fitted on `seen`, as the training pipeline's); with
    `served_candidate` it is a registered (served) version, e.g. an experiment's challenger,
    made comparable like production first (its recipe refitted on `seen` when it was trained on
    the test ratings). A production made comparable already (`like_for_like.
    comparable_production`, the pipeline's `load_comparable_production` step) is not refitted
    again; `production_notes` say what was done to it."""
    settings = settings_from_config(cfg)
    users = load_users_table(cfg.audit.users_table)
    prod_notes: list[str] = []
    if served_candidate:
        made = comparable_production(model, seen, test, catalogue)
        model = made.model
        prod_notes = [n.replace("production", f"version {version}", 1) for n in made.notes]
    candidate = audit_model(model, seen, test, catalogue, settings, users)
    prod_audit, prod_version = None, None
    if production is not None:
        prod_version, prod_model, prod_catalogue = production
        made = comparable_production(prod_model, seen, test, prod_catalogue)
        prod_notes += [*production_notes, *made.notes]
        prod_audit = audit_model(made.model, seen, test, catalogue, settings, users)
    figures = {
        "candidate_version": version,
        "production_version": prod_version,
        "candidate": candidate.figures(),
        "production": prod_audit.figures() if prod_audit else None,
        "notes": [*candidate.notes, *prod_notes],
    }
    gate = check_audit_gate(
        cfg.audit.gate, figures["candidate"], figures["production"], cfg.evaluation.k
    )
    context = CardContext(
        cfg.model_name, version, prod_version, prod_notes, [check.to_dict() for check in gate]
    )
    return ModelCard(render_card(candidate, prod_audit, context), figures)
