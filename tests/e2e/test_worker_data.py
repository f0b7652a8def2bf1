"""A person's own data and own Python in a real worker: a CSV's bytes moved in and summarised
exactly as natively, input() answered through onInput, time.sleep and input() that Cancel ends
without a new worker, wheelhouse packages imported offline, a helpful error for anything else."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Route

from offload.runtime import SILENT
from offload.tasks.csv_summary import summarise_csv
from offload.tasks.jsonl_summary import summarise_jsonl
from support.csv_reference import realistic_csv
from tests.e2e.conftest import ClientPage
from tests.support import RunningServer, ServerFactory

pytestmark = pytest.mark.e2e

SUMMARISE = """
const data = new TextEncoder().encode(arg.text).buffer;
const result = await outcome(worker.run(arg.task, { data }).result);
return { result, leftBehind: data.byteLength };
"""


def summarise_in_worker(client: ClientPage, text: str, task: str = "csv_summary") -> Any:
    return client.run(SUMMARISE, {"text": text, "task": task})


@pytest.mark.parametrize(
    ("delimiter", "newline"),
    [(",", "\n"), (";", "\r\n"), ("\t", "\n")],
    ids=["comma", "semi", "tab"],
)
def test_a_generated_csv_summarises_in_the_worker_exactly_as_natively(
    client: ClientPage, delimiter: str, newline: str
) -> None:
    text = realistic_csv(8_000, seed=5, delimiter=delimiter, newline=newline)
    got = summarise_in_worker(client, text)
    assert got["result"]["ok"] is True, got["result"]
    assert got["result"]["value"] == summarise_csv(text.encode(), SILENT)
    assert got["leftBehind"] == 0  # the ArrayBuffer was transferred (detached here), not copied


TRICKY = (
    "\ufeffname;note;amount\r\n"
    '"Doe; Jane";"said ""hi""\r\non two lines";3,5\r\n'
    "李白;;12\r\n"
    f"Zoë;{'x' * 200_000};\r\n"
    "short\r\n"
)


def test_a_tricky_csv_reads_the_same_in_the_worker(client: ClientPage) -> None:
    got = summarise_in_worker(client, TRICKY)["result"]["value"]
    assert got == summarise_csv(TRICKY.encode(), SILENT)
    assert (got["encoding"], got["delimiter"], got["rows"]) == ("utf-8-sig", ";", 4)
    assert got["ragged_rows"]["first_lines"] == [6]


def test_json_lines_summarise_in_the_worker_exactly_as_natively(client: ClientPage) -> None:
    text = "\n".join(f'{{"n": {i}, "x": {i / 7}, "tag": "t{i % 3}"}}' for i in range(3000))
    text += '\nnot json\n{"n": null}\n'
    got = summarise_in_worker(client, text, "jsonl_summary")
    assert got["result"]["value"] == summarise_jsonl(text.encode(), SILENT)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "the file is empty"),
        ('a,b\n1,"open\n2,3\n', "unclosed quote: a quoted field in the record starting on line 2"),
        ("PK\x03\x04zip", "ZIP archive"),
    ],
)
def test_malformed_files_reject_with_a_clear_message(
    client: ClientPage, text: str, message: str
) -> None:
    got = summarise_in_worker(client, text)["result"]
    assert (got["ok"], got["type"]) == (False, "DataError")
    assert message in got["message"]


def test_undecodable_bytes_name_their_offset_in_the_worker(client: ClientPage) -> None:
    got = client.run(
        """
        const data = new Uint8Array([...new TextEncoder().encode("a,b\\n1,"), 0xff, 10]).buffer;
        return outcome(worker.run("csv_summary", { data }).result);
        """
    )
    assert got["type"] == "DataError"
    assert "byte 0xff at offset 6 (line 2) is not valid utf-8" in got["message"]


def test_ragged_rows_are_counted_and_the_rest_summarised_in_the_worker(client: ClientPage) -> None:
    text = "a,b\n1,2\n3\n4,5\n"
    got = summarise_in_worker(client, text)["result"]["value"]
    assert got["ragged_rows"] == {"count": 1, "first_lines": [3], "expected_fields": 2}
    assert got["columns"][0]["mean"] == 2.5


def test_input_is_answered_through_on_input_and_reaches_the_code(client: ClientPage) -> None:
    got = client.run(
        """
        const prompts = [];
        const answers = ["Ada", "again"];
        // An answer may come later (a promise) or at once (a string).
        const onInput = (prompt) => {
          prompts.push(prompt);
          return prompts.length === 1 ? sleep(20).then(() => answers[0]) : answers[1];
        };
        let printed = "";
        const code = "print('hello')\\nname = input('name? ')\\nf'hi {name}, ' + input()";
        const job = worker.run("run_code", { code }, {
          onInput,
          onStdout: (text) => { printed += text; },
        });
        return { result: await job.result, prompts, printed };
        """
    )
    assert got["result"] == {"result_repr": "'hi Ada, again'", "value": "hi Ada, again"}
    assert got["prompts"] == ["name? ", ""]
    assert got["printed"] == "hello\nname? Ada\nagain\n"


def test_without_on_input_input_is_end_of_file(client: ClientPage) -> None:
    got = client.run("return outcome(worker.run('run_code', { code: 'input()' }).result);")
    assert (got["type"], got["message"]) == (
        "EOFError",
        "EOFError: no answer was given (end of input)",
    )


@pytest.mark.parametrize(
    "waiting",
    [
        "import time\nprint('sleeping')\ntime.sleep(30)",
        "input('never answered? ')",
    ],
    ids=["time.sleep(30)", "input()"],
)
def test_cancel_while_python_waits_ends_the_job_at_once_and_keeps_the_interpreter(
    client: ClientPage, waiting: str
) -> None:
    got = client.run(
        """
        const restarts = worker.restarts;
        const setup = "import sys, fractions\\nsys.marker = 'kept'";
        await worker.run("run_code", { code: setup }).result;
        // Cancelled once the code waits (it printed before its sleep, or asked for input).
        let waits;
        const waiting = new Promise((resolve) => { waits = resolve; });
        const job = worker.run("run_code", { code: arg }, {
          onStdout: () => waits(),
          onInput: () => { waits(); return new Promise(() => {}); },
        });
        await waiting;
        job.cancel();
        const result = await outcome(job.result);
        const next = await worker.run("run_code", {
          code: "import sys\\n(sys.marker, 'fractions' in sys.modules)" }).result;
        return { result, next, replaced: worker.restarts - restarts };
        """,
        waiting,
    )
    assert got["result"]["name"] == "CancelledError"
    assert got["replaced"] == 0
    assert got["next"] == {"result_repr": "('kept', True)", "value": ["kept", True]}


def test_cancel_sent_before_the_code_starts_to_sleep_ends_it_without_a_new_worker(
    client: ClientPage,
) -> None:
    # The interrupt is then stored before the worker starts the job: it must end the job as
    # cancelled, not be spent in the Python that runs first (looking for the code's imports,
    # Pyodide's event loop) and leave the sleep to the grace timer, which replaces the worker.
    got = client.run(
        """
        await worker.run("run_code", { code: "import time" }).result;  // a worker done booting
        const restarts = worker.restarts;
        const ends = [];
        for (let i = 0; i < 3; i++) {
          const job = worker.run("run_code", { code: "import time\\ntime.sleep(30)" });
          job.cancel();
          const { name, message } = await outcome(job.result);
          ends.push(`${name}: ${message}`);
        }
        const next = await worker.run("run_code", { code: "6 * 7" }).result;
        return { ends, next, replaced: worker.restarts - restarts, why: worker.lastRestartReason };
        """
    )
    assert [end.split(":")[0] for end in got["ends"]] == ["CancelledError"] * 3, got["ends"]
    assert got["replaced"] == 0, got["why"]
    assert got["next"] == {"result_repr": "42", "value": 42}


def test_sympy_imports_from_the_sites_wheelhouse_with_nothing_fetched_elsewhere(
    client: ClientPage,
) -> None:
    foreign: list[str] = []

    def refuse(route: Route) -> None:
        foreign.append(route.request.url)
        route.abort()

    client.page.context.route(re.compile(r"^(?!http://127\.0\.0\.1[:/])"), refuse)
    got = client.run(
        """
        let notes = "";
        const code = "import sympy\\nx = sympy.Symbol('x')\\nstr(sympy.integrate(x**2, x))";
        const result = await worker.run("run_code", { code }, {
          onStdout: (text, stream) => { if (stream === "stderr") notes += text; },
        }).result;
        return { result, notes };
        """
    )
    assert got["result"] == {"result_repr": "'x**3/3'", "value": "x**3/3"}
    assert "installing sympy 1.14.0, mpmath 1.3.0 from this site" in got["notes"]
    assert foreign == []


def test_micropip_install_with_top_level_await_works(client: ClientPage) -> None:
    got = client.run(
        """
        const code = "import micropip\\nawait micropip.install('mpmath')\\n" +
          "import mpmath\\nmpmath.__version__";
        return outcome(worker.run("run_code", { code }).result);
        """
    )
    assert got == {"ok": True, "value": {"result_repr": "'1.3.0'", "value": "1.3.0"}}


def test_an_unknown_package_says_how_to_add_it(client: ClientPage) -> None:
    got = client.run(
        "return outcome(worker.run('run_code', { code: 'import not_in_the_wheelhouse' }).result);"
    )
    assert got["type"] == "ModuleNotFoundError"
    assert "site's wheelhouse (served: micropip, mpmath, sympy)" in got["message"]
    assert "pyproject.toml, then run `python3 build.py build`" in got["message"]


def test_without_isolation_input_raises_saying_why(
    server_factory: ServerFactory, browser: Any
) -> None:
    server: RunningServer = server_factory(extra_args=["--no-isolation"])
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(server.url)
        got = page.evaluate(
            """async () => {
                const { PythonWorker } = await import("/worker/client.js");
                const worker = await PythonWorker.start();
                try {
                    const code = "input('?')";
                    await worker.run("run_code", { code }, { onInput: () => "x" }).result;
                    return null;
                } catch (error) { return { type: error.type, message: error.pythonMessage }; }
                finally { worker.terminate(); }
            }"""
        )
    finally:
        context.close()
    assert got["type"] == "EOFError"
    assert "not cross-origin isolated" in got["message"]
    assert "Cross-Origin-Embedder-Policy" in got["message"]
