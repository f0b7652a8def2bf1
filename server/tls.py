"""`--tls-cert` and `--tls-key`: the TLS context https and wss are served with.

Served over TLS, the page is a secure context on every machine of the class, not just on the
server's own loopback: the start-up snapshot (it needs `crypto.subtle`), the service worker and
SharedArrayBuffer (cross-origin isolation) all need one. See docs/hosting.md.
"""

from __future__ import annotations

import ssl
from pathlib import Path


def load_context(cert: Path, key: Path) -> ssl.SSLContext:
    """A server-side TLS context from a PEM certificate (chain) and its private key.

    Raises:
        ValueError: one sentence saying which file is missing, unreadable or wrong, or that
            the key does not belong to the certificate.
    """
    for path, what, flag in ((cert, "certificate", "--tls-cert"), (key, "key", "--tls-key")):
        try:
            path.read_bytes()
        except OSError as exc:
            raise ValueError(
                f"Cannot read the TLS {what} {path} ({exc.strerror or exc}): "
                f"pass a readable PEM file with {flag}."
            ) from None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    try:
        context.load_cert_chain(cert, key)
    except ssl.SSLError as exc:
        if "KEY_VALUES_MISMATCH" in str(exc):
            raise ValueError(
                f"The TLS key {key} does not belong to the certificate {cert}: "
                "pass the key the certificate was made with."
            ) from None
        raise ValueError(
            f"Cannot use {cert} and {key} as a TLS certificate and key ({exc.reason or exc}): "
            "both must be PEM files (-----BEGIN CERTIFICATE----- / -----BEGIN PRIVATE KEY-----)."
        ) from None
    return context
