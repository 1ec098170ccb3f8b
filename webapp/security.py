"""CSRF protection for forms and security headers on every response.

CSRF: a random token lives in the (signed, HttpOnly, SameSite=Lax) session cookie; every form
carries it in a hidden `csrf_token` field (JavaScript sends it as the `X-CSRF-Token` header).
Any POST/PUT/PATCH/DELETE without the matching token is refused with 400.
"""

from __future__ import annotations

import hmac
import secrets

from flask import Flask, Response, abort, request, session

TOKEN_KEY = "_csrf"
FORM_FIELD = "csrf_token"
HEADER = "X-CSRF-Token"
_UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


def csrf_token() -> str:
    """The session's token (created on first use); templates call it as csrf_token()."""
    token = session.get(TOKEN_KEY)
    if not isinstance(token, str) or len(token) < 32:
        token = secrets.token_urlsafe(32)
        session[TOKEN_KEY] = token
    return token


def _check_csrf() -> None:
    if request.method not in _UNSAFE:
        return
    expected = session.get(TOKEN_KEY)
    sent = request.form.get(FORM_FIELD) or request.headers.get(HEADER) or ""
    if not isinstance(expected, str) or not expected or not hmac.compare_digest(expected, sent):
        abort(400, description="The form expired or did not come from this site; reload the page.")


def content_security_policy() -> str:
    return "; ".join(
        [
            "default-src 'self'",
            "img-src 'self' data:",
            "script-src 'self'",
            "style-src 'self'",
            "font-src 'self'",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


def _headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", content_security_policy())
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    response.headers.setdefault(
        "Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()"
    )
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    return response


def init_app(app: Flask) -> None:
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
    )
    app.before_request(_check_csrf)
    app.after_request(_headers)
    app.jinja_env.globals["csrf_token"] = csrf_token
