"""The IR :class:`~modelfile.formats.base.EditOps`: the functions of :mod:`.edit` bound to one model."""

from __future__ import annotations

from ...graph import Value
from ...report import Change
from ..edit_ops import ModuleEditOps, _changes
from . import edit

__all__ = ["IROps"]


class IROps(ModuleEditOps):
    """Edit operations bound to one IR model (tensor-name clashes are checked by the rename pass)."""

    module = edit

    def rename_value(self, value: Value, old: str, new: str) -> list[Change]:
        # v10 renames inputs/outputs by layer; positions rename the primary name; no new collisions
        return _changes(edit.rename_value(self.model, value, old, new))
