"""The real server as a separate process (`python -m server ...`) on a free loopback port.

Started exactly as users start it, with its logs in files; used by the end-to-end tests' fixtures
and by the benchmark.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from support.certificate import Certificate

ROOT = Path(__file__).resolve().parent.parent
DIST = ROOT / "dist"
READY_LINE = "Offload is serving "
STARTUP_TIMEOUT = 30.0


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class RunningServer:
    """A `python -m server` process on a loopback port, with its logs in files."""

    port: int
    data_dir: Path
    log_dir: Path
    extra_args: list[str] = field(default_factory=list)
    process: subprocess.Popen[bytes] | None = None
    #: The name pages reach it by. Another than 127.0.0.1 (e.g. "class.test", which Chromium's
    #: `--host-resolver-rules` maps to 127.0.0.1: see `resolver_rule`) is an insecure origin
    #: for plain http; the server is told it with --public-name.
    name: str = "127.0.0.1"
    #: With a certificate (support/certificate.py) it serves https and wss.
    tls: Certificate | None = None

    @property
    def origin(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.name}:{self.port}"

    @property
    def url(self) -> str:
        return f"{self.origin}/"

    @property
    def ws_url(self) -> str:
        return f"{'wss' if self.tls else 'ws'}://{self.name}:{self.port}/ws"

    @property
    def resolver_rule(self) -> str:
        """Chromium's `--host-resolver-rules` value sending `name` to this loopback server."""
        return f"MAP {self.name} 127.0.0.1"

    def start(self) -> RunningServer:
        """Start the process and wait until it says it is serving."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        stdout = self.log_dir / "stdout.log"
        args = [
            *(sys.executable, "-m", "server", "--host", "127.0.0.1", "--port", str(self.port)),
            *("--data-dir", str(self.data_dir), "--dist", str(DIST)),
            *(("--public-name", self.name) if self.name != "127.0.0.1" else ()),
            *(
                ("--tls-cert", str(self.tls.cert), "--tls-key", str(self.tls.key))
                if self.tls
                else ()
            ),
            *self.extra_args,
        ]
        with stdout.open("wb") as out, (self.log_dir / "stderr.log").open("wb") as err:
            self.process = subprocess.Popen(args, cwd=ROOT, stdout=out, stderr=err)
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            if READY_LINE in stdout.read_text():
                return self
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited at start: {self.stderr()}")
            time.sleep(0.05)
        raise RuntimeError(f"the server did not start in {STARTUP_TIMEOUT} s: {self.stderr()}")

    def stderr(self) -> str:
        path = self.log_dir / "stderr.log"
        return path.read_text() if path.exists() else ""

    def stop(self, sig: int = signal.SIGTERM) -> int:
        """Send `sig` and wait for the process to end; returns its exit code."""
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else 0
        self.process.send_signal(sig)
        try:
            return self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()

    def kill(self) -> None:
        """`kill -9`: no shutdown handlers run, nothing is flushed."""
        self.stop(signal.SIGKILL)

    def restart(self) -> RunningServer:
        self.stop()
        return self.start()
