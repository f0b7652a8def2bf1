"""The README shows what the repository really has: its benchmark table and its commands."""

from __future__ import annotations

from bench import report
from tests.support import ROOT

README = (ROOT / "README.md").read_text()


def test_the_performance_section_is_the_committed_benchmark_table() -> None:
    results = (ROOT / "bench" / "RESULTS.md").read_text()
    block = report.readme_block(results)
    assert report.splice_readme(README, block) == README, (
        "README.md's Performance section differs from bench/RESULTS.md: "
        "run `python3 build.py bench` (a full run rewrites both)"
    )
    assert "| metric |" in block


def test_the_commands_it_shows_exist_in_build_py() -> None:
    build = (ROOT / "build.py").read_text()
    for command in ("serve", "test", "bench", "setup", "build"):
        assert f"python3 build.py {command}" in README
        assert f'"{command}":' in build
