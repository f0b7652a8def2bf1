"""support/: the one place that decides which Chromium the tests and the benchmark drive."""

from __future__ import annotations

import pytest

from support import browser


def test_an_empty_choice_means_playwright_s_own_chromium(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(browser.ENV, "")
    assert browser.chromium_executable() is None


def test_a_chosen_chromium_is_launched_as_given(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(browser.ENV, "/opt/chromium/chrome")
    assert browser.chromium_executable() == "/opt/chromium/chrome"


def test_without_a_choice_the_lookup_decides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(browser.ENV, raising=False)
    monkeypatch.setattr(browser, "find_chromium", lambda: "/usr/bin/chromium")
    assert browser.chromium_executable() == "/usr/bin/chromium"
    monkeypatch.setattr(browser, "find_chromium", lambda: browser.PLAYWRIGHT)
    assert browser.chromium_executable() is None
