"""Settings dataclasses built from ``params.yaml`` values: unknown keys and wrong types are refused by name.

A settings class declares its fields with types (``int``, ``float``, ``bool``, ``str``, ``X | None``,
``Literal[...]``, ``tuple[T, ...]``, ``dict[str, T]``); :func:`from_params` checks each value against
its field's type before the class sees it, so ``learning_rate: "fast"`` is reported as such when
the parameters are read, not as a ``TypeError`` deep inside a run after it has deleted something.
Ranges are each class's own ``__post_init__``.
"""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Mapping, Sequence
from dataclasses import fields
from typing import Any, Literal, TypeVar, Union

T = TypeVar("T")


def from_params(cls: type[T], values: Mapping[str, Any] | None, what: str, **extra: Any) -> T:
    """``cls(**values, **extra)``, refusing keys ``cls`` lacks and values of the wrong type, by name."""
    if values is not None and not isinstance(values, Mapping):
        raise ValueError(f"{what}: expected a mapping of settings, got {values!r}")
    values = dict(values or {})
    known = {f.name for f in fields(cls)} - set(extra)
    unknown = set(values) - known
    if unknown:
        hints = [f"{k!r}: did you mean {close[0]!r}?" for k in sorted(unknown)
                 if (close := difflib.get_close_matches(k, known, n=1))]
        hint = f" ({'; '.join(hints)})" if hints else ""
        raise ValueError(f"unknown {what} {sorted(unknown)}{hint}; known: {sorted(known)}")
    hints = typing.get_type_hints(cls)
    for name, value in values.items():
        expected = type_problem(value, hints[name])
        if expected:
            raise ValueError(f"{what}: {name} is {value!r}; {expected}")
    return cls(**values, **extra)


def type_problem(value: Any, hint: Any) -> str | None:
    """What ``value`` should have been to fit ``hint`` (a field's type), or None when it fits.

    A true or false where words are expected gets the fix said: YAML 1.1 (PyYAML, DVC) reads an
    unquoted ``no``, ``off``, ``yes`` or ``on`` as a boolean, so ``mixed_precision: no`` arrives as false.
    """
    if fits(value, hint):
        return None
    words = [arg for arg in _literal_words(hint) if arg.lower() in _YAML_BOOLEANS[value]] if isinstance(value, bool) else []
    quoted = f' (YAML reads an unquoted {words[0]} as {str(value).lower()}: write "{words[0]}", in quotes)' if words else ""
    return f"expected {describe(hint)}{quoted}"


#: The words YAML 1.1 reads as each boolean.
_YAML_BOOLEANS = {True: ("yes", "on", "true", "y"), False: ("no", "off", "false", "n")}


def _literal_words(hint: Any) -> list[str]:
    """The string values a ``Literal`` (or a union holding one) allows."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (Union, types.UnionType):
        return [word for arg in args for word in _literal_words(arg)]
    return [arg for arg in args if isinstance(arg, str)] if origin is Literal else []


def fits(value: Any, hint: Any) -> bool:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is Any:
        return True
    if hint is type(None):
        return value is None
    if origin in (Union, types.UnionType):
        return any(fits(value, arg) for arg in args)
    if origin is Literal:
        return value in args
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if hint is str:
        return isinstance(value, str)
    if origin in (tuple, list, Sequence, typing.Sequence) or hint in (tuple, list):
        element = args[0] if args else Any
        return isinstance(value, (list, tuple)) and all(fits(item, element) for item in value)
    if origin in (dict, Mapping, typing.Mapping) or hint in (dict, Mapping):
        element = args[1] if len(args) == 2 else Any
        return isinstance(value, Mapping) and all(isinstance(k, str) and fits(v, element) for k, v in value.items())
    return isinstance(value, hint) if isinstance(hint, type) else True


def describe(hint: Any) -> str:
    """A field's type in words: ``a number``, ``one of ['no', 'fp16']``, ``an integer or null``."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (Union, types.UnionType):
        return " or ".join(describe(arg) for arg in args)
    if origin is Literal:
        return f"one of {list(args)}"
    words = {bool: "true or false", int: "an integer", float: "a number", str: "a string", type(None): "null"}
    if hint in words:
        return words[hint]
    if origin in (tuple, list, Sequence, typing.Sequence):
        return f"a list of {describe(args[0]) if args else 'values'}"
    if origin in (dict, Mapping, typing.Mapping):
        return "a mapping"
    return getattr(hint, "__name__", str(hint))


def at_least(name: str, value: float, minimum: float) -> None:
    """``ValueError`` naming the setting unless ``value >= minimum``."""
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value!r}")


def positive(name: str, value: float) -> None:
    """``ValueError`` naming the setting unless ``value > 0``."""
    if not value > 0:
        raise ValueError(f"{name} must be greater than 0, got {value!r}")
