"""The server's settings: one frozen value built by the command line or by a test."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from server.job_rules import MAX_ACTIVE_JOBS


@dataclass(frozen=True)
class Settings:
    """Everything the app needs to know, with the defaults `python -m server` uses.

    The limits are per connection. They are settings rather than constants so tests can shrink
    them (a tiny send queue to show a slow reader being dropped) or relax them (a fuzzer that
    must not trip the rate limiter).
    """

    dist: Path = Path("dist")
    data_dir: Path = Path("data")
    host: str = "127.0.0.1"
    port: int = 8765
    #: Other origins whose pages may open `/ws` and read `/api/` (`--allow-origin`).
    allow_origins: tuple[str, ...] = ()
    #: Names this server is reached by besides `host` (`--public-name`: a proxy's public name,
    #: a name in the school's DNS): the Host check serves them.
    public_names: tuple[str, ...] = ()
    #: Peers (IP addresses or CIDR blocks) whose `X-Forwarded-For` names the client
    #: (`--trusted-proxy`); see `server/proxy.py`.
    trusted_proxies: tuple[str, ...] = ()
    #: PEM certificate (chain) and private key: with both, the server speaks https and wss.
    tls_cert: Path | None = None
    tls_key: Path | None = None
    max_frame_bytes: int = 64 * 1024
    heartbeat_seconds: float = 20.0
    send_queue_size: int = 256
    rate_per_second: float = 100.0
    rate_burst: int = 200
    results_limit: int = 200
    #: Seconds a connection may take to send its request headers (and may idle between requests).
    header_timeout_seconds: float = 10.0
    #: Open connections at once, in all and from one client address. A classroom behind one NAT
    #: is one address: 30 pages each hold a socket plus up to 6 HTTP/1.1 connections while they
    #: load (about 210), so the default admits hundreds of pages from it. Behind a trusted proxy
    #: the per-address cap counts each forwarded client instead.
    max_connections: int = 8192
    max_connections_per_address: int = 1024
    #: Result bytes one client address may store per hour (a token bucket; a burst of it at once).
    address_bytes_per_hour: int = 64 * 1024 * 1024
    #: permessage-deflate on /ws: off by default (see docs/security.md for the measurement).
    compression: bool = False
    #: `/api/results` bodies stop growing past this (a page of big results holds fewer).
    results_body_bytes: int = 1024 * 1024
    #: A volunteer loses a chunk it has held this long (it goes back to the queue).
    lease_seconds: float = 120.0
    #: An unfinished job with no chunk answered for this long expires.
    job_idle_seconds: float = 600.0
    #: An unfinished job expires this long after it started, however it is kept answered.
    job_max_seconds: float = 3600.0
    #: A finished or expired job is remembered this long (resent starts and late answers).
    job_keep_seconds: float = 600.0
    #: Unfinished jobs one client address may have started. As many as the whole board holds
    #: (MAX_ACTIVE_JOBS), so a class behind one NAT can start every job the board takes, as
    #: the same class with an address each could; a public server may lower it, and behind a
    #: trusted proxy it counts each student.
    jobs_per_address: int = MAX_ACTIVE_JOBS
    #: 2 sends each chunk to two different pages and counts it only when their answers agree.
    replicas: int = 1
    #: False serves without COOP/COEP: no SharedArrayBuffer, so Cancel must restart the worker.
    isolation: bool = True
    #: Stored results may take this many bytes; beyond it the oldest are deleted (retention).
    storage_budget_bytes: int = 512 * 1024 * 1024
    #: With a Redis URL, hub, presence, results and jobs are shared by every process using it.
    redis_url: str | None = None
