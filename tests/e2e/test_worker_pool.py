"""WorkerPool in a real Chromium: jobs spread over workers, a declared range split into parts."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import pytest

from offload.tasks.mandelbrot import render
from tests.e2e.conftest import CRASH, ClientPage

pytestmark = pytest.mark.e2e

IMAGE = {"width": 120, "height": 90, "max_iter": 120}

# Booting Pyodide is the slow part of these tests: one pool of two serves them all (a test that
# crashes a worker checks that the pool comes back, which is the point).
POOL = "const pool = window.pool;"


@pytest.fixture(scope="module")
def pool(client: ClientPage) -> Iterator[ClientPage]:
    client.run("window.pool = await WorkerPool.start({ size: 2 });")
    yield client
    client.run("window.pool.terminate();")


DIGEST = """
const digest = async (buffer) => [...new Uint8Array(await crypto.subtle.digest("SHA-256", buffer))]
  .map((b) => b.toString(16).padStart(2, "0")).join("");
"""


def test_a_split_image_is_exactly_the_bytes_of_one_run(pool: ClientPage) -> None:
    got = pool.run(
        POOL
        + DIGEST
        + """
        const draw = async (parts) => {
          const bands = [];
          let lastProgress = null;
          const buffer = await pool.runSplit("mandelbrot", arg, {
            parts,
            onPart: ({ start, stop, value }) => bands.push([start, stop, value.byteLength]),
            onProgress: (done, total) => { lastProgress = [done, total]; },
          }).result;
          return { length: buffer.byteLength, sha256: await digest(buffer),
                   bands: bands.sort((a, b) => a[0] - b[0]), lastProgress };
        };
        return [await draw(undefined), await draw(7), await draw(1)];
        """,
        IMAGE,
    )
    width, height = IMAGE["width"], IMAGE["height"]
    native = hashlib.sha256(render(width, height, 120)).hexdigest()
    assert [len(result["bands"]) for result in got] == [8, 7, 1]  # default: 4 parts per worker
    for result in got:
        assert result["length"] == width * height * 4
        assert result["sha256"] == native
        rows = [row for start, stop, _ in result["bands"] for row in range(start, stop)]
        assert rows == list(range(height))  # every row exactly once
        assert all(n == (stop - start) * width * 4 for start, stop, n in result["bands"])
        assert result["lastProgress"] == [height, height]


def test_the_default_size_is_the_core_count_up_to_four(client: ClientPage) -> None:
    got = client.run(
        """
        const pool = new WorkerPool();
        const size = pool.size;
        pool.terminate();
        return { size, cores: navigator.hardwareConcurrency };
        """
    )
    assert got["size"] == min(got["cores"], 4)


def test_jobs_run_side_by_side_and_a_crashed_worker_is_replaced(pool: ClientPage) -> None:
    got = pool.run(
        POOL
        + """
        const restarts = pool.restarts;
        const crash = arg;
        const [crashed, primes] = await Promise.all([
          outcome(pool.run("run_code", { code: crash }).result),
          outcome(pool.run("primes", { n: 1000 }).result),
        ]);
        const after = await Promise.all(
          [1, 2, 3].map((n) => pool.run("primes", { n: 1000 * n }).result),
        );
        return { crashed: crashed.name, primes, after, restarts: pool.restarts - restarts,
                 size: pool.size };
        """,
        CRASH,
    )
    assert got["crashed"] == "WorkerCrashedError"
    assert got["primes"] == {"ok": True, "value": {"count": 168}}
    assert got["after"] == [{"count": 168}, {"count": 303}, {"count": 430}]
    assert (got["restarts"], got["size"]) == (1, 2)


def test_cancelling_a_split_mandelbrot_rejects_it_and_stops_every_part(pool: ClientPage) -> None:
    got = pool.run(
        POOL
        + """
        const restarts = pool.restarts;
        const controller = new AbortController();
        let underWay;
        const drawing = new Promise((resolve) => { underWay = resolve; });
        const image = pool.runSplit("mandelbrot", { width: 2000, height: 2000, max_iter: 2000 },
                                    { signal: controller.signal, onProgress: () => underWay() })
          .result;
        await drawing;  // a part is drawing rows: cancelled while the parts run
        controller.abort();
        const result = await outcome(image);
        const next = await pool.run("primes", { n: 1000 }).result;
        return { result: result.name, next, restarts: pool.restarts - restarts };
        """
    )
    assert got == {"result": "CancelledError", "next": {"count": 168}, "restarts": 0}


def test_a_bad_image_size_rejects_with_the_parameter_error(pool: ClientPage) -> None:
    got = pool.run(
        POOL
        + """
        const params = { width: "wide", height: 10, max_iter: 10 };
        return await outcome(pool.runSplit("mandelbrot", params).result);
        """
    )
    assert (got["name"], got["type"]) == ("PythonError", "ParameterError")
    assert "width must be an integer, got 'wide'" in got["message"]


def test_a_task_without_a_declared_range_cannot_be_split(pool: ClientPage) -> None:
    got = pool.run(
        POOL
        + """
        const schema = (name) => pool.workers[0].info.tasks.find((task) => task.name === name);
        const refused = await outcome(pool.runSplit("primes", { n: 10 }).result);
        return { refused, primes: splitRange(schema("primes")),
                 mandelbrot: splitRange(schema("mandelbrot")) };
        """
    )
    assert got["refused"]["name"] == "TypeError"
    assert "primes declares no range to split over" in got["refused"]["message"]
    assert got["primes"] is None
    assert got["mandelbrot"] == {"range": "rows", "bound": "height", "boundDefault": None}
