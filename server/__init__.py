"""Offload's server: the built site with cross-origin isolation headers, and the `/ws` socket."""

from __future__ import annotations

__version__ = "0.1.0"
