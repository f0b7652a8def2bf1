"""Who may open `/ws`: the WebSocket handshake's Origin check (no I/O here).

Browsers always send `Origin` on a WebSocket handshake and a page cannot forge it, so checking
it is what stops another site's page from talking to this server as the user (cross-site
WebSocket hijacking; CORS does not apply to WebSockets).
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit


def normalize(origin: str) -> str:
    """Lower-case scheme and host, no trailing slash: how origins are compared."""
    return origin.strip().rstrip("/").lower()


def origin_allowed(origin: str | None, host: str | None, allowed: Iterable[str]) -> bool:
    """Whether a handshake with this `Origin` header, sent to this `Host`, may proceed.

    Args:
        origin: the Origin header, or None when absent (a non-browser client: allowed, since
            only browsers carry a user's ambient authority across sites).
        host: the Host header the request came to.
        allowed: extra origins from `--allow-origin`, e.g. "https://app.example.com".

    Returns:
        True for same-origin (the Origin's host:port equals Host), a listed origin, or no Origin.
    """
    if origin is None:
        return True
    normalized = normalize(origin)
    if normalized in {normalize(a) for a in allowed}:
        return True
    parts = urlsplit(normalized)
    if parts.scheme not in ("http", "https") or not host:
        return False
    return parts.netloc == host.strip().lower()
