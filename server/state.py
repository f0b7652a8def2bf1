"""The app's shared state, by key: what every handler finds on `request.app`.

Kept apart from the handlers so that one handler module (`api.py`) need not import another
(`websocket.py`) just to reach the store.
"""

from __future__ import annotations

from aiohttp import web

from server.config import Settings
from server.engines import JobEngine, PageHub, ResultStore
from server.ratelimit import ByteBudgets

SETTINGS = web.AppKey("settings", Settings)
HUB = web.AppKey("hub", PageHub)
STORE = web.AppKey("store", ResultStore)
JOBS = web.AppKey("jobs", JobEngine)
BUDGETS = web.AppKey("budgets", ByteBudgets)
