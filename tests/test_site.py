"""The built site (dist/) holds what the worker needs offline, and nothing it cannot serve."""

from __future__ import annotations

import json
import re
import tomllib
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYODIDE_FILES = ("pyodide.mjs", "pyodide.asm.mjs", "pyodide.asm.wasm", "python_stdlib.zip")


def test_the_runtime_is_vendored(site: Path) -> None:
    for name in PYODIDE_FILES:
        assert (site / "pyodide" / name).stat().st_size > 0
    assert (site / "worker" / "client.js").exists()
    assert (site / "vendor" / "uplot.mjs").exists()


def test_the_lockfile_lists_exactly_the_wheels_served_beside_it(site: Path) -> None:
    lock = json.loads((site / "wheels" / "pyodide-lock.json").read_text())
    assert lock["info"]["python"].startswith("3.14")
    served = {path.name for path in (site / "wheels").glob("*.whl")}
    assert {entry["file_name"] for entry in lock["packages"].values()} == served
    assert set(lock["packages"]) == {"offload", "micropip", *wheelhouse_versions()}
    assert lock["packages"]["offload"]["depends"] == []


def test_the_wheelhouse_is_served_at_its_pinned_versions_with_dependencies(site: Path) -> None:
    lock = json.loads((site / "wheels" / "pyodide-lock.json").read_text())
    pinned = wheelhouse_versions()
    assert "sympy" in pinned
    assert {name: lock["packages"][name]["version"] for name in pinned} == pinned
    assert lock["packages"]["sympy"]["depends"] == ["mpmath"]
    assert "sympy" in lock["packages"]["sympy"]["imports"]


def wheelhouse_versions() -> dict[str, str]:
    """The `wheelhouse` dependency group of pyproject.toml as {name: version}."""
    groups = tomllib.loads((ROOT / "pyproject.toml").read_text())["dependency-groups"]
    return dict(requirement.split("==") for requirement in groups["wheelhouse"])


def test_the_offload_wheel_is_pure_python_with_no_dependencies(site: Path) -> None:
    (wheel,) = (site / "wheels").glob("offload-*-py3-none-any.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        metadata = next(n for n in names if n.endswith(".dist-info/METADATA"))
        assert "Requires-Dist" not in archive.read(metadata).decode()
    assert "offload/tasks/primes.py" in names
    assert not [n for n in names if n.endswith((".so", ".pyd"))]


def test_build_info_names_the_versions(site: Path) -> None:
    info = json.loads((site / "build-info.json").read_text())
    assert info["pyodide"] == "314.0.7"
    assert info["packages"]["offload"]


def test_the_code_editor_is_vendored_with_only_relative_imports(site: Path) -> None:
    vendored = site / "vendor" / "npm"
    files = sorted(vendored.rglob("*.js"))
    assert (vendored / "codemirror" / "dist" / "index.js") in files
    assert (vendored / "@codemirror" / "lang-python" / "dist" / "index.js") in files
    statement = re.compile(r"""^(?:import|export)\b[^;'"]*?\bfrom\s*['"]([^'"]+)['"]""", re.M)
    for file in files:
        for specifier in statement.findall(file.read_text()):
            assert specifier.startswith("."), f"{file}: bare import {specifier!r}"
            assert (file.parent / specifier).resolve().is_file(), f"{file}: {specifier} missing"
