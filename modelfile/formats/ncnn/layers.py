"""What ncnn knows about layer types: the built-in list and its binary type indexes."""

from __future__ import annotations

from pathlib import Path

__all__ = ["BUILTIN_TYPES", "TYPE_INDEX", "type_name"]


def _load_types() -> list[str]:
    # the package's data folder, read directly: importlib.resources costs more than the file on every start
    text = (Path(__file__).resolve().parents[2] / "data" / "ncnn_layer_types.txt").read_text(encoding="utf-8")
    return [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]


#: Built-in layer types in ncnn's enum order (the order is the binary type index).
BUILTIN_LIST: list[str] = _load_types()
BUILTIN_TYPES: frozenset[str] = frozenset(BUILTIN_LIST)
TYPE_INDEX: dict[str, int] = {t: i for i, t in enumerate(BUILTIN_LIST)}
CUSTOM_BIT = 0x100


def type_name(index: int) -> str:
    """Layer type for a binary ``.param.bin`` type index (custom layers: ``custom_<k>``)."""
    if index & CUSTOM_BIT:
        return f"custom_{index & ~CUSTOM_BIT}"
    if 0 <= index < len(BUILTIN_LIST):
        return BUILTIN_LIST[index]
    return f"type_{index}"
