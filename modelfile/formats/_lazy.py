"""Lazy re-exports for format packages: recognising a file must not import its reader and writer."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

__all__ = ["lazy_exports"]


def lazy_exports(package: str, table: dict[str, str], namespace: dict[str, Any]) -> Callable[[str], Any]:
    """A module ``__getattr__`` importing ``package.<table[name]>`` when ``name`` is first used."""

    def __getattr__(attr: str) -> Any:
        mod = table.get(attr)
        if mod is None:
            raise AttributeError(f"module {package!r} has no attribute {attr!r}")
        value = getattr(importlib.import_module(f"{package}.{mod}"), attr)
        namespace[attr] = value
        return value

    return __getattr__
