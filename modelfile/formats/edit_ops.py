"""An :class:`~modelfile.formats.base.EditOps` over a format's ``edit`` module of plain functions.

Each format keeps its building blocks as functions taking the model first
(``edit.freeze_input(model, node, array)``), which its own code and tests call
directly; this class binds them to one model behind the typed contract. A
format subclasses it, sets :attr:`module`, and overrides what differs.
"""

from __future__ import annotations

from collections.abc import Sequence
from types import ModuleType
from typing import TYPE_CHECKING, Any, ClassVar

from ..report import Change

if TYPE_CHECKING:
    import numpy as np

    from ..graph import Node, Value
    from ..model import Model

__all__ = ["ModuleEditOps"]


def _changes(rows: list[Any]) -> list[Change]:
    return [r if isinstance(r, Change) else Change(*r) for r in rows]


class ModuleEditOps:
    """Edit operations bound to one model, delegating to :attr:`module`'s functions."""

    module: ClassVar[ModuleType]

    def __init__(self, model: "Model") -> None:
        self.model = model

    def prepare(self) -> None:
        self.module.prepare(self.model)

    def is_input(self, node: "Node") -> bool:
        return bool(self.module.is_input(node))

    def value_dtype(self, value: "Value") -> str | None:
        return self.module.value_dtype(value)  # type: ignore[no-any-return]

    def value_shape(self, value: "Value") -> list[int | None] | None:
        return self.module.value_shape(value)  # type: ignore[no-any-return]

    def set_input(self, node: "Node", shape: Any, dtype: str | None) -> list[Change]:
        return _changes(self.module.set_input(self.model, node, shape, dtype))

    def freeze_input(self, node: "Node", array: "np.ndarray") -> list[Change]:
        return _changes(self.module.freeze_input(self.model, node, array))

    def new_constant(self, name: str, array: "np.ndarray", *, like: "Value | None" = None) -> "Value":
        return self.module.new_constant(self.model, name, array, like=like)  # type: ignore[no-any-return]

    def new_input(self, name: str, *, shape: Any, dtype: str | None, like: "Value | None" = None) -> "Value":
        return self.module.new_input(self.model, name, shape=shape, dtype=dtype, like=like)  # type: ignore[no-any-return]

    def set_outputs(self, values: Sequence["Value"]) -> list[Change]:
        return _changes(self.module.set_outputs(self.model, list(values)))

    def order_inputs(self, order: Sequence["Value"]) -> list[Change]:
        return _changes(self.module.order_inputs(self.model, list(order)))

    def keep_roots(self) -> list["Value"]:
        return list(self.module.keep_roots(self.model))

    def always_keep(self, node: "Node") -> bool:
        return bool(self.module.always_keep(node))

    def remove_nodes(self, nodes: Sequence["Node"]) -> None:
        self.module.remove_nodes(self.model, list(nodes))

    def rename_value(self, value: "Value", old: str, new: str) -> list[Change]:
        return _changes(self.module.rename_tensor(self.model, value, old, new))

    def rename_clash(self, value: "Value", new: str) -> str | None:
        return None

    def finish(self) -> list[Change]:
        return _changes(self.module.finish(self.model))

    def weights_bytes(self) -> int | None:
        return self.module.weights_bytes(self.model)  # type: ignore[no-any-return]
