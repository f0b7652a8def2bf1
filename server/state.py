"""The app's shared state, by key: what every handler finds on `request.app`.

Kept apart from the handlers so that one handler module (`api.py`) need not import another
(`websocket.py`) just to reach the store.
"""

from __future__ import annotations

from aiohttp import web

from server.config import Settings
from server.engines import ResultStore
from server.hub import Hub
from server.jobs import JobBoard
from server.ratelimit import ByteBudgets

SETTINGS = web.AppKey("settings", Settings)
HUB = web.AppKey("hub", Hub)
STORE = web.AppKey("store", ResultStore)
JOBS = web.AppKey("jobs", JobBoard)
BUDGETS = web.AppKey("budgets", ByteBudgets)
