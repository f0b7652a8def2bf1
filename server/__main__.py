"""`python -m server`: parse flags, check the site exists, serve until SIGINT/SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import errno
import logging
import os
import signal
import sys
from dataclasses import replace
from pathlib import Path
from typing import NoReturn
from urllib.parse import urlsplit

from aiohttp import web

from server.app import make_app
from server.config import Settings
from server.engines import StorageError
from server.guard import (
    GuardedRunner,
    fit_descriptor_limit,
    hostname_of,
    is_loopback,
    quiet_accept_errors,
)
from server.proxy import parse_network
from server.state import STORE
from server.tls import load_context

USAGE_EXIT = 2


class UsageError(Exception):
    """A problem the user can fix; its message is the one sentence printed."""


class Parser(argparse.ArgumentParser):
    """argparse, but a bad flag is one sentence on stderr, not the usage block."""

    def error(self, message: str) -> NoReturn:
        fail(f"{message[:1].upper()}{message[1:]}: run 'python -m server --help' for the flags.")


def fail(sentence: str) -> NoReturn:
    print(sentence, file=sys.stderr, flush=True)
    raise SystemExit(USAGE_EXIT)


def add_reach_flags(parser: argparse.ArgumentParser) -> None:
    """The flags for serving other machines: TLS, names, proxies and other origins."""
    reach = parser.add_argument_group("reaching a class (see docs/hosting.md)")
    reach.add_argument("--tls-cert", type=Path, metavar="FILE", help="PEM certificate: serve https")
    reach.add_argument("--tls-key", type=Path, metavar="FILE", help="PEM private key of --tls-cert")
    reach.add_argument(
        "--public-name",
        action="append",
        default=[],
        metavar="NAME",
        help="a name students reach this server by besides --host, e.g. class.example.org "
        "(a reverse proxy's public name; repeatable)",
    )
    reach.add_argument(
        "--trusted-proxy",
        action="append",
        default=[],
        metavar="ADDR",
        help="a reverse proxy's address or CIDR block whose X-Forwarded-For names the client, "
        "so per-address limits count students (repeatable)",
    )
    reach.add_argument(
        "--allow-origin",
        action="append",
        default=[],
        metavar="ORIGIN",
        help="another origin whose pages may open /ws and read /api/, e.g. "
        "https://school.example (a static host; repeatable)",
    )


def check_reach_flags(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Refuse, with one sentence, reach flags that cannot mean anything."""
    if (args.tls_cert is None) != (args.tls_key is None):
        parser.error("--tls-cert and --tls-key go together: pass both, or neither for plain http")
    for proxy in args.trusted_proxy:
        try:
            parse_network(proxy)
        except ValueError as exc:
            parser.error(str(exc))
    for name in args.public_name:
        if hostname_of(name) != name.strip().lower().strip("[]"):
            parser.error(f"--public-name {name} is not a host name (no scheme, port or path)")
    for origin in args.allow_origin:
        try:
            parts = urlsplit(origin)
            usable = parts.scheme in ("http", "https") and parts.hostname is not None
        except ValueError:  # e.g. an unclosed [IPv6 bracket
            usable = False
        if not usable or parts.path.strip("/"):
            parser.error(f"--allow-origin {origin} is not an origin like https://school.example")


def parse_args(argv: list[str] | None = None) -> Settings:
    """Turn the command line into Settings (exits 2 with one sentence on a bad flag)."""
    defaults = Settings()
    parser = Parser(prog="python -m server", description="Serve Offload's built site and /ws.")
    parser.add_argument("--host", default=defaults.host, help="address to bind (127.0.0.1)")
    parser.add_argument("--port", type=int, default=defaults.port, help="port (8765; 0 = any)")
    parser.add_argument("--data-dir", type=Path, default=defaults.data_dir, help="results db")
    parser.add_argument("--dist", type=Path, default=defaults.dist, help="the built site")
    add_reach_flags(parser)
    parser.add_argument(
        "--max-frame-bytes", type=int, default=defaults.max_frame_bytes, help="64 KiB"
    )
    parser.add_argument(
        "--rate", type=float, default=defaults.rate_per_second, help="messages/s per client"
    )
    parser.add_argument(
        "--burst", type=int, default=defaults.rate_burst, help="message burst per client"
    )
    parser.add_argument(
        "--heartbeat", type=float, default=defaults.heartbeat_seconds, help="ping interval (s)"
    )
    parser.add_argument(
        "--storage-budget-mb",
        type=float,
        default=defaults.storage_budget_bytes / 2**20,
        metavar="MB",
        help="stored results may take this much; the oldest go first beyond it (512)",
    )
    parser.add_argument(
        "--redis",
        default=os.environ.get("OFFLOAD_REDIS_URL") or None,
        metavar="URL",
        help="share hub, results and jobs with other processes through Redis, e.g. "
        "redis://127.0.0.1:6379/0 (default: $OFFLOAD_REDIS_URL; without it, one process + SQLite)",
    )
    limits = parser.add_argument_group("limits (see docs/security.md)")
    limits.add_argument(
        "--header-timeout",
        type=float,
        default=defaults.header_timeout_seconds,
        metavar="S",
        help="seconds to send request headers (10)",
    )
    limits.add_argument(
        "--max-connections", type=int, default=defaults.max_connections, metavar="N"
    )
    limits.add_argument(
        "--max-connections-per-address",
        type=int,
        default=defaults.max_connections_per_address,
        metavar="N",
        help="one NAT may hide a whole classroom (1024)",
    )
    limits.add_argument(
        "--address-mb-per-hour",
        type=float,
        default=defaults.address_bytes_per_hour / 2**20,
        metavar="MB",
        help="result bytes one address may store per hour (64)",
    )
    limits.add_argument(
        "--lease", type=float, default=defaults.lease_seconds, metavar="S", help="chunk lease (120)"
    )
    limits.add_argument(
        "--jobs-per-address", type=int, default=defaults.jobs_per_address, metavar="N"
    )
    limits.add_argument(
        "--replicate",
        action="store_true",
        help="send each chunk to two pages and count it only when both answers agree "
        "(not with --redis, which sends each chunk to one page)",
    )
    limits.add_argument(
        "--compress",
        action="store_true",
        help="permessage-deflate on /ws (about 7x the memory per connection; off by default)",
    )
    parser.add_argument(
        "--no-isolation",
        action="store_true",
        help="leave out COOP/COEP, to see the page without SharedArrayBuffer (Cancel restarts)",
    )
    args = parser.parse_args(argv)
    if not 0 <= args.port <= 65535:
        parser.error(f"--port {args.port} is not a port number (0 to 65535)")
    for flag in ("header_timeout", "max_connections", "max_connections_per_address", "lease"):
        if not getattr(args, flag) > 0:
            parser.error(f"--{flag.replace('_', '-')} {getattr(args, flag)} must be more than 0")
    if not args.storage_budget_mb > 0:
        parser.error(f"--storage-budget-mb {args.storage_budget_mb} must be more than 0")
    if args.redis is not None and args.replicate:
        parser.error("--replicate is not supported with --redis yet (each chunk goes to one page)")
    if args.redis is not None and not args.redis.startswith(("redis://", "rediss://", "unix://")):
        parser.error(f"--redis {args.redis} is not a redis://, rediss:// or unix:// URL")
    check_reach_flags(parser, args)
    return Settings(
        dist=args.dist,
        data_dir=args.data_dir,
        host=args.host,
        port=args.port,
        allow_origins=tuple(args.allow_origin),
        public_names=tuple(args.public_name),
        trusted_proxies=tuple(args.trusted_proxy),
        tls_cert=args.tls_cert,
        tls_key=args.tls_key,
        max_frame_bytes=args.max_frame_bytes,
        rate_per_second=args.rate,
        rate_burst=args.burst,
        heartbeat_seconds=args.heartbeat,
        isolation=not args.no_isolation,
        storage_budget_bytes=int(args.storage_budget_mb * 2**20),
        redis_url=args.redis,
        header_timeout_seconds=args.header_timeout,
        max_connections=args.max_connections,
        max_connections_per_address=args.max_connections_per_address,
        address_bytes_per_hour=int(args.address_mb_per_hour * 2**20),
        lease_seconds=args.lease,
        jobs_per_address=args.jobs_per_address,
        replicas=2 if args.replicate else 1,
        compression=args.compress,
    )


def url_of(host: str, port: int, tls: bool = False) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"{'https' if tls else 'http'}://{shown}:{port}/"


def insecure_warning(settings: Settings) -> str | None:
    """The one warning for plain http on an address other machines reach, else None.

    Only loopback makes plain http a secure context; everywhere else the browser withholds
    what the page's best parts need (docs/hosting.md says which and how to get them back).
    """
    if settings.tls_cert is not None or is_loopback(settings.host.strip("[]")):
        return None
    return (
        f"Warning: plain http on {settings.host} is not a secure context for the other machines "
        "of the class: their pages start Python without the start-up snapshot, work offline "
        "not at all (no service worker), and have no SharedArrayBuffer, so Cancel restarts the "
        "worker and input() is off. Serve https with --tls-cert FILE --tls-key FILE, or behind "
        "an https reverse proxy: see docs/hosting.md."
    )


async def serve(settings: Settings) -> None:
    """Run the app until a signal arrives, then shut down cleanly (sockets 1001, store flushed)."""
    tls = None
    if settings.tls_cert is not None and settings.tls_key is not None:
        try:
            tls = load_context(settings.tls_cert, settings.tls_key)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    usable = fit_descriptor_limit(settings)
    if usable < settings.max_connections:
        print(
            f"Note: the open-files limit allows {usable} connections, not "
            f"--max-connections {settings.max_connections}.",
            file=sys.stderr,
            flush=True,
        )
        settings = replace(settings, max_connections=usable)
    quiet_accept_errors(asyncio.get_running_loop())
    app = make_app(settings)
    runner = GuardedRunner(app, settings, access_log=None, handle_signals=False)
    try:
        await runner.setup()
    except StorageError as exc:
        await runner.cleanup()
        raise UsageError(str(exc)) from None
    except OSError as exc:
        await runner.cleanup()
        raise UsageError(
            f"Cannot open the data folder {settings.data_dir} ({exc.strerror or exc}): "
            "pass a writable folder with --data-dir."
        ) from None
    site = web.TCPSite(runner, settings.host, settings.port, ssl_context=tls)
    try:
        await site.start()
    except OSError as exc:
        await runner.cleanup()
        if exc.errno == errno.EADDRINUSE:
            raise UsageError(
                f"Port {settings.port} on {settings.host} is already in use: "
                "stop the other server or pass --port N."
            ) from None
        raise UsageError(
            f"Cannot listen on {settings.host}:{settings.port} ({exc.strerror}): "
            "pass a local address with --host, e.g. 127.0.0.1."
        ) from None
    port = runner.addresses[0][1] if runner.addresses else settings.port
    print(f"Offload is serving {url_of(settings.host, port, tls is not None)}", flush=True)
    if (warning := insecure_warning(settings)) is not None:
        print(warning, file=sys.stderr, flush=True)
    # After the URL line (tools wait for that line first): what an acknowledgement promises.
    print(f"Durability: {app[STORE].facts.durability}.", flush=True)

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await runner.cleanup()


def main(argv: list[str] | None = None) -> None:
    """Entry point of `python -m server`."""
    settings = parse_args(argv)
    if not (settings.dist / "web" / "index.html").is_file():
        fail(
            f"There is no built site at {settings.dist}/web/index.html: "
            "run 'python3 build.py build' first or pass --dist DIR."
        )
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        asyncio.run(serve(settings))
    except UsageError as exc:
        fail(str(exc))


if __name__ == "__main__":
    main()
