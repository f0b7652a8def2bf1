"""build.py's command line, its fingerprints, and the pins and configs it relies on (no setup)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import build


def test_no_command_prints_usage_and_fails(capsys: pytest.CaptureFixture[str]) -> None:
    assert build.main([]) == 2
    assert "python3 build.py serve" in capsys.readouterr().err


def test_an_unknown_command_is_named_after_the_usage(capsys: pytest.CaptureFixture[str]) -> None:
    assert build.main(["deploy"]) == 2
    err = capsys.readouterr().err
    assert "python3 build.py test" in err
    assert "Unknown command 'deploy'." in err


def test_help_prints_usage_and_succeeds(capsys: pytest.CaptureFixture[str]) -> None:
    assert build.main(["--help"]) == 0
    assert "python3 build.py bench" in capsys.readouterr().err


def test_a_fingerprint_changes_with_contents_and_names_only(tmp_path: Path) -> None:
    folder = tmp_path / "src"
    folder.mkdir()
    (folder / "a.js").write_text("one")
    first = build.fingerprint([folder])
    assert build.fingerprint([folder]) == first
    (folder / "a.js").write_text("two")
    changed = build.fingerprint([folder])
    assert changed != first
    (folder / "a.js").rename(folder / "b.js")
    assert build.fingerprint([folder]) != changed


def test_a_missing_input_still_fingerprints(tmp_path: Path) -> None:
    assert build.fingerprint([tmp_path / "absent"]) != build.fingerprint([])


def test_every_dependency_is_pinned_exactly() -> None:
    for group, requirements in build.dependency_groups().items():
        for requirement in requirements:
            assert "==" in requirement, f"{requirement} in {group} is not pinned"


def test_every_npm_package_is_pinned_exactly() -> None:
    package = json.loads((build.ROOT / "package.json").read_text())
    for name, version in {**package["dependencies"], **package["devDependencies"]}.items():
        assert re.fullmatch(r"\d+\.\d+\.\d+", version), f"{name}@{version} is not pinned"


def test_every_jsconfig_extends_the_one_base_and_repeats_none_of_its_options() -> None:
    base = json.loads(strip_comments((build.ROOT / "jsconfig.base.json").read_text()))
    for path in build.typescript_projects():
        config = json.loads(strip_comments(path.read_text()))
        assert (path.parent / config["extends"]).resolve() == build.ROOT / "jsconfig.base.json"
        options = config["compilerOptions"]
        restated = [k for k, v in base["compilerOptions"].items() if options.get(k, None) == v]
        assert not restated, f"{path} restates the base's {restated}"


def test_the_benchmark_imports_nothing_from_the_tests() -> None:
    for path in (build.ROOT / "bench").glob("*.py"):
        assert not re.search(r"^\s*(from|import) tests\b", path.read_text(), re.MULTILINE), path


def strip_comments(text: str) -> str:
    """jsconfig files are JSON with // comments."""
    return re.sub(r"^\s*//.*$", "", text, flags=re.MULTILINE)
