"""build.py vendors ES module packages: bare imports become relative paths to copied files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import build


@pytest.fixture
def node_modules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "node_modules"
    packages = {
        "app": ("dist/index.js", "import { b } from '@scope/b';\nexport { c } from \"c\";\n"),
        "@scope/b": ("lib/b.js", "import './helper.js';\nexport const b = 1;\n"),
        "c": ("index.js", '// a comment: grammar file as `x from "module"`\nexport const c = 2;\n'),
    }
    for name, (entry, text) in packages.items():
        folder = root / name
        (folder / entry).parent.mkdir(parents=True)
        (folder / entry).write_text(text)
        (folder / "package.json").write_text(
            json.dumps({"name": name, "exports": {".": {"import": f"./{entry}"}}})
        )
    (root / "@scope/b/lib/helper.js").write_text("export {};\n")
    monkeypatch.setattr(build, "NODE_MODULES", root)
    return root


def test_bare_imports_are_rewritten_to_the_copied_entry_files(
    node_modules: Path, tmp_path: Path
) -> None:
    target = tmp_path / "vendor"
    copied = build.vendor_es_packages(target, ["app"])
    assert {p.relative_to(target).as_posix() for p in copied} == {
        "app/dist/index.js",
        "@scope/b/lib/b.js",
        "@scope/b/lib/helper.js",
        "c/index.js",
    }
    app = (target / "app/dist/index.js").read_text()
    assert "from '../../@scope/b/lib/b.js'" in app
    assert 'from "../../c/index.js"' in app


def test_text_that_only_looks_like_an_import_is_left_alone(
    node_modules: Path, tmp_path: Path
) -> None:
    build.vendor_es_packages(tmp_path / "vendor", ["app"])
    assert 'x from "module"' in (tmp_path / "vendor/c/index.js").read_text()


def test_a_subpath_import_is_refused_with_a_clear_error(node_modules: Path, tmp_path: Path) -> None:
    (node_modules / "c/index.js").write_text("import x from 'app/other';\n")
    with pytest.raises(build.BuildError, match="subpath import 'app/other'"):
        build.vendor_es_packages(tmp_path / "vendor", ["app"])
