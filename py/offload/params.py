"""Checks for task parameters, raising `ParameterError` with a message a person can act on."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import ClassVar

from offload.schema import ParamKind, ParamSchema


class ParameterError(ValueError):
    """A task was given a parameter it cannot use; the message names the parameter and the rule."""


def reject_unknown(task: str, params: Mapping[str, object], allowed: Collection[str]) -> None:
    """Refuse parameters the task does not know (a typo would otherwise be silently ignored)."""
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        raise ParameterError(
            f"{task}: unknown parameter {', '.join(map(repr, unknown))}; "
            f"it takes {', '.join(sorted(allowed))}"
        )


def integer(
    task: str,
    params: Mapping[str, object],
    name: str,
    *,
    minimum: int,
    maximum: int,
    default: int | None = None,
) -> int:
    """The integer parameter `name`, within [minimum, maximum].

    Raises:
        ParameterError: missing (without a default), not an integer, or out of range.
    """
    if name not in params:
        if default is None:
            raise ParameterError(f"{task}: missing parameter {name!r} (an integer)")
        return default
    value = params[name]
    # JSON from JavaScript turns 3 into 3.0 at times; accept integral floats, refuse bools.
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ParameterError(f"{task}: {name} must be an integer, got {value!r}")
    if not minimum <= value <= maximum:
        raise ParameterError(
            f"{task}: {name} must be between {minimum:_} and {maximum:_}, got {value:_}"
        )
    return value


def number(
    task: str,
    params: Mapping[str, object],
    name: str,
    *,
    minimum: float,
    maximum: float,
    default: float | None = None,
) -> float:
    """The real-number parameter `name`, within [minimum, maximum].

    Raises:
        ParameterError: missing (without a default), not a finite number, or out of range.
    """
    if name not in params:
        if default is None:
            raise ParameterError(f"{task}: missing parameter {name!r} (a number)")
        return default
    value = params[name]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ParameterError(f"{task}: {name} must be a number, got {value!r}")
    if not minimum <= value <= maximum:  # also rejects NaN
        raise ParameterError(f"{task}: {name} must be between {minimum} and {maximum}, got {value}")
    return float(value)


def text(task: str, params: Mapping[str, object], name: str, *, max_length: int) -> str:
    """The string parameter `name`, at most `max_length` characters.

    Raises:
        ParameterError: missing, not a string, or too long.
    """
    if name not in params:
        raise ParameterError(f"{task}: missing parameter {name!r} (a string)")
    value = params[name]
    if not isinstance(value, str):
        raise ParameterError(f"{task}: {name} must be a string, got {type(value).__name__}")
    if len(value) > max_length:
        raise ParameterError(
            f"{task}: {name} is {len(value):_} characters long; the limit is {max_length:_}"
        )
    return value


# --- declared parameters --------------------------------------------------------------------------
# A task declares its parameters once, as the objects below; the same objects validate a request
# (`read`) and describe the task to the page (`schema`), so the form and the checks cannot drift.


class Param:
    """A named parameter with a description and a suggested value.

    Args:
        name: the key in the parameter mapping.
        description: one line for a person filling in a form.
        default: the suggested value (the page's initial value); used when `required` is False and
            the parameter is missing.
        required: whether a request must give the parameter.
    """

    #: Set by each subclass: what the page's form shows for it.
    kind: ClassVar[ParamKind]

    def __init__(self, name: str, description: str, default: object, *, required: bool) -> None:
        self.name = name
        self.description = description
        self.default = default
        self.required = required

    def schema(self) -> ParamSchema:
        """The parameter as plain values, for a page to build a form from."""
        return {
            "name": self.name,
            "kind": self.kind,
            "description": self.description,
            "default": self.default,
            "required": self.required,
        }


class _BoundedParam[T: (int, float)](Param):
    """A number within [minimum, maximum]; a subclass names the check (`integer` or `number`)."""

    def __init__(
        self,
        name: str,
        description: str,
        default: T,
        *,
        minimum: T,
        maximum: T,
        required: bool = True,
    ) -> None:
        super().__init__(name, description, default, required=required)
        self.minimum: T = minimum
        self.maximum: T = maximum
        self.fallback: T | None = None if required else default

    @staticmethod
    def check(
        task: str,
        params: Mapping[str, object],
        name: str,
        *,
        minimum: T,
        maximum: T,
        default: T | None,
    ) -> T:
        raise NotImplementedError

    def read(self, task: str, params: Mapping[str, object]) -> T:
        """The value in `params`, checked by the subclass's `check`."""
        bounds = {"minimum": self.minimum, "maximum": self.maximum}
        return self.check(task, params, self.name, **bounds, default=self.fallback)

    def schema(self) -> ParamSchema:
        schema = super().schema()
        schema["minimum"] = self.minimum
        schema["maximum"] = self.maximum
        return schema


class IntParam(_BoundedParam[int]):
    """An integer within [minimum, maximum] (see `integer`)."""

    kind: ClassVar[ParamKind] = "integer"
    check = staticmethod(integer)


class NumberParam(_BoundedParam[float]):
    """A finite real number within [minimum, maximum] (see `number`)."""

    kind: ClassVar[ParamKind] = "number"
    check = staticmethod(number)


class TextParam(Param):
    """A string of at most `max_length` characters (always required)."""

    kind: ClassVar[ParamKind] = "string"

    def __init__(
        self,
        name: str,
        description: str,
        default: str,
        *,
        max_length: int,
        language: str | None = None,
    ) -> None:
        super().__init__(name, description, default, required=True)
        self.max_length = max_length
        #: The programming language of the text ("python"): a page shows a code editor for it.
        self.language = language

    def read(self, task: str, params: Mapping[str, object]) -> str:
        """The value in `params`, checked (see `text`)."""
        return text(task, params, self.name, max_length=self.max_length)

    def schema(self) -> ParamSchema:
        schema = super().schema()
        schema["max_length"] = self.max_length
        if self.language:
            schema["language"] = self.language
        return schema


class RangeParam(Param):
    """An optional half-open range [start, stop) of integers, given as a two-item list.

    The range lies within [0, value of `bound`), an integer parameter of the same task. Declaring
    one makes the task splittable: a pool may run the range in parts on several workers, and the
    task promises that the parts' results, in order, make up the whole (bytes concatenate).

    Args:
        name: the key in the parameter mapping.
        description: one line for a person.
        bound: the integer parameter whose value is the end of the whole range.
    """

    kind: ClassVar[ParamKind] = "range"

    def __init__(self, name: str, description: str, *, bound: IntParam) -> None:
        super().__init__(name, description, None, required=False)
        self.bound = bound

    def read(self, task: str, params: Mapping[str, object]) -> tuple[int, int] | None:
        """The range in `params` (None when absent), with 0 <= start < stop <= the bound's value.

        Raises:
            ParameterError: the bound is invalid, or the range is not a list of two integers, or
                not a non-empty range within the bound.
        """
        value = params.get(self.name)
        if value is None:
            return None
        limit = self.bound.read(task, params)
        if not isinstance(value, list | tuple) or len(value) != 2:
            raise ParameterError(f"{task}: {self.name} must be a list [start, stop], got {value!r}")
        first, second = f"{self.name}[0]", f"{self.name}[1]"
        pair = {first: value[0], second: value[1]}
        start = integer(task, pair, first, minimum=0, maximum=limit - 1)
        stop = integer(task, pair, second, minimum=start + 1, maximum=limit)
        return start, stop

    def schema(self) -> ParamSchema:
        schema = super().schema()
        schema["bound"] = self.bound.name
        return schema


def reject_unknown_params(
    task: str, params: Mapping[str, object], declared: Collection[Param]
) -> None:
    """`reject_unknown` for declared parameters."""
    reject_unknown(task, params, {param.name for param in declared})


class BytesParam(Param):
    """Raw bytes (a file's contents), at most `max_bytes` long; always required.

    The page sends an ArrayBuffer, moved to the worker rather than copied; Pyodide hands it to
    Python as a memoryview. Natively, bytes or bytearray do as well. A file has no sensible
    default, so the page fills this parameter from a file picker, not from the task's form.
    """

    kind = "bytes"

    def __init__(self, name: str, description: str, *, max_bytes: int) -> None:
        super().__init__(name, description, None, required=True)
        self.max_bytes = max_bytes

    def read(self, task: str, params: Mapping[str, object]) -> memoryview:
        """The bytes in `params` as a flat memoryview (no copy).

        Raises:
            ParameterError: missing, not bytes-like, or over `max_bytes` (the message names the
                cap).
        """
        if self.name not in params:
            raise ParameterError(f"{task}: missing parameter {self.name!r} (bytes: a file)")
        value = params[self.name]
        if not isinstance(value, bytes | bytearray | memoryview):
            raise ParameterError(
                f"{task}: {self.name} must be bytes (an ArrayBuffer from the page), "
                f"got {type(value).__name__}"
            )
        view = memoryview(value).cast("B") if isinstance(value, memoryview) else memoryview(value)
        if view.nbytes > self.max_bytes:
            raise ParameterError(
                f"{task}: {self.name} is {mebibytes(view.nbytes)}; {task} reads at most "
                f"{mebibytes(self.max_bytes)} (its size cap, max_bytes of parameter {self.name!r})"
            )
        return view

    def schema(self) -> ParamSchema:
        return {**super().schema(), "max_bytes": self.max_bytes}


def mebibytes(size: int) -> str:
    """A byte count for a person: "12.3 MiB" (or "512 bytes" below one KiB)."""
    if size < 1024:
        return f"{size:_} bytes"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KiB"
    return f"{size / 1024 / 1024:.1f} MiB"
