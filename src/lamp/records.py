"""A stage's record (its summary, a report with text and paths) and the numbers DVC compares.

Its own module, small and without heavy imports, because every stage that writes a metrics file
lists it as a DVC dependency.
"""

from __future__ import annotations

import numbers
from typing import Any, Iterator, Mapping


def numeric_entries(record: Mapping[str, Any]) -> dict[str, float | int]:
    """The numbers of a record (a stage's summary) under dotted keys: what its DVC metrics file holds.

    Nested mappings and lists become ``a.b`` and ``a.0`` keys, booleans 1 or 0; text, paths and
    missing values are left out (they stay in the record, which is the stage's report), so
    ``dvc metrics show`` and ``dvc metrics diff`` compare numbers with numbers.
    """
    return dict(_numbers(record, ""))


def _numbers(value: Any, key: str) -> Iterator[tuple[str, float | int]]:
    if isinstance(value, Mapping):
        for name, item in value.items():
            yield from _numbers(item, f"{key}.{name}" if key else str(name))
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            yield from _numbers(item, f"{key}.{index}")
    elif isinstance(value, numbers.Integral):
        yield key, int(value)
    elif isinstance(value, numbers.Real):
        yield key, float(value)
