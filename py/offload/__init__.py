"""Offload's compute core: pure-Python tasks that run natively and, unchanged, in Pyodide.

`progress(done, total)` is the one name a developer's own function needs: it reports to the page
in a worker and does nothing natively (unless inside `reporting(hook)`).
"""

from __future__ import annotations

from offload.runtime import progress, reporting

__all__ = ["progress", "reporting"]

__version__ = "0.1.0"
