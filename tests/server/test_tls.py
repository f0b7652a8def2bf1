"""`--tls-cert`/`--tls-key`: https and wss with the same headers; bad files are one sentence."""

from __future__ import annotations

import asyncio
import ssl
from pathlib import Path

import pytest
from aiohttp import ClientSession

from server.headers import ISOLATION_HEADERS
from server.tls import load_context
from support.certificate import Certificate, make_certificate, openssl_binary
from support.server import RunningServer, free_port
from tests.server.test_main import assert_one_sentence, failure, run_server

pytestmark = pytest.mark.skipif(openssl_binary() is None, reason="no openssl command")


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    return make_certificate(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="module")
def other_certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    return make_certificate(tmp_path_factory.mktemp("other-tls"))


def test_a_certificate_and_its_key_make_a_server_context(certificate: Certificate) -> None:
    assert isinstance(load_context(certificate.cert, certificate.key), ssl.SSLContext)


def test_a_missing_certificate_is_one_sentence(tmp_path: Path, certificate: Certificate) -> None:
    with pytest.raises(ValueError, match=r"Cannot read the TLS certificate .*--tls-cert"):
        load_context(tmp_path / "absent.pem", certificate.key)


def test_a_missing_key_is_one_sentence(tmp_path: Path, certificate: Certificate) -> None:
    with pytest.raises(ValueError, match=r"Cannot read the TLS key .*--tls-key"):
        load_context(certificate.cert, tmp_path / "absent.pem")


def test_a_key_of_another_certificate_is_named_as_such(
    certificate: Certificate, other_certificate: Certificate
) -> None:
    with pytest.raises(ValueError, match="does not belong to the certificate"):
        load_context(certificate.cert, other_certificate.key)


def test_a_file_that_is_not_pem_is_one_sentence(tmp_path: Path, certificate: Certificate) -> None:
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a certificate\n")
    with pytest.raises(ValueError, match="must be PEM files"):
        load_context(garbage, certificate.key)


async def test_the_server_serves_https_and_wss_with_the_isolation_headers(
    dist: Path, tmp_path: Path, certificate: Certificate
) -> None:
    process = await run_server(
        *("--port", "0", "--dist", str(dist), "--data-dir", str(tmp_path / "data")),
        *("--tls-cert", str(certificate.cert), "--tls-key", str(certificate.key)),
    )
    assert process.stdout is not None
    try:
        line = (await asyncio.wait_for(process.stdout.readline(), 60)).decode()
        assert line.startswith("Offload is serving https://127.0.0.1:"), line
        url = line.removeprefix("Offload is serving ").strip()
        trusting = ssl.create_default_context(cafile=certificate.cert)
        async with ClientSession() as session:
            async with session.get(url, ssl=trusting) as response:
                assert response.status == 200
                for name, value in ISOLATION_HEADERS.items():
                    assert response.headers[name] == value
            wss = url.replace("https://", "wss://") + "ws"
            async with session.ws_connect(wss, ssl=trusting) as ws:
                hello = await ws.receive_json(timeout=30)
                assert hello["type"] == "hello"
                for name, value in ISOLATION_HEADERS.items():
                    assert ws._response.headers[name] == value
    finally:
        process.terminate()
        await process.wait()


#: What the server says when this file is the wrong one (an absent certificate, another's key).
WRONG_FILE_SAYS = {
    "cert": "Cannot read the TLS certificate",
    "key": "does not belong to the certificate",
}


@pytest.mark.parametrize("wrong", sorted(WRONG_FILE_SAYS))
async def test_a_wrong_tls_file_stops_the_server_with_one_sentence_and_exit_2(
    dist: Path,
    tmp_path: Path,
    certificate: Certificate,
    other_certificate: Certificate,
    wrong: str,
) -> None:
    cert = tmp_path / "absent.pem" if wrong == "cert" else certificate.cert
    key = other_certificate.key if wrong == "key" else certificate.key
    code, stderr = await failure(
        *("--port", "0", "--dist", str(dist), "--data-dir", str(tmp_path / "data")),
        *("--tls-cert", str(cert), "--tls-key", str(key)),
    )
    assert code == 2
    assert_one_sentence(stderr)
    assert WRONG_FILE_SAYS[wrong] in stderr


async def test_a_certificate_without_a_key_is_a_usage_error() -> None:
    code, stderr = await failure("--tls-cert", "cert.pem")
    assert code == 2
    assert_one_sentence(stderr)
    assert "--tls-cert and --tls-key go together" in stderr


async def test_the_test_server_serves_a_named_https_origin(
    dist: Path, tmp_path: Path, certificate: Certificate
) -> None:
    server = RunningServer(
        port=free_port(),
        data_dir=tmp_path / "data",
        log_dir=tmp_path / "logs",
        extra_args=["--dist", str(dist)],
        name="class.test",
        tls=certificate,
    ).start()
    try:
        assert server.url == f"https://class.test:{server.port}/"
        assert server.ws_url == f"wss://class.test:{server.port}/ws"
        assert server.resolver_rule == "MAP class.test 127.0.0.1"
        # What a browser sends once `resolver_rule` sends class.test to 127.0.0.1.
        named = {"Host": f"class.test:{server.port}"}
        trusting = ssl.create_default_context(cafile=certificate.cert)
        async with ClientSession() as session:
            loopback = f"https://127.0.0.1:{server.port}/"
            async with session.get(loopback, ssl=trusting, headers=named) as response:
                assert response.status == 200
    finally:
        server.stop()
