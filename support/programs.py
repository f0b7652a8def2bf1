"""Finding the system programs the tests drive: redis-server, nginx, openssl."""

from __future__ import annotations

import os
import shutil
from pathlib import Path


def find_program(name: str, env: str, debian_path: str) -> str | None:
    """The program to run: `$env` when set, else `name` on PATH, else Debian's path, else None.

    Debian puts system daemons in sbin, which is not on every user's PATH; `.ci/run` installs the
    packages when missing.
    """
    configured = os.environ.get(env)
    if configured:
        return configured
    return shutil.which(name) or (debian_path if Path(debian_path).exists() else None)
