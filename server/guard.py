"""The HTTP layer's guards: which Host names are served, how many connections, quiet failures.

- DNS rebinding: a page on `evil.example` whose name is re-pointed at 127.0.0.1 talks to this
  server with `Host: evil.example` (and a matching Origin, so the Origin check alone passes).
  Every request's Host must name this server: what it was told to serve as (`--host`, each
  `--public-name`, an `--allow-origin`'s host) and the loopback names for a loopback bind;
  refused with 421 on every route, `/ws` and `/api/` included.
- Connection caps, in total and per client address, counted when the TCP connection opens, so
  half-open or slow-header connections count too; over a cap the connection gets a 503 and is
  closed, with one log line per interval however many are refused. A `--trusted-proxy` peer is
  exempt from the per-address cap: its requests are counted per forwarded client instead
  (`server/clients.py`).
- A header-read timeout (aiohttp's keep-alive timer also runs from the moment a connection
  opens, so it doubles as one), and parser errors (400 for a malformed request) answered with
  the security headers, logged as one line, never a traceback per connection.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import resource
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

from aiohttp import hdrs, web
from aiohttp.web_protocol import RequestHandler

from server.config import Settings
from server.headers import SECURITY_HEADERS, SERVER_NAME, UNISOLATED_HEADERS
from server.proxy import TrustedProxies

log = logging.getLogger(__name__)

LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
WILDCARD_BINDS = frozenset({"", "0.0.0.0", "::"})
#: At most one "refusing connections" line per this many seconds.
LOG_INTERVAL = 10.0


def hostname_of(host_header: str) -> str | None:
    """The host name of a `Host` header value, lower-cased, without port or brackets."""
    try:
        return urlsplit(f"//{host_header.strip()}").hostname
    except ValueError:
        return None


def is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def is_loopback(name: str) -> bool:
    return name == "localhost" or (is_ip(name) and ipaddress.ip_address(name).is_loopback)


class HostCheck:
    """Whether a request's `Host` names this server (no I/O)."""

    def __init__(
        self, bind: str, allow_origins: Iterable[str], public_names: Iterable[str] = ()
    ) -> None:
        bind = bind.strip("[]").lower()
        self.names = {bind} - WILDCARD_BINDS
        self.names |= {h for o in allow_origins if (h := urlsplit(o.strip()).hostname)}
        self.names |= {h for n in public_names if (h := hostname_of(n))}
        if is_loopback(bind) or bind in WILDCARD_BINDS:
            self.names |= LOOPBACK_NAMES
        # Bound to every address, the server cannot know all its names, but an IP literal can
        # never be rebound (rebinding needs a DNS name), so any IP is safe to accept then.
        self.any_ip = bind in WILDCARD_BINDS

    def allows(self, host_header: str | None) -> bool:
        """True for a Host naming this server; no Host at all (HTTP/1.0, scripts) is allowed."""
        if host_header is None:
            return True
        name = hostname_of(host_header)
        if name is None:
            return False
        return name in self.names or (self.any_ip and is_ip(name))


def host_middleware(check: HostCheck) -> Callable[..., Awaitable[web.StreamResponse]]:
    """A middleware refusing, with 421 Misdirected Request, any Host that is not this server."""

    @web.middleware
    async def refuse_foreign_hosts(
        request: web.Request,
        handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
    ) -> web.StreamResponse:
        if not check.allows(request.headers.get(hdrs.HOST)):
            return web.Response(
                status=421,
                text="This server does not serve that host name (Host header refused).\n",
            )
        return await handler(request)

    return refuse_foreign_hosts


class RateLimitedLog:
    """Counts events and logs them at most once per LOG_INTERVAL seconds."""

    def __init__(self, message: str) -> None:
        self.message = message
        self.count = 0
        self._logged_at = -LOG_INTERVAL

    def event(self) -> None:
        self.count += 1
        now = time.monotonic()
        if now - self._logged_at >= LOG_INTERVAL:
            log.warning(self.message, self.count)
            self._logged_at = now
            self.count = 0


BUSY_TEXT = b"Too many connections: try again shortly.\n"
# Written straight to the socket: the connection is refused before aiohttp parses anything.
BUSY_RESPONSE = (
    b"HTTP/1.1 503 Service Unavailable\r\n"
    + f"Server: {SERVER_NAME}\r\n".encode()
    + b"Content-Type: text/plain; charset=utf-8\r\nRetry-After: 5\r\nConnection: close\r\n"
    + f"Content-Length: {len(BUSY_TEXT)}\r\n".encode()
    + "".join(f"{k}: {v}\r\n" for k, v in UNISOLATED_HEADERS.items()).encode()
    + b"\r\n"
    + BUSY_TEXT
)


class GuardedHandler(RequestHandler):
    """aiohttp's per-connection protocol, with quiet parser errors that carry our headers."""

    def handle_error(
        self,
        request: Any,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        """Answer as aiohttp does, plus the security headers and no version in `Server`."""
        response = super().handle_error(request, status, exc, message)
        response.headers.update(self.security_headers)
        response.headers[hdrs.SERVER] = SERVER_NAME
        return response

    def log_exception(self, *args: Any, **kw: Any) -> None:
        """One line, not a traceback: a malformed request is the client's problem, not ours."""
        exc = kw.get("exc_info")
        detail = f": {exc!r}" if isinstance(exc, BaseException) else ""
        log.info("%s%s", args[0] % args[1:] if len(args) > 1 else args[0], detail)

    @property
    def security_headers(self) -> Mapping[str, str]:
        manager = self._manager
        if isinstance(manager, GuardedServer) and manager.settings.isolation:
            return SECURITY_HEADERS
        return UNISOLATED_HEADERS


class GuardedServer(web.Server):
    """aiohttp's server (the protocol factory), counting connections in total and per address."""

    def __init__(self, *args: Any, settings: Settings, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.settings = settings
        self.trusted = TrustedProxies.parse(settings.trusted_proxies)
        self.open = 0
        self.by_address: dict[str, int] = {}
        self._addresses: dict[RequestHandler, str] = {}
        self._refused = RateLimitedLog(
            "refused %d connection(s) over the caps "
            f"({settings.max_connections} in all, {settings.max_connections_per_address} "
            "per address) in the last interval"
        )

    def __call__(self) -> RequestHandler:
        # web.Server.__call__ with our handler class (same arguments).
        return GuardedHandler(self, loop=self._loop, **self._kwargs)

    def connection_made(self, handler: RequestHandler, transport: asyncio.Transport) -> None:
        peer = transport.get_extra_info("peername")
        address = peer[0] if isinstance(peer, tuple) else ""
        if self.open >= self.settings.max_connections or (
            self.by_address.get(address, 0) >= self.settings.max_connections_per_address
            and not self.trusted.trusts(address)
        ):
            self._refused.event()
            transport.write(BUSY_RESPONSE)
            transport.close()
            return
        super().connection_made(handler, transport)
        self.open += 1
        self.by_address[address] = self.by_address.get(address, 0) + 1
        self._addresses[handler] = address

    def connection_lost(self, handler: RequestHandler, exc: BaseException | None = None) -> None:
        super().connection_lost(handler, exc)
        address = self._addresses.pop(handler, None)
        if address is None:
            return  # refused at connection_made, never counted
        self.open -= 1
        left = self.by_address[address] - 1
        if left:
            self.by_address[address] = left
        else:
            del self.by_address[address]


class GuardedRunner(web.AppRunner):
    """`web.AppRunner` serving through `GuardedServer`; used by `python -m server` and tests."""

    def __init__(self, app: web.Application, settings: Settings, **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        self.settings = settings

    async def _make_server(self) -> web.Server:
        plain = await super()._make_server()
        # Same handler, request factory and handler arguments as the app made; our class.
        return GuardedServer(
            plain.request_handler,
            request_factory=plain.request_factory,
            handler_cancellation=plain.handler_cancellation,
            loop=asyncio.get_running_loop(),
            settings=self.settings,
            **plain._kwargs,
        )


class OneLine(logging.Filter):
    """Turns a record's traceback into one line (aiohttp logs some parser errors directly)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.exc_info[1] is not None:
            record.msg = f"{record.getMessage()}: {record.exc_info[1]!r}"
            record.args = None
            record.exc_info = None
            record.exc_text = None
        return True


HTTP_LOG = logging.getLogger("server.http")
HTTP_LOG.addFilter(OneLine())


def handler_args(settings: Settings) -> dict[str, Any]:
    """aiohttp request-handler arguments (`web.Application(handler_args=...)`)."""
    return {
        # Runs from the moment a connection opens until its request's headers are in, and
        # between requests on a kept-alive connection: slow or silent clients are closed.
        "keepalive_timeout": settings.header_timeout_seconds,
        "logger": HTTP_LOG,
    }


#: File descriptors kept free for the store, logs and listening sockets.
SPARE_DESCRIPTORS = 64


def fit_descriptor_limit(settings: Settings) -> int:
    """Raise the open-files limit toward what the connection cap needs; return the usable cap.

    A cap above the process's file-descriptor limit would let `accept()` fail with EMFILE
    (which asyncio logs with a traceback every time) before the cap ever refused anyone.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = settings.max_connections + SPARE_DESCRIPTORS
    if soft != resource.RLIM_INFINITY and soft < wanted:
        raised = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (raised, hard))
            soft = raised
        except (ValueError, OSError):
            pass
    if soft == resource.RLIM_INFINITY:
        return settings.max_connections
    return max(1, min(settings.max_connections, soft - SPARE_DESCRIPTORS))


def quiet_accept_errors(loop: asyncio.AbstractEventLoop) -> None:
    """Log asyncio's accept() failures (EMFILE, ENFILE...) as one rate-limited line."""
    accept_failed = RateLimitedLog("accept() failed %d time(s) in the last interval: out of files")
    default = loop.get_exception_handler()

    def handle(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        if str(context.get("message", "")).startswith("socket.accept() out of system resource"):
            accept_failed.event()
        elif default is not None:
            default(loop, context)
        else:
            loop.default_exception_handler(context)

    loop.set_exception_handler(handle)
