"""The ncnn :class:`~modelfile.formats.base.EditOps`: the functions of :mod:`.edit` bound to one model."""

from __future__ import annotations

from collections.abc import Sequence

from ...graph import Value
from ...report import Change
from ..edit_ops import ModuleEditOps
from . import edit

__all__ = ["NcnnOps"]


class NcnnOps(ModuleEditOps):
    """Edit operations bound to one ncnn model."""

    module = edit

    def prepare(self) -> None:
        # map the .bin while the layer order is still the original one
        self.model.handler.weights(self.model)  # type: ignore[attr-defined]

    def order_inputs(self, order: Sequence[Value]) -> list[Change]:
        return []  # ncnn inputs are looked up by name; their order carries no meaning

    def rename_value(self, value: Value, old: str, new: str) -> list[Change]:
        old = value.name  # the blob's name: ``old`` may be a position (input#0) or the producing layer's name
        out = [Change("rename-blob", old, old, new, f"{len(value.uses)} use(s) and its producer line re-rendered")]
        value.name = new
        p = value.producer
        if p is not None and p.op_type == "Input" and p.name == old:
            p.name = new
            out.append(Change("rename-layer", old, old, new))
        return out

    def rename_clash(self, value: Value, new: str) -> str | None:
        p = value.producer
        if p is None or p.op_type != "Input":
            return None
        old = value.name
        # ncnn finds an input by its blob name, and pnnx names the Input layer like its blob
        if any(n.name == new for n in self.model.graph.nodes if not (n is p and n.name == old)):
            return f"cannot rename input {old!r} to {new!r}: a layer is already named {new!r}"
        return None
