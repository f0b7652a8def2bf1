"""docs/security.md cannot drift from the tests: every test it names for a promise exists."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_test_the_security_model_names_is_a_test_in_tests_server() -> None:
    named = set(re.findall(r"`(test_\w+)`", (ROOT / "docs" / "security.md").read_text()))
    defined = {
        name
        for path in (ROOT / "tests" / "server").glob("test_*.py")
        for name in re.findall(r"^(?:async )?def (test_\w+)", path.read_text(), re.MULTILINE)
    }
    assert named, "docs/security.md names no test"
    assert named <= defined, f"named in docs/security.md but not defined: {named - defined}"
