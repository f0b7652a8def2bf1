"""Offload's compute core: pure-Python tasks that run natively and, unchanged, in Pyodide."""

from __future__ import annotations

__version__ = "0.1.0"
