"""The page's own-data panel and input() prompt: a sample made in the page is summarised in the
worker (and on the main thread, frozen meanwhile), and run_code's input() shows a text field."""

from __future__ import annotations

import pytest
from playwright.sync_api import FilePayload, Page, expect

from tests.support import PageProblems, RunningServer, open_page

pytestmark = pytest.mark.e2e


def summarise(page: Page, button: str) -> float:
    """Click `button`, wait for the summary; the longest frame gap during the parse, in ms."""
    page.get_by_role("button", name=button).click()
    expect(page.get_by_role("button", name="Stop")).to_be_disabled(timeout=120_000)
    return float(page.locator("#data-status").get_attribute("data-gap") or "nan")


def test_a_sample_is_summarised_as_a_table_in_the_worker_smoothly_and_on_the_main_thread_not(
    page: Page, server: RunningServer, problems: PageProblems
) -> None:
    open_page(page, server)
    page.get_by_label("Sample size").select_option("1")
    page.get_by_role("button", name="Make a sample").click()
    expect(page.locator("#data-status")).to_contain_text("ready")
    worker_gap = summarise(page, "Summarise in worker")
    expect(page.locator("#data-status")).to_contain_text("in the worker")
    table = page.get_by_role("region", name="Summary of the file")
    expect(table.locator("tbody tr")).to_have_count(6)
    expect(table.locator("tbody tr").nth(0)).to_contain_text("integer")
    expect(table.locator("tbody tr").nth(3)).to_contain_text("float")
    expect(table.locator("tbody tr svg")).to_have_count(3)  # id, amount, visits
    main_gap = summarise(page, "Summarise on main thread")
    expect(page.locator("#data-status")).to_contain_text("on the main thread")
    expect(table.locator("tbody tr")).to_have_count(6)
    # Relative, not a fixed bound: the benchmark measures the real figures.
    assert main_gap > worker_gap, f"the main thread should freeze: {main_gap} vs {worker_gap} ms"
    assert problems.all == []


def test_a_dropped_file_with_a_broken_quote_gets_a_clear_message(
    page: Page, server: RunningServer
) -> None:
    open_page(page, server)
    page.set_input_files(
        "#data-file",
        files=[FilePayload(name="broken.csv", mimeType="text/csv", buffer=b'a,b\n1,"open\n')],
    )
    summarise(page, "Summarise in worker")
    expect(page.locator("#data-status")).to_contain_text("unclosed quote")


def test_input_shows_a_field_whose_answer_reaches_the_code(
    page: Page, server: RunningServer, problems: PageProblems
) -> None:
    open_page(page, server)
    page.get_by_label("Task").select_option("run_code")
    page.locator("#params [name='code']").fill("name = input('name? ')\nf'hi {name}'")
    page.get_by_role("button", name="Run in worker").click()
    field = page.get_by_label("Answer to input(): name?")
    expect(field).to_be_focused()
    field.fill("Ada")
    field.press("Enter")
    expect(page.locator("#result .ok")).to_contain_text("'hi Ada'")
    expect(page.locator("#result .stdout")).to_have_text("name? Ada\n")
    assert problems.all == []
