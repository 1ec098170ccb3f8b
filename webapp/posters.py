"""Posters: the TMDB image when the movie has a poster_path and TMDB can be reached (fetched by
the app, cached on disk, served from our own origin), else a generated SVG placeholder.

Pages always point at /poster/<movie_id>, so a browser never sees a broken image: whatever
goes wrong upstream, that URL answers with a picture.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import tempfile
import textwrap
import threading
import time
from pathlib import Path
from xml.sax.saxutils import escape

import requests

log = logging.getLogger(__name__)

_POSTER_PATH = re.compile(r"^/[A-Za-z0-9_-]{1,100}\.(jpg|jpeg|png|webp)$")
MAX_BYTES = 5 * 1024 * 1024
RETRY_AFTER_S = 300.0
_MAGIC = {b"\xff\xd8\xff": "image/jpeg", b"\x89PNG": "image/png", b"RIFF": "image/webp"}


def placeholder_svg(title: str, year: int | None = None, genres: list[str] | None = None) -> str:
    """A 2:3 poster with the title on a gradient whose colours come from the title."""
    digest = hashlib.sha256(title.encode("utf-8")).digest()
    hue = digest[0] * 360 // 256
    hue2 = (hue + 40 + digest[1] % 60) % 360
    lines = textwrap.wrap(title, width=14)[:5] or ["?"]
    if len(textwrap.wrap(title, width=14)) > 5:
        lines[-1] = lines[-1][:12] + "…"
    size = 30 if max(len(line) for line in lines) <= 10 else 24
    top = 200 - (len(lines) - 1) * size * 0.6
    text = "".join(
        f'<tspan x="150" y="{top + n * size * 1.2:.0f}">{escape(line)}</tspan>'
        for n, line in enumerate(lines)
    )
    subtitle = escape(" · ".join(([str(year)] if year else []) + (genres or [])[:2]))
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 300 450" width="300" height="450" '
        f'role="img" aria-label="{escape(title, {chr(34): "&quot;"})} (no poster)">'
        '<defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1">'
        f'<stop offset="0" stop-color="hsl({hue},55%,32%)"/>'
        f'<stop offset="1" stop-color="hsl({hue2},60%,14%)"/></linearGradient></defs>'
        '<rect width="300" height="450" fill="url(#g)"/>'
        '<circle cx="150" cy="360" r="34" fill="none" stroke="rgba(255,255,255,.35)" '
        'stroke-width="6"/><circle cx="150" cy="360" r="6" fill="rgba(255,255,255,.35)"/>'
        '<text font-family="Georgia, serif" font-weight="700" fill="#fff" text-anchor="middle" '
        f'font-size="{size}">{text}</text>'
        '<text x="150" y="300" font-family="Helvetica, Arial, sans-serif" font-size="16" '
        f'fill="rgba(255,255,255,.8)" text-anchor="middle">{subtitle}</text></svg>'
    )


def _sniff(data: bytes) -> str | None:
    for magic, mime in _MAGIC.items():
        if data.startswith(magic):
            return mime
    return None


class PosterFetcher:
    """Fetches TMDB posters server side with a timeout, caches them, and stops trying for a
    while after a network failure (so an offline machine does not wait on every page)."""

    def __init__(
        self,
        image_base: str,
        cache_dir: Path | None = None,
        timeout: float = 3.0,
        enabled: bool = True,
    ) -> None:
        self.image_base = image_base.rstrip("/")
        self.cache_dir = cache_dir or Path(tempfile.gettempdir()) / "movie-roulette-posters"
        self.timeout = timeout
        self.enabled = enabled
        self._down_until = 0.0
        self._lock = threading.Lock()
        self._session = requests.Session()

    @staticmethod
    def valid_path(poster_path: str | None) -> bool:
        return bool(poster_path) and bool(_POSTER_PATH.match(str(poster_path)))

    def _cache_file(self, poster_path: str) -> Path:
        return self.cache_dir / hashlib.sha256(poster_path.encode()).hexdigest()[:32]

    def get(self, poster_path: str | None) -> tuple[bytes, str] | None:
        """(image bytes, mime type) or None when there is no usable poster."""
        if not self.enabled or not self.valid_path(poster_path):
            return None
        assert poster_path is not None
        cached = self._cache_file(poster_path)
        if cached.is_file():
            data = cached.read_bytes()
            mime = _sniff(data)
            if mime:
                return data, mime
        with self._lock:
            if time.monotonic() < self._down_until:
                return None
        try:
            response = self._session.get(
                self.image_base + poster_path, timeout=self.timeout, stream=True
            )
            data = response.raw.read(MAX_BYTES + 1, decode_content=True)
            response.close()
        except (requests.RequestException, OSError) as err:
            log.info("poster fetch failed (%s); using placeholders for %.0f s", err, RETRY_AFTER_S)
            with self._lock:
                self._down_until = time.monotonic() + RETRY_AFTER_S
            return None
        mime = _sniff(data)
        if response.status_code != 200 or len(data) > MAX_BYTES or mime is None:
            return None
        try:
            self.cache_dir.mkdir(parents=True, exist_ok=True)
            tmp = cached.with_name(f".{cached.name}.{os.getpid()}.{threading.get_ident()}")
            tmp.write_bytes(data)
            os.replace(tmp, cached)
        except OSError as err:  # a read-only cache is not a reason to fail the page
            log.warning("cannot cache poster in %s: %s", self.cache_dir, err)
        return data, mime
