"""Rename model inputs/outputs (any tensor, in fact) everywhere they are used."""

from __future__ import annotations

from ..errors import ModelfileError
from ..model import Model
from .locate import values_named
from .report import Report

__all__ = ["rename"]


def rename(model: Model, mapping: dict[str, str]) -> Report:
    """Rename tensors ``old -> new``; refuses a new name another tensor already has.

    ncnn: the blob name in every layer line that uses it, and the ``Input``
    layer's name when it equals the blob name. OpenVINO: the tensor name on
    the port (and the Result's ``output_names``), and the Parameter/Result
    friendly name when it equals the old name. Idempotent: renaming to the
    current name is a no-op.
    """
    report = Report("rename")
    g = model.graph
    ops = model.ops
    plan = []
    for old, new in mapping.items():
        if not new or any(c.isspace() for c in new):
            raise ModelfileError(f"bad new name {new!r} for {old!r}: names cannot be empty or contain spaces")
        if old == new:
            continue
        vals = values_named(g, old)
        if not vals:
            if values_named(g, new):
                report.notes.append(f"{old!r} not found but {new!r} exists: already renamed")
                continue
            raise ModelfileError(f"no input, output or tensor named {old!r}")
        if len(vals) > 1:
            raise ModelfileError(f"{len(vals)} different tensors are named {old!r}; rename is ambiguous")
        clash = [v for v in values_named(g, new) if v is not vals[0]]
        if clash or any(new == o for o in mapping if o != old and mapping[o] != o):
            raise ModelfileError(f"cannot rename {old!r} to {new!r}: another tensor is already named {new!r}")
        why = ops.rename_clash(vals[0], new)
        if why:
            raise ModelfileError(why)
        plan.append((old, new, vals[0]))
    for old, new, v in plan:
        report.extend_changes(ops.rename_value(v, old, new))
    return report
