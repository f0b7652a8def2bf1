"""Checks for task parameters, raising `ParameterError` with a message a person can act on."""

from __future__ import annotations

from collections.abc import Collection, Mapping


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
