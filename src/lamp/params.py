"""Settings dataclasses built from ``params.yaml`` values."""

from __future__ import annotations

from dataclasses import fields
from typing import Any, Mapping, TypeVar

T = TypeVar("T")


def from_params(cls: type[T], values: Mapping[str, Any] | None, what: str, **extra: Any) -> T:
    """``cls(**values, **extra)``, rejecting keys ``cls`` lacks so that a typo in params.yaml surfaces."""
    values = dict(values or {})
    known = {f.name for f in fields(cls)} - set(extra)
    unknown = set(values) - known
    if unknown:
        raise ValueError(f"unknown {what} {sorted(unknown)}; known: {sorted(known)}")
    return cls(**values, **extra)
