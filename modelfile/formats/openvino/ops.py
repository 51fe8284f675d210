"""The IR :class:`~modelfile.formats.base.EditOps`: what transforms call to edit an OpenVINO IR."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ...graph import Node, Value
from ...model import Model
from ...report import Change
from . import edit

__all__ = ["IROps"]


def _changes(rows: list[tuple[Any, ...]]) -> list[Change]:
    return [Change(*r) for r in rows]


class IROps:
    """Edit operations bound to one IR model."""

    def __init__(self, model: Model) -> None:
        self.model = model

    def prepare(self) -> None:
        edit.prepare(self.model)

    def is_input(self, node: Node) -> bool:
        return edit.is_input(node)

    def value_dtype(self, value: Value) -> str | None:
        return edit.value_dtype(value)

    def value_shape(self, value: Value) -> list[int | None] | None:
        return edit.value_shape(value)

    def set_input(self, node: Node, shape: Any, dtype: str | None) -> list[Change]:
        return _changes(edit.set_input(self.model, node, shape, dtype))

    def freeze_input(self, node: Node, array: np.ndarray) -> list[Change]:
        return _changes(edit.freeze_input(self.model, node, array))

    def new_constant(self, name: str, array: np.ndarray, *, like: Value | None = None) -> Value:
        return edit.new_constant(self.model, name, array, like=like)

    def new_input(self, name: str, *, shape: Any, dtype: str | None, like: Value | None = None) -> Value:
        return edit.new_input(self.model, name, shape=shape, dtype=dtype, like=like)

    def set_outputs(self, values: Sequence[Value]) -> list[Change]:
        return _changes(edit.set_outputs(self.model, list(values)))

    def order_inputs(self, order: Sequence[Value]) -> list[Change]:
        return _changes(edit.order_inputs(self.model, list(order)))

    def keep_roots(self) -> list[Value]:
        return edit.keep_roots(self.model)

    def always_keep(self, node: Node) -> bool:
        return edit.always_keep(node)

    def remove_nodes(self, nodes: Sequence[Node]) -> None:
        edit.remove_nodes(self.model, list(nodes))

    def rename_value(self, value: Value, old: str, new: str) -> list[Change]:
        return _changes(edit.rename_tensor(self.model, value, old, new))

    def rename_clash(self, value: Value, new: str) -> str | None:
        return None  # tensor names are checked against every tensor by the rename pass

    def finish(self) -> list[Change]:
        return _changes(edit.finish(self.model))
