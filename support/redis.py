"""A real `redis-server` for tests and the benchmark: free port, its own folder, AOF fsynced always.

Debian's package puts it at /usr/bin/redis-server (`.ci/run` installs it when missing); set
OFFLOAD_REDIS_SERVER to use another binary.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from support.programs import find_program
from support.server import free_port

STARTUP_TIMEOUT = 20.0


def redis_binary() -> str | None:
    """The redis-server to run, or None when there is none."""
    return find_program("redis-server", "OFFLOAD_REDIS_SERVER", "/usr/bin/redis-server")


@dataclass
class RedisServer:
    """One redis-server process; `kill()` is `kill -9`, `start()` again reuses port and data."""

    folder: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        """Start (or restart) it and wait until it answers PING."""
        binary = redis_binary()
        if binary is None:
            raise RuntimeError("no redis-server: apt-get install redis-server")
        self.folder.mkdir(parents=True, exist_ok=True)
        args = [
            binary,
            *("--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.folder)),
            *("--appendonly", "yes", "--appendfsync", "always", "--save", ""),
            *("--protected-mode", "no", "--daemonize", "no", "--loglevel", "warning"),
            *("--logfile", str(self.folder / "redis.log")),
        ]
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"redis-server exited: {self.log()}")
            if self.answers():
                return self
            time.sleep(0.05)
        raise RuntimeError(f"redis-server did not answer in {STARTUP_TIMEOUT} s: {self.log()}")

    def answers(self) -> bool:
        """True when it answers PING with PONG (and has loaded its data)."""
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as probe:
                probe.sendall(b"PING\r\n")
                return probe.recv(64).startswith(b"+PONG")
        except OSError:
            return False

    def log(self) -> str:
        path = self.folder / "redis.log"
        return path.read_text() if path.exists() else ""

    def kill(self) -> None:
        """`kill -9`: nothing is flushed beyond what Redis already fsynced."""
        self._end(signal.SIGKILL)

    def stop(self) -> None:
        self._end(signal.SIGTERM)

    def _end(self, sig: int) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stderr is not None:
            self.process.stderr.close()
        self.process = None
