"""The dashboard's static assets, held in memory: the stylesheet, the script, the icon and plotly.js
(from the installed ``plotly`` package). A request names an asset from a fixed table; no path from a
request ever reaches the disk, and nothing is fetched from a CDN."""

from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass
from functools import cache
from importlib import resources

_FILES = {
    "app.css": "text/css; charset=utf-8",
    "app.js": "text/javascript; charset=utf-8",
    "favicon.svg": "image/svg+xml",
}
PLOTLY = "plotly.min.js"


@dataclass(frozen=True)
class Asset:
    name: str
    media_type: str
    body: bytes
    gzipped: bytes
    etag: str

    @property
    def version(self) -> str:
        """A short content hash for cache-busting URLs (``/static/app.js?v=...``)."""
        return self.etag.strip('"')[:12]


def _asset(name: str, media_type: str, body: bytes) -> Asset:
    digest = hashlib.sha256(body).hexdigest()[:20]
    return Asset(name, media_type, body, gzip.compress(body, compresslevel=6, mtime=0), f'"{digest}"')


@cache
def _packaged() -> dict[str, Asset]:
    folder = resources.files("wattsup.web") / "static"
    return {name: _asset(name, media, (folder / name).read_bytes()) for name, media in _FILES.items()}


@cache
def _plotly() -> Asset:
    try:
        from plotly.offline import get_plotlyjs
    except ImportError as err:  # the web extra installs plotly; say so if it is missing
        raise RuntimeError("plotly is not installed: pip install 'wattsup[web]'") from err
    return _asset(PLOTLY, "text/javascript; charset=utf-8", get_plotlyjs().encode("utf-8"))


def asset(name: str) -> Asset | None:
    """The asset called ``name``, or ``None`` if there is no such asset."""
    if name == PLOTLY:
        return _plotly()
    return _packaged().get(name)


def href(name: str) -> str:
    """The URL of an asset, with its content hash so browsers never keep a stale copy."""
    found = asset(name)
    assert found is not None, name
    return f"/static/{name}?v={found.version}"
