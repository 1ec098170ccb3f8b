"""Prometheus metrics of the web app, in a registry of its own (one per app instance).

Every label value comes from a closed set, so no request can add series: the route is the
matched URL rule (or "<unmatched>"), the method one of `METHODS` (else "other"), the status a
three-digit HTTP code, the model-server kind one of `SERVER_KINDS` (else "other").
"""

from __future__ import annotations

import time

from flask import Flask, Response, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)

from webapp.feedback import FEEDBACK_TYPES, OUTCOMES

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
SERVER_KINDS = frozenset({"recommend", "similar", "predict", "spin", "ping"})
OTHER = "other"


def method_label(method: str) -> str:
    return method if method in METHODS else OTHER


def status_label(status: int) -> str:
    return str(status) if 100 <= status <= 599 else OTHER


def server_error_label(reason: str) -> str:
    """connection, timeout, bad_response, bad_request, down or http_<3 digits>; else "other"."""
    if reason in ("connection", "timeout", "bad_response", "bad_request", "down"):
        return reason
    code = reason.removeprefix("http_")
    if reason.startswith("http_") and code.isdigit() and 100 <= int(code) <= 599:
        return reason
    return OTHER


class AppMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "movie_roulette_http_requests",
            "HTTP requests handled, by route template, method and status code.",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "movie_roulette_http_request_duration_seconds",
            "Time to answer an HTTP request, by route template.",
            ["route", "method"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.server_latency = Histogram(
            "movie_roulette_model_server_request_duration_seconds",
            "Time of calls to the model server, by request kind.",
            ["kind"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.server_errors = Counter(
            "movie_roulette_model_server_errors",
            "Failed model-server calls, by request kind and reason "
            "(connection, timeout, http_<status>, bad_response, down).",
            ["kind", "reason"],
            registry=self.registry,
        )

        self.feedback = Counter(
            "movie_roulette_feedback_events",
            "Feedback of picked users (type: click, rating, spin_accepted), by outcome: logged "
            "(fsynced to the event log), failed (the log could not be written), invalid (bad "
            "form input, nothing logged), disabled (feedback logging is off), duplicate (a "
            "repeated click, logged once).",
            ["type", "outcome"],
            registry=self.registry,
        )
        for event_type in FEEDBACK_TYPES:
            for outcome in OUTCOMES:
                self.feedback.labels(type=event_type, outcome=outcome)  # exported from 0

    def observe_server_call(self, kind: str, seconds: float, error: str | None) -> None:
        kind = kind if kind in SERVER_KINDS else OTHER
        self.server_latency.labels(kind=kind).observe(seconds)
        if error is not None:
            self.server_errors.labels(kind=kind, reason=server_error_label(error)).inc()

    def init_app(self, app: Flask) -> None:
        @app.before_request
        def _start_timer() -> None:
            g._metrics_started = time.perf_counter()

        @app.after_request
        def _record(response: Response) -> Response:
            started = g.pop("_metrics_started", None)
            rule = request.url_rule.rule if request.url_rule is not None else "<unmatched>"
            if request.endpoint == "static":
                rule = "/static"  # one series for all assets
            method = method_label(request.method)
            self.requests.labels(rule, method, status_label(response.status_code)).inc()
            if started is not None:
                self.latency.labels(rule, method).observe(time.perf_counter() - started)
            return response

    def exposition(self) -> Response:
        return Response(generate_latest(self.registry), content_type=CONTENT_TYPE_LATEST)
