"""A developer's own functions, called by dotted name: their modules, their arguments, their values.

The worker writes each module the page named (`PythonWorker.start({modules})`) into one folder on
`sys.path` (`add_module`), then `worker.call("mymod.fn", args)` reaches `call` here: the module is
imported, the function found, the arguments bound to its signature before its body runs, and the
value checked to be plain data the page can receive. Each way this can go wrong has its own error,
so the page can tell "you forgot the module" from "your function raised". Pure Python: the native
tests call it exactly as the worker does.
"""

from __future__ import annotations

import importlib
import inspect
import keyword
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

#: Where the worker writes the page's modules (Pyodide's in-memory file system; natively, /tmp).
MODULE_FOLDER = Path(tempfile.gettempdir()) / "offload_modules"

#: Plain data: what a call takes and returns, and what run_code returns as its `value`.
PLAIN_SCALARS = (type(None), bool, int, float, str, bytes)


class MissingModuleError(ImportError):
    """The module of a called function is nowhere on sys.path (not given to the worker)."""


class MissingFunctionError(AttributeError):
    """The module has no such name, or the name is no callable."""


class ArgumentError(TypeError):
    """The arguments do not fit the function's signature (checked before its body runs)."""


class ResultError(TypeError):
    """The function returned something other than plain data, which the page cannot receive."""


def add_module(filename: str, source: str, folder: Path = MODULE_FOLDER) -> str:
    """Write module `filename` (e.g. "mymod.py") with `source` where `import` finds it.

    Returns:
        The module's name ("mymod"). A module of that name imported before is forgotten, so the
        next import reads the new source.

    Raises:
        ValueError: the file name is no `<identifier>.py`.
    """
    name = filename.removesuffix(".py")
    if not filename.endswith(".py") or not name.isidentifier() or keyword.iskeyword(name):
        raise ValueError(f"a module's file name must be <identifier>.py, got {filename!r}")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / filename).write_text(source, encoding="utf-8")
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))
    sys.modules.pop(name, None)
    importlib.invalidate_caches()
    return name


def find(dotted: str) -> Callable[..., object]:
    """The function `dotted` names ("mymod.fn", "pkg.sub.fn"), its module imported.

    Raises:
        MissingModuleError: the module does not exist.
        MissingFunctionError: it has no such name, or the name is not callable.
        BaseException: whatever importing the module raises (its traceback starts in its file).
    """
    module_name, _, attribute = dotted.rpartition(".")
    if not module_name or not attribute:
        raise MissingFunctionError(f"name a function as module.function, got {dotted!r}")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        # Only the named module (or a package on its path) missing is ours to explain; an import
        # inside the module that fails is the module's own error, traceback and all.
        if error.name is None or not (module_name + ".").startswith(error.name + "."):
            raise
        raise MissingModuleError(
            f"no module named {module_name!r}: start the worker with its file, e.g. "
            f'PythonWorker.start({{modules: ["./{module_name.split(".")[0]}.py"]}})',
            name=module_name,
        ) from None
    try:
        function = getattr(module, attribute)
    except AttributeError:
        public = sorted(
            name
            for name, value in vars(module).items()
            if callable(value) and not name.startswith("_")
        )
        raise MissingFunctionError(
            f"module {module_name!r} has no function {attribute!r} "
            f"(its functions: {', '.join(public) or 'none'})"
        ) from None
    if not callable(function):
        raise MissingFunctionError(f"{dotted} is a {type(function).__name__}, not a function")
    return function  # type: ignore[no-any-return]


def bind(
    dotted: str,
    function: Callable[..., object],
    args: Sequence[object],
    kwargs: Mapping[str, object],
) -> None:
    """Check that `args` and `kwargs` fit `function`'s signature, without calling it.

    Raises:
        ArgumentError: they do not, with Python's own reason and the signature.
    """
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError):
        return  # no signature to check (some built-ins): the call itself will say
    try:
        signature.bind(*args, **kwargs)
    except TypeError as error:
        # Shown without annotations: under `from __future__ import annotations` they are strings
        # ("n: 'int'"), noise beside the reason.
        bare = signature.replace(
            parameters=[p.replace(annotation=p.empty) for p in signature.parameters.values()],
            return_annotation=signature.empty,
        )
        raise ArgumentError(f"{dotted}{bare}: {error}") from None


def call(
    dotted: str, args: Sequence[object] = (), kwargs: Mapping[str, object] | None = None
) -> object:
    """Call the function `dotted` names with plain arguments and return its plain value.

    Arguments arrive as the worker hands them over: a `memoryview` (an ArrayBuffer) becomes
    `bytes`. The caller sets up progress and output around it (offload.bridge.call).

    Raises:
        MissingModuleError, MissingFunctionError, ArgumentError: as their names say.
        ResultError: the value is not plain data.
        BaseException: whatever the function raises, unchanged.
    """
    function = find(dotted)
    plain_args = [from_page(arg) for arg in args]
    plain_kwargs = {str(key): from_page(value) for key, value in (kwargs or {}).items()}
    bind(dotted, function, plain_args, plain_kwargs)
    value = function(*plain_args, **plain_kwargs)
    if inspect.isawaitable(value):
        close = getattr(value, "close", None)
        if close is not None:
            close()
        raise ResultError(f"{dotted} is async; worker.call runs plain (def) functions")
    if not is_plain(value):
        raise ResultError(
            f"{dotted} returned a {type(value).__name__}, which is not plain data: return None, "
            "bool, int, float, str, bytes, or lists and dicts (str keys) of those"
        )
    return value


def from_page(value: object) -> object:
    """A value as the page sent it, with bytes as `bytes` (Pyodide hands over a memoryview)."""
    if isinstance(value, memoryview | bytearray):
        return bytes(value)
    if isinstance(value, list):
        return [from_page(item) for item in value]
    if isinstance(value, dict):
        return {key: from_page(item) for key, item in value.items()}
    return value


#: The most items `is_plain` looks at by default: a list that contains itself is no plain data.
MAX_ITEMS = 10_000_000


def is_plain(value: object, budget: int = MAX_ITEMS) -> bool:
    """Whether `value` is plain data: None/bool/int/float/str/bytes, lists (or tuples) and dicts
    with str keys of those, holding at most `budget` items in all."""
    left = budget
    stack = [value]
    while stack:
        item = stack.pop()
        left -= 1
        if left < 0:
            return False
        # Exact types: a subclass (an IntEnum, os.stat_result's tuple) may convert differently.
        kind = type(item)
        if kind in PLAIN_SCALARS:
            continue
        if kind is list or kind is tuple:
            stack.extend(item)  # type: ignore[arg-type]
        elif kind is dict and all(type(key) is str for key in item):  # type: ignore[attr-defined]
            stack.extend(item.values())  # type: ignore[attr-defined]
        else:
            return False
    return True
