"""The app chooses its engines once: one process and SQLite by default, Redis when asked."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.app import open_engines
from server.config import Settings
from server.hub import Hub
from server.local_jobs import LocalJobs
from server.store import Store


async def test_without_redis_the_engines_are_this_process_s_and_sqlite(tmp_path: Path) -> None:
    async with open_engines(Settings(data_dir=tmp_path, replicas=2)) as engines:
        assert isinstance(engines.hub, Hub)
        assert isinstance(engines.store, Store)
        assert isinstance(engines.jobs, LocalJobs)
        assert engines.jobs.board.rules.replicas == 2
    assert (tmp_path / Store.FILENAME).exists()


async def test_replicas_with_redis_are_refused_before_anything_starts() -> None:
    # Nothing listens on port 1: the refusal comes before any connection is tried.
    settings = Settings(redis_url="redis://127.0.0.1:1/0", replicas=2)
    with pytest.raises(ValueError, match="replicas must be 1"):
        async with open_engines(settings):
            pass
