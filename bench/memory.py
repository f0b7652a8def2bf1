"""How much memory the browser's renderer processes use, read from Linux's /proc.

Dedicated workers live in their page's renderer process, and Pyodide's wasm heap (30 MB after
boot) is linear memory that `performance.measureUserAgentSpecificMemory()` does not count (it
reports ~11 MB of JavaScript heap per worker). So the memory row uses the private memory (USS:
private clean + private dirty pages) of this run's renderer processes: found as descendants of the
benchmark process, since Playwright's driver, Chromium and its zygote are all started from it.
"""

from __future__ import annotations

import os
from pathlib import Path

PROC = Path("/proc")
KB = 1024


def children_map() -> dict[int, list[int]]:
    """Parent pid -> child pids, for every process we may read."""
    children: dict[int, list[int]] = {}
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name (field 2) may hold spaces and parentheses: split after its last ")".
        parent = int(stat[stat.rindex(")") + 2 :].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    return children


def descendants(root: int) -> list[int]:
    """Every process below `root`."""
    children = children_map()
    found: list[int] = []
    stack = [root]
    while stack:
        for child in children.get(stack.pop(), []):
            found.append(child)
            stack.append(child)
    return found


def is_renderer(pid: int) -> bool:
    try:
        return b"--type=renderer" in (PROC / str(pid) / "cmdline").read_bytes()
    except OSError:
        return False


def private_bytes(pid: int) -> int:
    """USS of one process: the pages only it maps (0 if it has exited)."""
    total = 0
    try:
        lines = (PROC / str(pid) / "smaps_rollup").read_text().splitlines()
    except OSError:
        return 0
    for line in lines:
        if line.startswith(("Private_Clean:", "Private_Dirty:")):
            total += int(line.split()[1]) * KB
    return total


def renderers_private_bytes(root: int | None = None) -> int:
    """The summed USS of the Chromium renderer processes started by this process."""
    return sum(private_bytes(pid) for pid in descendants(root or os.getpid()) if is_renderer(pid))


def available() -> bool:
    """Whether /proc has what this module reads (Linux)."""
    return (PROC / "self" / "smaps_rollup").exists()
