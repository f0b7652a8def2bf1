"""`python -m bench.echo --port P`: a bare aiohttp WebSocket echo server, the socket RTT baseline.

It runs in its own process like Offload's server does, so both round trips cross the same kinds
of boundaries; the only difference left is what Offload's server does per message.
"""

from __future__ import annotations

import argparse
import asyncio

from aiohttp import WSMsgType, web

READY_LINE = "echo ready"


async def echo(request: web.Request) -> web.WebSocketResponse:
    ws = web.WebSocketResponse()
    await ws.prepare(request)
    async for message in ws:
        if message.type == WSMsgType.TEXT:
            await ws.send_str(message.data)
    return ws


async def serve(port: int) -> None:
    app = web.Application()
    app.router.add_get("/", echo)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    print(READY_LINE, flush=True)
    await asyncio.Event().wait()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.echo")
    parser.add_argument("--port", type=int, required=True)
    asyncio.run(serve(parser.parse_args().port))


if __name__ == "__main__":
    main()
