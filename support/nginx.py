"""A real nginx running docs/hosting.md's server block, on free loopback ports, for tests.

The block is read from the documentation itself (its one ```nginx fence), so what a teacher
copies is what the tests run. Only what cannot be the same on a test machine is replaced: the
ports, the name (`class.test`), the certificate files and the upstream's port. Debian's package
puts nginx at /usr/sbin/nginx (`.ci/run` installs it when missing); set OFFLOAD_NGINX to use
another binary (for instance one unpacked with `apt-get download nginx && dpkg -x`).
"""

from __future__ import annotations

import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from support.certificate import Certificate
from support.programs import find_program
from support.server import ROOT, free_port

HOSTING_DOC = ROOT / "docs" / "hosting.md"
DOC_NAME = "class.example.org"
DOC_UPSTREAM = "127.0.0.1:8765"
DOC_CERT = f"/etc/letsencrypt/live/{DOC_NAME}/fullchain.pem"
DOC_KEY = f"/etc/letsencrypt/live/{DOC_NAME}/privkey.pem"
TEST_NAME = "class.test"
STARTUP_TIMEOUT = 20.0


def nginx_binary() -> str | None:
    """The nginx to run, or None when there is none."""
    return find_program("nginx", "OFFLOAD_NGINX", "/usr/sbin/nginx")


def documented_block(doc: Path = HOSTING_DOC) -> str:
    """The text of the ```nginx fence in docs/hosting.md."""
    text = doc.read_text()
    start = text.index("```nginx\n") + len("```nginx\n")
    return text[start : text.index("\n```", start)]


@dataclass
class RunningNginx:
    """nginx serving the documented block in front of an Offload server on `upstream_port`."""

    folder: Path
    upstream_port: int
    certificate: Certificate
    https_port: int = field(default_factory=free_port)
    http_port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    def config(self) -> str:
        """The documented block with this machine's ports and files, inside a minimal nginx.conf."""
        block = documented_block()
        for documented, here in (
            ("listen 443 ssl http2;", f"listen 127.0.0.1:{self.https_port} ssl http2;"),
            ("listen 80;", f"listen 127.0.0.1:{self.http_port};"),
            (DOC_CERT, str(self.certificate.cert)),
            (DOC_KEY, str(self.certificate.key)),
            (DOC_UPSTREAM, f"127.0.0.1:{self.upstream_port}"),
            (DOC_NAME, TEST_NAME),
        ):
            if documented not in block:
                raise ValueError(f"docs/hosting.md's nginx block no longer has {documented!r}")
            block = block.replace(documented, here)
        temp = self.folder / "temp"
        paths = " ".join(
            f"{kind}_temp_path {temp / kind};"
            for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        return (
            f"daemon off;\nworker_processes 1;\npid {self.folder / 'nginx.pid'};\n"
            f"error_log {self.folder / 'error.log'} warn;\n"
            "events { worker_connections 1024; }\n"
            f"http {{\naccess_log off;\n{paths}\n{block}\n}}\n"
        )

    def start(self) -> RunningNginx:
        """Write the configuration, start nginx and wait until its https port accepts."""
        binary = nginx_binary()
        if binary is None:
            raise RuntimeError("no nginx: apt-get install nginx")
        (self.folder / "temp").mkdir(parents=True, exist_ok=True)
        conf = self.folder / "nginx.conf"
        conf.write_text(self.config())
        log = self.folder / "error.log"
        args = [binary, "-p", str(self.folder), "-c", str(conf), "-e", str(log)]
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"nginx exited: {log.read_text() if log.exists() else ''}")
            try:
                socket.create_connection(("127.0.0.1", self.https_port), timeout=1).close()
                return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"nginx did not listen in {STARTUP_TIMEOUT} s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
