#!/usr/bin/env python3
"""The one entry point for Offload: set up, build, serve, test and benchmark.

    python3 build.py serve [--host H] [--port P] [--data-dir D]   set up, build, serve the page
        (any other flag of `python -m server --help` passes through, e.g. --tls-cert FILE
        --tls-key FILE, --public-name NAME, --trusted-proxy ADDR: see docs/hosting.md)
    python3 build.py test [PYTEST ARGS...]                         set up, build, run every check
    python3 build.py bench [--quick] [--json PATH]                 set up, build, run the benchmark
    python3 build.py setup | build                                 the first steps alone

Only the standard library is used here, so any python3 can run it; everything else is installed into
`.venv` (Python >= 3.12, which pyodide-build needs) and `node_modules` from the pinned lists in
pyproject.toml and package-lock.json. Each step records a fingerprint of its inputs and is skipped
when they have not changed, so a second run starts in seconds.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
import tomllib
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from support import browser  # standard library only, like this file

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
VENV_PYTHON = VENV / "bin" / "python"
NODE_MODULES = ROOT / "node_modules"
PYODIDE_NPM = NODE_MODULES / "pyodide"
DIST = ROOT / "dist"
CACHE = ROOT / ".cache"
MIN_PYTHON = (3, 12)
PYTEST_NO_TESTS = 5

# The runtime files a browser needs; the npm package also ships type declarations, source maps and
# demo consoles, which the site does not serve.
PYODIDE_RUNTIME_FILES = (
    "pyodide.mjs",
    "pyodide.asm.mjs",
    "pyodide.asm.wasm",
    "python_stdlib.zip",
)
# Pyodide's own wheels (micropip, ...) are not in the npm package: they are fetched from PyPI by
# exact version, checked against the lockfile's sha256 and served beside our wheel.
VENDORED_PYODIDE_PACKAGES = ("micropip",)
# Browser modules vendored from npm: source inside node_modules -> path inside dist.
VENDORED_MODULES = {
    "uplot/dist/uPlot.esm.js": "vendor/uplot.mjs",
    "uplot/dist/uPlot.min.css": "vendor/uplot.min.css",
}
# ES module packages served with their dependencies (the code editor): each file is copied to
# dist/vendor/npm/<package>/<path> with its bare imports ("@codemirror/state") rewritten to
# relative paths. Why rewrite rather than an import map: an import map must be an inline <script>,
# which the CSP forbids unless its sha256 is added to the policy (and kept in step with every
# edit); rewritten files work on every page of the site, the developer's own included, with the
# CSP unchanged, and what the browser loads is exactly what is in dist/.
VENDORED_ES_PACKAGES = ("codemirror", "@codemirror/lang-python")
ES_VENDOR_DIR = "vendor/npm"


#: The repository's browser folders, served at their own paths (the page at /web/, the worker at
#: /worker/, the benchmark's pages at /bench/web/); `/` redirects to /web/ (server/static.py).
SITE_FOLDERS = ("web", "worker", "bench/web")
#: Documents the page links to (its capability note points at the README's "Host it for a class").
SITE_FILES = ("README.md", "docs/hosting.md")


class BuildError(Exception):
    """A step failed in a way the user can act on; the message says how."""


class NoTestsSelected(BuildError):
    """pytest exited with code 5: the selection matched no test."""


# --- output ---------------------------------------------------------------------------------------


@contextmanager
def step(title: str) -> Iterator[None]:
    """Print what a step is doing and how long it took."""
    print(f"==> {title}", flush=True)
    started = time.monotonic()
    yield
    print(f"    done in {time.monotonic() - started:.1f} s", flush=True)


def run(args: Sequence[object], **kwargs: object) -> None:
    """Run a command from the repository root; a failure becomes a BuildError naming it."""
    printable = " ".join(str(a) for a in args)
    try:
        subprocess.run([str(a) for a in args], cwd=ROOT, check=True, **kwargs)  # type: ignore[call-overload]
    except FileNotFoundError as error:
        raise BuildError(f"`{args[0]}` was not found: install it and run again.") from error
    except subprocess.CalledProcessError as error:
        if error.returncode == PYTEST_NO_TESTS and "pytest" in printable:
            raise NoTestsSelected(printable) from error
        raise BuildError(f"`{printable}` failed with exit code {error.returncode}.") from error


# --- fingerprints ---------------------------------------------------------------------------------


def fingerprint(paths: Iterable[Path], extra: str = "") -> str:
    """A hash of the contents (and names) of the given files and of every file below given dirs."""
    digest = hashlib.sha256(extra.encode())
    for path in sorted(paths):
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in files:
            if "__pycache__" in file.parts or any(p.endswith(".egg-info") for p in file.parts):
                continue
            digest.update(os.path.relpath(file, ROOT).encode())
            digest.update(file.read_bytes() if file.exists() else b"<missing>")
    return digest.hexdigest()


def is_current(stamp: Path, value: str) -> bool:
    return stamp.exists() and stamp.read_text() == value


# --- setup ----------------------------------------------------------------------------------------


def python_version(executable: str) -> tuple[int, int] | None:
    try:
        out = subprocess.run(
            [executable, "-c", "import sys; print(*sys.version_info[:2])"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    major, minor = out.split()
    return int(major), int(minor)


def find_python() -> str:
    """A Python >= 3.12 to create the virtual environment with (pyodide-build needs it)."""
    if sys.version_info >= MIN_PYTHON:
        return sys.executable
    candidates = [shutil.which(name) for name in ("python3.13", "python3.12")]
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    candidates += sorted(map(str, pyenv_root.glob("versions/3.1[2-9]*/bin/python3")), reverse=True)
    for candidate in filter(None, candidates):
        version = python_version(candidate)
        if version is not None and version >= MIN_PYTHON:
            return candidate
    raise BuildError(
        "Offload needs Python 3.12 or newer to set up (pyodide-build requires it): "
        "install python3.12 (e.g. `pyenv install 3.12`) and run again."
    )


def dependency_groups() -> dict[str, list[str]]:
    groups: dict[str, list[str]] = tomllib.loads((ROOT / "pyproject.toml").read_text())[
        "dependency-groups"
    ]
    return groups


def setup_python(groups: Sequence[str]) -> None:
    """A .venv with Python >= 3.12 and the pinned packages of `groups` (each installed once)."""
    venv_version = python_version(str(VENV_PYTHON)) if VENV_PYTHON.exists() else None
    if venv_version is None or venv_version < MIN_PYTHON:
        python = find_python()
        with step(f"Creating .venv with {python}"):
            shutil.rmtree(VENV, ignore_errors=True)
            run([python, "-m", "venv", VENV])
    pinned = dependency_groups()
    for group in groups:
        packages = pinned[group]
        stamp = VENV / f".offload-packages-{group}"
        value = "\n".join([str(python_version(str(VENV_PYTHON))), *packages])
        if is_current(stamp, value):
            continue
        with step(f"Installing the {len(packages)} pinned '{group}' Python packages into .venv"):
            pip = [VENV_PYTHON, "-m", "pip", "--disable-pip-version-check"]
            run([*pip, "install", "--progress-bar", "off", "-q", *packages])
        stamp.write_text(value)


def setup_node() -> None:
    stamp = NODE_MODULES / ".offload-lock"
    value = fingerprint([ROOT / "package-lock.json"])
    if is_current(stamp, value):
        return
    with step("Installing the pinned npm packages (npm ci)"):
        run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"])
    stamp.write_text(value)


def setup_pyodide_wheels() -> None:
    """Fetch the Pyodide packages we serve (micropip) from PyPI at the lockfile's exact version.

    Pyodide's lockfile names its own build of these wheels (their sha256 differs from PyPI's), so
    `build_wheels` registers the PyPI files with `add-wheels`, which records their real hashes.
    """
    lock = json.loads((PYODIDE_NPM / "pyodide-lock.json").read_text())
    packages: dict[str, dict[str, str]] = lock["packages"]
    info: dict[str, str] = lock["info"]
    folder = CACHE / "pyodide-wheels"
    for name in VENDORED_PYODIDE_PACKAGES:
        entry = packages[name]
        if (folder / entry["file_name"]).exists():
            continue
        with step(f"Downloading {entry['file_name']} from PyPI"):
            run(
                [
                    *(VENV_PYTHON, "-m", "pip", "--disable-pip-version-check", "download"),
                    *("--no-deps", "--only-binary=:all:", "-q", "-d", folder),
                    *("--python-version", info["python"], f"{name}=={entry['version']}"),
                ]
            )


def setup_package() -> None:
    """Install py/ into .venv as an editable package: the server adapts the tasks' own types
    (e.g. offload.tasks.montecarlo's result), so it imports `offload` wherever it runs."""
    stamp = VENV / ".offload-editable"
    value = fingerprint([ROOT / "pyproject.toml"], extra=str(python_version(str(VENV_PYTHON))))
    if is_current(stamp, value):
        return
    with step("Installing the offload package (py/) into .venv, editable"):
        run(
            [
                *(VENV_PYTHON, "-m", "pip", "--disable-pip-version-check", "install", "-q"),
                *("--no-deps", "--no-build-isolation", "--editable", "."),
            ]
        )
        shutil.rmtree(ROOT / "build", ignore_errors=True)
        for leftover in (ROOT / "py").glob("*.egg-info"):
            shutil.rmtree(leftover)
    stamp.write_text(value)


WHEELHOUSE = CACHE / "wheelhouse"


def setup_wheelhouse() -> None:
    """Download the `wheelhouse` group's pinned pure-Python wheels (with dependencies) from PyPI.

    pip resolves the dependencies, so a wheel that needs a package the group does not pin is
    caught here, with the fix in the message, instead of failing in the browser.
    """
    pinned = dependency_groups().get("wheelhouse", [])
    stamp = WHEELHOUSE / ".offload-pins"
    if is_current(stamp, "\n".join(pinned)):
        return
    shutil.rmtree(WHEELHOUSE, ignore_errors=True)
    WHEELHOUSE.mkdir(parents=True)
    if not pinned:
        stamp.write_text("")
        return
    info = json.loads((PYODIDE_NPM / "pyodide-lock.json").read_text())["info"]
    with step(f"Downloading the wheelhouse ({', '.join(pinned)}) from PyPI"):
        run(
            [
                *(VENV_PYTHON, "-m", "pip", "--disable-pip-version-check", "download", "-q"),
                *("--only-binary=:all:", "--python-version", info["python"]),
                *("--implementation", "py", "--abi", "none", "--platform", "any"),
                *("-d", WHEELHOUSE, *pinned),
            ]
        )
    names = {requirement.split("==")[0].lower().replace("_", "-") for requirement in pinned}
    for wheel in WHEELHOUSE.glob("*.whl"):
        name = wheel.name.split("-")[0].lower().replace("_", "-")
        if name not in names:
            raise BuildError(
                f"The wheelhouse needs {wheel.name}, a dependency that is not pinned: add "
                f'"{name}==<version>" to the wheelhouse group in pyproject.toml and build again.'
            )
    stamp.write_text("\n".join(pinned))


def copy_wheelhouse(folder: Path) -> None:
    """Put the wheelhouse's wheels into the site's wheel folder (the lockfile then lists them)."""
    setup_wheelhouse()
    for wheel in WHEELHOUSE.glob("*.whl"):
        shutil.copy2(wheel, folder / wheel.name)


#: Serving needs no test tools, so a first `serve` on a fresh clone installs only these.
SERVE_GROUPS = ("server", "build")
ALL_GROUPS = ("server", "build", "test")


def setup(groups: Sequence[str] = ALL_GROUPS) -> None:
    setup_python(groups)
    setup_package()
    setup_node()
    setup_pyodide_wheels()
    setup_wheelhouse()


# --- build ----------------------------------------------------------------------------------------


def build_inputs() -> list[Path]:
    return [
        ROOT / "web",
        ROOT / "worker",
        ROOT / "bench" / "web",
        ROOT / "py",
        ROOT / "pyproject.toml",
        ROOT / "package-lock.json",
        ROOT / "build.py",
        *(ROOT / name for name in SITE_FILES),
    ]


def generate() -> None:
    """Regenerate what is derived from the Python definitions of the protocols (the page's
    web/socket/protocol.js, the worker's task-schema.js, the JSON Schema in docs/); a file is only
    rewritten when its text changes. tests/server/test_codegen.py fails on a stale copy."""
    run([VENV_PYTHON, "-m", "support.codegen"], stdout=subprocess.DEVNULL)


def build() -> None:
    generate()
    stamp = DIST / ".offload-build"
    value = fingerprint(build_inputs())
    if is_current(stamp, value):
        return
    with step("Building the site into dist/"):
        staging = ROOT / "dist.tmp"
        shutil.rmtree(staging, ignore_errors=True)
        # A URL path is the repository path: each browser folder is copied to its own name
        # (/web/... is web/...), and only generated folders and files are added at the root.
        # copy2 keeps modification times, so Last-Modified (and the browser's cache) survive
        # rebuilds of unchanged files such as the 10 MB Pyodide runtime.
        staging.mkdir()
        for folder in SITE_FOLDERS:
            if (ROOT / folder).is_dir():
                shutil.copytree(ROOT / folder, staging / folder, copy_function=shutil.copy2)
        for name in SITE_FILES:  # when present: a developer's copy of a few folders may lack them
            if (ROOT / name).is_file():
                (staging / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(ROOT / name, staging / name)
        (staging / "pyodide").mkdir()
        for name in PYODIDE_RUNTIME_FILES:
            shutil.copy2(PYODIDE_NPM / name, staging / "pyodide" / name)
        for source, target in VENDORED_MODULES.items():
            (staging / target).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(NODE_MODULES / source, staging / target)
        vendor_es_packages(staging / ES_VENDOR_DIR, VENDORED_ES_PACKAGES)
        build_wheels(staging / "wheels")
        (staging / "build-info.json").write_text(json.dumps(build_info(staging), indent=2) + "\n")
        write_root_service_worker(staging)
        write_precache_manifest(staging)
        shutil.rmtree(DIST, ignore_errors=True)
        staging.rename(DIST)
    stamp.write_text(value)


# An import or re-export statement at the start of a line (rollup's output puts each on its own
# line), or a bare `import "x"`: the specifier is group 2. Text in comments and strings that only
# looks like one ("grammar file as `@context x from "module"`") does not start a line this way.
IMPORT_STATEMENT = re.compile(
    r"""^((?:import|export)\b[^;'"]*?\bfrom\s*|import\s*)(['"])([^'"]+)\2""", re.MULTILINE
)


def package_entry(package: str) -> Path:
    """The file an ES `import "<package>"` means: exports["."].import, exports.import, module."""
    manifest = json.loads((NODE_MODULES / package / "package.json").read_text())
    exports = manifest.get("exports")
    if isinstance(exports, dict):
        exports = exports.get(".", exports)
        if isinstance(exports, dict):
            exports = exports.get("import") or exports.get("default")
    entry = exports if isinstance(exports, str) else manifest.get("module") or manifest["main"]
    return (NODE_MODULES / package / entry).resolve()


def bare_package(specifier: str) -> str:
    """ "@scope/name/sub" -> "@scope/name"; "name/sub" -> "name"."""
    parts = specifier.split("/")
    return "/".join(parts[:2] if specifier.startswith("@") else parts[:1])


def vendor_es_packages(target: Path, packages: Sequence[str]) -> list[Path]:
    """Copy `packages` and every module they import into `target`, bare imports made relative.

    Returns the copied files. Raises BuildError for a package that is not installed or an import
    of a subpath (none of the vendored packages use one; supporting it would need `exports` maps).
    """
    copied: dict[Path, Path] = {}  # source file -> file in target
    queue = [package_entry(package) for package in packages]

    def destination(source: Path) -> Path:
        relative = source.relative_to(NODE_MODULES.resolve())
        return target / relative

    while queue:
        source = queue.pop()
        if source in copied:
            continue
        if not source.is_file():
            raise BuildError(f"{source} is missing: run `python3 build.py setup` (npm ci).")
        out = destination(source)
        copied[source] = out

        def rewrite(match: re.Match[str], source: Path = source, out: Path = out) -> str:
            prefix, quote, specifier = match.groups()
            if specifier.startswith("."):
                dependency = (source.parent / specifier).resolve()
            elif specifier == bare_package(specifier):
                dependency = package_entry(specifier)
            else:
                raise BuildError(f"{source}: subpath import {specifier!r} is not supported")
            queue.append(dependency)
            relative = os.path.relpath(destination(dependency), out.parent)
            return (
                f"{prefix}{quote}{relative if relative.startswith('.') else './' + relative}{quote}"
            )

        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(IMPORT_STATEMENT.sub(rewrite, source.read_text()))
    return sorted(copied.values())


def build_wheels(folder: Path) -> None:
    """Build py/ as a pure-Python wheel and write a lockfile that lists exactly what we serve."""
    folder.mkdir()
    work = CACHE / "wheel-build"
    shutil.rmtree(work, ignore_errors=True)
    # pip, not `python -m build`: from the repository root that name would import this file.
    run(
        [
            *(VENV_PYTHON, "-m", "pip", "--disable-pip-version-check", "wheel", "-q"),
            *("--no-deps", "--no-build-isolation", "--wheel-dir", work, "."),
        ],
    )
    # setuptools' scratch space, and metadata it leaves in the source tree (which would otherwise
    # change py/'s fingerprint and make the next run build again).
    shutil.rmtree(ROOT / "build", ignore_errors=True)
    for leftover in (ROOT / "py").glob("*.egg-info"):
        shutil.rmtree(leftover)
    (wheel,) = work.glob("offload-*.whl")
    shutil.copy2(wheel, folder / wheel.name)
    for cached in (CACHE / "pyodide-wheels").glob("*.whl"):
        shutil.copy2(cached, folder / cached.name)
    copy_wheelhouse(folder)
    full_lock = folder / "pyodide-lock.full.json"
    run(
        [
            *(VENV / "bin" / "pyodide", "lockfile", "add-wheels"),
            *("--input", PYODIDE_NPM / "pyodide-lock.json", "--output", full_lock),
            *("--base-path", folder, *sorted(folder.glob("*.whl"))),
        ],
        stdout=subprocess.DEVNULL,
    )
    # The upstream lockfile names 357 packages whose wheels live on a CDN we cannot reach. Keep only
    # the ones we actually serve, so asking for anything else fails at once with "No known package"
    # instead of a network error after a timeout.
    lock = json.loads(full_lock.read_text())
    served = {path.name for path in folder.glob("*.whl")}
    lock["packages"] = {
        name: entry for name, entry in lock["packages"].items() if entry["file_name"] in served
    }
    if "offload" not in lock["packages"]:
        raise BuildError("The offload wheel is missing from the lockfile pyodide-build wrote.")
    (folder / "pyodide-lock.json").write_text(json.dumps(lock, indent=1) + "\n")
    full_lock.unlink()


def build_info(site: Path) -> dict[str, object]:
    lock = json.loads((site / "wheels" / "pyodide-lock.json").read_text())
    npm = json.loads((PYODIDE_NPM / "package.json").read_text())
    return {
        "pyodide": npm["version"],
        "python": lock["info"]["python"],
        "packages": {name: entry["version"] for name, entry in lock["packages"].items()},
    }


# --- the service worker's precache --------------------------------------------------------------

#: The service worker; its `const BUILD_HASH = "...";` line is stamped with the build's hash.
SERVICE_WORKER = "web/offline/service-worker.js"
BUILD_HASH_LINE = re.compile(r'^const BUILD_HASH = "[^"\n]*";$', re.MULTILINE)
#: Never precached: what carries the hash itself, the type-checker's configs and the benchmark
#: pages (the offline app does not need them; /bench/web/ still works from the network).
#: A static host cannot send `Service-Worker-Allowed: /`, without which the service worker in
#: web/offline/ may not control the whole site; this root-level entry, whose scope is the root by
#: where it lives, imports it. The page registers it only when the header path is refused
#: (web/offline/panel.js); docs/hosting.md says why.
ROOT_SERVICE_WORKER = "service-worker.js"
PRECACHE_EXCLUDED_PATHS = frozenset({SERVICE_WORKER, ROOT_SERVICE_WORKER, "build-info.json"})
PRECACHE_EXCLUDED_NAMES = frozenset({"jsconfig.json"})
PRECACHE_EXCLUDED_DIRS = frozenset({"bench"})


def precache_files(site: Path) -> list[Path]:
    """The files of the built site the service worker stores for offline use, sorted."""
    return sorted(
        path
        for path in site.rglob("*")
        if path.is_file()
        and path.relative_to(site).as_posix() not in PRECACHE_EXCLUDED_PATHS
        and path.name not in PRECACHE_EXCLUDED_NAMES
        and not path.name.startswith(".")
        and path.relative_to(site).parts[0] not in PRECACHE_EXCLUDED_DIRS
    )


def write_root_service_worker(site: Path) -> None:
    """Write the root-level service worker entry (see ROOT_SERVICE_WORKER)."""
    (site / ROOT_SERVICE_WORKER).write_text(
        "// Generated by build.py: the service worker for hosts that cannot send\n"
        "// Service-Worker-Allowed (a static host); the real one is web/offline/.\n"
        f'import "./{SERVICE_WORKER}";\n'
    )


def write_precache_manifest(site: Path) -> str:
    """Hash the built site, list what the service worker precaches, and stamp the hash into it.

    `build-info.json` gets `hash` and `precache` (each file's URL relative to the site, size and
    sha256); `web/offline/service-worker.js` gets the same hash in its `BUILD_HASH` line, so any
    change to the site changes the worker's bytes, which is what makes a browser install the new
    worker (and with it a new cache named after the hash). Callable on any built site (the tests
    make a copy with one file changed).

    Returns:
        The hash (16 hex digits).
    """
    worker = site / SERVICE_WORKER
    source = worker.read_text()
    if len(BUILD_HASH_LINE.findall(source)) != 1:
        raise BuildError(f'{worker} must have exactly one `const BUILD_HASH = "...";` line.')
    entries = [
        {
            "url": path.relative_to(site).as_posix(),
            "size": path.stat().st_size,
            "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        }
        for path in precache_files(site)
    ]
    # The worker's own logic counts too (with its hash line blanked, which the hash then fills).
    digest = hashlib.sha256(BUILD_HASH_LINE.sub("", source).encode())
    for entry in entries:
        digest.update(f"{entry['url']}\0{entry['sha256']}\n".encode())
    build_hash = digest.hexdigest()[:16]
    info_path = site / "build-info.json"
    info = json.loads(info_path.read_text())
    info["hash"] = build_hash
    info["precache"] = entries
    info_path.write_text(json.dumps(info, indent=2) + "\n")
    worker.write_text(BUILD_HASH_LINE.sub(f'const BUILD_HASH = "{build_hash}";', source))
    return build_hash


# --- serve, test, bench ---------------------------------------------------------------------------


def serve(argv: Sequence[str]) -> None:
    parser = argparse.ArgumentParser(prog="python3 build.py serve")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8765, help="port to listen on (default 8765)")
    parser.add_argument("--data-dir", default=str(ROOT / "data"), help="where results are stored")
    parser.add_argument(
        "--tls-cert", type=Path, help="PEM certificate: serve https (docs/hosting.md)"
    )
    parser.add_argument("--tls-key", type=Path, help="PEM private key of --tls-cert")
    options, extra = parser.parse_known_args(argv)
    # The server runs from the repository's root: files named from here must keep meaning them.
    tls = [
        *(("--tls-cert", str(options.tls_cert.resolve())) if options.tls_cert else ()),
        *(("--tls-key", str(options.tls_key.resolve())) if options.tls_key else ()),
    ]
    setup(SERVE_GROUPS)
    build()
    args = [
        *(str(VENV_PYTHON), "-m", "server"),
        *("--host", options.host, "--port", str(options.port)),
        *("--data-dir", options.data_dir, "--dist", str(DIST), *tls, *extra),
    ]
    print("==> Starting the server (Ctrl+C stops it)", flush=True)
    os.chdir(ROOT)
    os.execv(args[0], args)


def find_browser() -> str:
    """Playwright's own Chromium if installed, else the system's; says what to install if none."""
    found = browser.find_chromium()
    if found is not None:
        return found
    raise BuildError(
        "No Chromium found for the browser tests: install Debian's package with "
        "`sudo apt-get install chromium` (or set OFFLOAD_CHROMIUM=/path/to/chromium) and run again."
    )


def typescript_projects() -> list[Path]:
    """Every jsconfig.json: one per JavaScript global scope (page, worker, benchmark pages)."""
    return sorted(
        path
        for path in ROOT.glob("**/jsconfig.json")
        if not {"node_modules", "dist", ".venv"} & set(path.relative_to(ROOT).parts)
    )


def browser_env() -> dict[str, str]:
    """The environment for tests and the benchmark: OFFLOAD_CHROMIUM names the Chromium to drive,
    or is empty for Playwright's own."""
    chosen = os.environ.get(browser.ENV) or find_browser()
    return {**os.environ, browser.ENV: "" if chosen == browser.PLAYWRIGHT else chosen}


def test(argv: Sequence[str]) -> None:
    setup()
    build()
    env = browser_env()
    bin_dir = VENV / "bin"
    tsc = NODE_MODULES / ".bin" / "tsc"
    biome = NODE_MODULES / ".bin" / "biome"
    pytest = [VENV_PYTHON, "-m", "pytest"]
    checks: list[tuple[str, list[object]]] = [
        ("ruff check", [bin_dir / "ruff", "check", "."]),
        ("ruff format --check", [bin_dir / "ruff", "format", "--check", "."]),
        ("mypy --strict", [bin_dir / "mypy"]),
        # Biome (pinned in package.json): the JavaScript's formatter and linter, checked together;
        # `node_modules/.bin/biome check --write .` fixes what it can.
        ("biome ci: JavaScript format and lint", [biome, "ci", "--colors=off", "."]),
        *(
            (f"tsc --checkJs -p {config.relative_to(ROOT)}", [tsc, "--noEmit", "-p", config])
            for config in typescript_projects()
        ),
        # The JavaScript's fast tier: worker/ over fake endpoints, seconds, no browser.
        ("node --test tests/js/", ["node", "--test", ROOT / "tests" / "js"]),
        # Two processes: see BROWSER_FIXTURES in tests/conftest.py for why.
        ("pytest: unit and server tests", [*pytest, "-m", "not e2e", *argv]),
        ("pytest: end-to-end tests in Chromium", [*pytest, "-m", "e2e", *argv]),
    ]
    failed = []
    for title, command in checks:
        with step(title):
            try:
                run(command, env=env)
            except NoTestsSelected:
                if not argv:  # without a selection of the user's, an empty run is a broken suite
                    print("    FAILED: no tests were collected", flush=True)
                    failed.append(title)
            except BuildError as error:
                print(f"    FAILED: {error}", flush=True)
                failed.append(title)
    if failed:
        raise BuildError(f"These checks failed: {', '.join(failed)}.")
    print("==> All checks passed.", flush=True)


def bench(argv: Sequence[str]) -> None:
    setup()
    build()
    run([VENV_PYTHON, "-m", "bench", *argv], env=browser_env())


def setup_command(argv: Sequence[str]) -> None:
    setup()


def build_command(argv: Sequence[str]) -> None:
    setup(SERVE_GROUPS)
    build()


COMMANDS: dict[str, Callable[[Sequence[str]], None]] = {
    "setup": setup_command,
    "build": build_command,
    "serve": serve,
    "test": test,
    "bench": bench,
}


def main(argv: Sequence[str]) -> int:
    if not argv or argv[0] not in COMMANDS:
        print(__doc__.strip().split("\n\n")[1] if __doc__ else "", file=sys.stderr)
        if argv and argv[0] not in ("-h", "--help", "help"):
            print(f"\nUnknown command {argv[0]!r}.", file=sys.stderr)
            return 2
        return 0 if argv else 2
    try:
        COMMANDS[argv[0]](list(argv[1:]))
    except BuildError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
