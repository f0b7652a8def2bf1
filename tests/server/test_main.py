"""`python -m server` as a user runs it: the URL line, clear failures, clean shutdown, crashes."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from aiohttp import ClientSession, WSCloseCode, WSMsgType

from server.__main__ import insecure_warning, parse_args
from server.config import Settings
from tests.server.test_websocket import result_message

ROOT = Path(__file__).resolve().parents[2]


async def run_server(*args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "server",
        *args,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


@asynccontextmanager
async def serving(
    dist: Path, data_dir: Path
) -> AsyncIterator[tuple[asyncio.subprocess.Process, str]]:
    """A real server on a free port; yields the process and its URL from the printed line."""
    process = await run_server("--port", "0", "--dist", str(dist), "--data-dir", str(data_dir))
    assert process.stdout is not None
    line = (await asyncio.wait_for(process.stdout.readline(), 60)).decode()
    try:
        assert line.startswith("Offload is serving http://127.0.0.1:"), line
        yield process, line.removeprefix("Offload is serving ").strip()
    finally:
        if process.returncode is None:
            process.kill()
        await process.wait()


async def failure(*args: str) -> tuple[int, str]:
    process = await run_server(*args)
    _, stderr = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, stderr.decode()


def assert_one_sentence(stderr: str) -> None:
    assert len(stderr.strip().splitlines()) == 1, stderr
    assert "Traceback" not in stderr


async def test_a_busy_port_is_one_sentence_and_exit_2(dist: Path, tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        code, stderr = await failure(
            "--port", port, "--dist", str(dist), "--data-dir", str(tmp_path)
        )
    assert code == 2
    assert_one_sentence(stderr)
    assert f"Port {port} on 127.0.0.1 is already in use" in stderr
    assert "--port N" in stderr


async def test_a_missing_site_is_one_sentence_and_exit_2(tmp_path: Path) -> None:
    code, stderr = await failure("--port", "0", "--dist", str(tmp_path / "nowhere"))
    assert code == 2
    assert_one_sentence(stderr)
    assert "build.py build" in stderr


@pytest.mark.parametrize("args", [["--bogus"], ["--port", "eighty"], ["--port", "70000"]])
async def test_a_bad_flag_is_one_sentence_and_exit_2(args: list[str]) -> None:
    code, stderr = await failure(*args)
    assert code == 2
    assert_one_sentence(stderr)
    assert "--help" in stderr


def test_replicate_with_redis_is_refused_not_dropped(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        parse_args(["--redis", "redis://127.0.0.1:6379/0", "--replicate"])
    assert exit_.value.code == 2
    stderr = capsys.readouterr().err
    assert_one_sentence(stderr)
    assert "--replicate is not supported with --redis" in stderr
    assert parse_args(["--replicate"]).replicas == 2


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
async def test_a_signal_closes_sockets_with_1001_and_exits_0(
    dist: Path, tmp_path: Path, sig: signal.Signals
) -> None:
    async with serving(dist, tmp_path / "data") as (process, url), ClientSession() as session:
        ws = await session.ws_connect(f"{url}ws")
        assert (await ws.receive_json(timeout=30))["type"] == "hello"
        await ws.send_json(result_message("before-shutdown"))
        while (await ws.receive_json(timeout=30))["type"] != "ack":
            pass
        process.send_signal(sig)
        while (message := await ws.receive(timeout=30)).type not in (
            WSMsgType.CLOSE,
            WSMsgType.CLOSED,
        ):
            pass
        assert message.data == WSCloseCode.GOING_AWAY
        assert await asyncio.wait_for(process.wait(), 60) == 0
        await ws.close()


async def test_acked_results_survive_kill_9(dist: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    ids = [f"r-{n}" for n in range(25)]
    async with (
        serving(dist, data) as (process, url),
        ClientSession() as session,
        session.ws_connect(f"{url}ws") as ws,
    ):
        for message_id in ids:
            await ws.send_json(result_message(message_id))
            while (await ws.receive_json(timeout=30)).get("id") != message_id:
                pass
        os.kill(process.pid, signal.SIGKILL)
        await process.wait()
    async with (
        serving(dist, data) as (_, url),
        ClientSession() as session,
        session.get(f"{url}api/results") as response,
    ):
        stored = {r["id"] for r in await response.json()}
    assert stored == set(ids)


async def test_a_data_dir_that_cannot_be_made_is_one_sentence_and_exit_2(
    dist: Path, tmp_path: Path
) -> None:
    not_a_folder = tmp_path / "a-file"
    not_a_folder.write_text("in the way")
    code, stderr = await failure(
        "--port", "0", "--dist", str(dist), "--data-dir", str(not_a_folder)
    )
    assert code == 2
    assert_one_sentence(stderr)
    assert str(not_a_folder) in stderr


# ---- reaching a class (issue 22) -------------------------------------------------------------


def test_the_reach_flags_become_settings() -> None:
    settings = parse_args(
        [
            *("--public-name", "class.test", "--public-name", "proxy.school.example"),
            *("--trusted-proxy", "127.0.0.1", "--trusted-proxy", "10.0.0.0/8"),
            *("--allow-origin", "https://school.example"),
            *("--tls-cert", "cert.pem", "--tls-key", "key.pem"),
        ]
    )
    assert settings.public_names == ("class.test", "proxy.school.example")
    assert settings.trusted_proxies == ("127.0.0.1", "10.0.0.0/8")
    assert settings.allow_origins == ("https://school.example",)
    assert (settings.tls_cert, settings.tls_key) == (Path("cert.pem"), Path("key.pem"))


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--trusted-proxy", "proxy.example"], "not an IP address or a CIDR block"),
        (["--public-name", "https://class.test"], "is not a host name"),
        (["--public-name", "class.test:8443"], "is not a host name"),
        (["--allow-origin", "school.example"], "is not an origin"),
        (["--tls-key", "key.pem"], "--tls-cert and --tls-key go together"),
    ],
)
def test_a_bad_reach_flag_is_one_sentence_and_exit_2(
    capsys: pytest.CaptureFixture[str], args: list[str], said: str
) -> None:
    with pytest.raises(SystemExit) as exit_:
        parse_args(args)
    assert exit_.value.code == 2
    stderr = capsys.readouterr().err
    assert_one_sentence(stderr)
    assert said in stderr


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "[::1]", "127.0.0.2"])
def test_loopback_needs_no_warning(host: str) -> None:
    assert insecure_warning(Settings(host=host)) is None


@pytest.mark.parametrize("host", ["192.168.1.20", "0.0.0.0", "::", "class.example"])
def test_plain_http_elsewhere_warns_what_students_lose_and_how_to_fix_it(host: str) -> None:
    warning = insecure_warning(Settings(host=host))
    assert warning is not None
    assert len(warning.splitlines()) == 1
    for lost in ("not a secure context", "snapshot", "service worker", "SharedArrayBuffer"):
        assert lost in warning
    assert "Cancel restarts the worker" in warning
    assert "input() is off" in warning
    for fix in ("--tls-cert FILE --tls-key FILE", "reverse proxy", "docs/hosting.md"):
        assert fix in warning


def test_tls_needs_no_warning_anywhere() -> None:
    settings = Settings(host="0.0.0.0", tls_cert=Path("c.pem"), tls_key=Path("k.pem"))
    assert insecure_warning(settings) is None


async def test_serving_a_lan_over_plain_http_prints_the_warning_once(
    dist: Path, tmp_path: Path
) -> None:
    process = await run_server(
        *("--host", "0.0.0.0", "--port", "0", "--dist", str(dist)),
        *("--data-dir", str(tmp_path / "data")),
    )
    assert process.stdout is not None
    assert process.stderr is not None
    try:
        line = (await asyncio.wait_for(process.stdout.readline(), 60)).decode()
        assert line.startswith("Offload is serving http://0.0.0.0:"), line
        warning = (await asyncio.wait_for(process.stderr.readline(), 60)).decode()
        assert warning.startswith("Warning: plain http on 0.0.0.0 is not a secure context")
    finally:
        process.terminate()
        _, rest = await asyncio.wait_for(process.communicate(), 60)
    assert b"Warning" not in rest


async def test_serving_loopback_prints_no_warning(dist: Path, tmp_path: Path) -> None:
    async with serving(dist, tmp_path / "data") as (process, _):
        process.terminate()
        assert process.stderr is not None
        assert b"Warning" not in await asyncio.wait_for(process.stderr.read(), 60)
