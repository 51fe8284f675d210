"""The IR :class:`~modelfile.formats.base.EditOps`: the functions of :mod:`.edit` bound to one model."""

from __future__ import annotations

from ..edit_ops import ModuleEditOps
from . import edit

__all__ = ["IROps"]


class IROps(ModuleEditOps):
    """Edit operations bound to one IR model (tensor-name clashes are checked by the rename pass)."""

    module = edit
