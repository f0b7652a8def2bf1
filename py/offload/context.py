"""The one place that knows where this code runs; nothing else asks."""

from __future__ import annotations

import sys

#: True inside Pyodide (a browser worker), False on native CPython.
RUNNING_IN_PYODIDE = sys.platform == "emscripten"
