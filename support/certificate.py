"""Self-signed TLS certificates for tests, made with the `openssl` command line tool.

`make_certificate(folder)` writes `cert.pem` and `key.pem` for the names a test serves on
(127.0.0.1, localhost, class.test by default). A client trusts it by loading `cert.pem` as its
only certificate authority (`ssl.create_default_context(cafile=...)`); a browser test passes
`ignore_https_errors=True` instead. docs/hosting.md shows the same command for a class.
"""

from __future__ import annotations

import ipaddress
import subprocess
from dataclasses import dataclass
from pathlib import Path

from support.programs import find_program

DEFAULT_NAMES = ("127.0.0.1", "localhost", "class.test")


@dataclass(frozen=True)
class Certificate:
    """A certificate and its private key, as PEM files."""

    cert: Path
    key: Path


def subject_alt_names(names: tuple[str, ...]) -> str:
    """`subjectAltName=IP:127.0.0.1,DNS:localhost,...`: what browsers check a name against."""

    def entry(name: str) -> str:
        try:
            ipaddress.ip_address(name)
        except ValueError:
            return f"DNS:{name}"
        return f"IP:{name}"

    return "subjectAltName=" + ",".join(entry(name) for name in names)


def openssl_binary() -> str | None:
    """The openssl command, or None when there is none."""
    return find_program("openssl", "OFFLOAD_OPENSSL", "/usr/bin/openssl")


def make_certificate(folder: Path, names: tuple[str, ...] = DEFAULT_NAMES) -> Certificate:
    """Write a self-signed certificate for `names` (valid 30 days) and its key into `folder`.

    Raises:
        RuntimeError: there is no `openssl` (Debian: `apt-get install openssl`) or it failed.
    """
    binary = openssl_binary()
    if binary is None:
        raise RuntimeError("no openssl command: install it (apt-get install openssl)")
    folder.mkdir(parents=True, exist_ok=True)
    made = Certificate(cert=folder / "cert.pem", key=folder / "key.pem")
    command = [
        binary,
        *("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"),
        *("-nodes", "-days", "30", "-subj", "/CN=Offload test"),
        *("-addext", subject_alt_names(names)),
        *("-keyout", str(made.key), "-out", str(made.cert)),
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"openssl could not make a certificate: {done.stderr.strip()}")
    return made
