"""Rename model inputs/outputs (any tensor, in fact) everywhere they are used.

What to rename can be given as:

* a tensor name, or on a v10 IR the name ``read_model`` reports for an input/output
  (the Parameter's layer name; the producing layer's name for an output, ``layer.N``
  when it has several outputs);
* a position: ``input#N`` / ``output#N`` (0-based, the order ``read_model`` lists them).
  ``#`` cannot clash with mo's ``op:N`` / ``N:op`` locations; an existing tensor or layer
  literally named ``output#0`` wins over the position;
* the producing layer's name (``op``, or ``op:N`` for its output port N) for a tensor without a name.
"""

from __future__ import annotations

import re

from ..errors import ModelfileError
from ..graph import Graph, Value, fresh_name
from ..model import Model
from .locate import values_named
from .report import Report

__all__ = ["name_outputs", "rename", "resolve_value"]

_POSITION = re.compile(r"^(input|output)#(\d+)$")
_OP_PORT = re.compile(r"^(.*):(\d+)$")


def _positional(g: Graph, old: str) -> Value | None:
    m = _POSITION.match(old)
    if m is None:
        return None
    kind, k = m.group(1), int(m.group(2))
    vals = g.inputs if kind == "input" else g.outputs
    if k >= len(vals):
        raise ModelfileError(f"{old!r}: the model has {len(vals)} {kind}(s) (positions start at 0)")
    return vals[k]


def resolve_value(g: Graph, old: str) -> Value | None:
    """The value ``old`` designates (tensor name, ``input#N``/``output#N``, producing ``op`` / ``op:N``)."""
    vals = values_named(g, old)
    if len(vals) > 1:
        raise ModelfileError(f"{len(vals)} different tensors are named {old!r}; rename is ambiguous "
                             "(use input#N / output#N)")
    if vals:
        return vals[0]
    if g.find_node(old) is None:
        pos = _positional(g, old)
        if pos is not None:
            return pos
    op, port = old, 0
    m = _OP_PORT.match(old)
    nodes = g.find_nodes(name=old)
    if not nodes and m is not None:
        op, port = m.group(1), int(m.group(2))
        nodes = g.find_nodes(name=op)
    if not nodes:
        return None
    if len(nodes) > 1:
        raise ModelfileError(f"{len(nodes)} layers are named {op!r}; rename is ambiguous (use output#N)")
    node = nodes[0]
    if m is None or old == op:
        if len(node.outputs) != 1:
            raise ModelfileError(f"layer {op!r} has {len(node.outputs)} outputs; say which with {op}:N")
        return node.outputs[0]
    if port >= len(node.outputs):
        raise ModelfileError(f"layer {op!r} has {len(node.outputs)} output(s); no output port {port}")
    return node.outputs[port]


def _check_name(old: str, new: str) -> None:
    if not new or any(c.isspace() for c in new):
        raise ModelfileError(f"bad new name {new!r} for {old!r}: names cannot be empty or contain spaces")


def rename(model: Model, mapping: dict[str, str]) -> Report:
    """Rename tensors ``old -> new``; refuses a new name another tensor already has.

    ncnn: the blob name in every layer line that uses it, and the ``Input``
    layer's name when it equals the blob name. OpenVINO v11: the tensor name
    on the port (the Result's ``output_names`` follow), and the Parameter/Result
    friendly name when it equals the old name. OpenVINO v10: what makes
    ``read_model`` report the new name — the Parameter's layer name for an input,
    the producing layer's name for an output (tensor names on ports are renamed
    too). Idempotent: renaming to the current name is a no-op.
    """
    report = Report("rename")
    g = model.graph
    ops = model.ops
    plan: list[tuple[str, str, Value]] = []
    for old, new in mapping.items():
        _check_name(old, new)
        if old == new:
            continue
        v = resolve_value(g, old)
        if v is None:
            if values_named(g, new):
                report.notes.append(f"{old!r} not found but {new!r} exists: already renamed")
                continue
            raise ModelfileError(f"no input, output or tensor named {old!r}, and no layer "
                                 "(positions: input#N, output#N)")
        clash = [x for x in values_named(g, new) if x is not v]
        if clash or any(new == o for o in mapping if o != old and mapping[o] != o):
            raise ModelfileError(f"cannot rename {old!r} to {new!r}: another tensor is already named {new!r}")
        why = ops.rename_clash(v, new)
        if why:
            raise ModelfileError(why)
        plan.append((old, new, v))
    for given, new, v in plan:
        report.extend_changes(ops.rename_value(v, given, new))
    return report


def name_outputs(model: Model) -> Report:
    """Give every model output without a tensor name one derived from its producing layer.

    The name is the layer's name (``layer.N`` for output port N of a layer with
    several outputs, as OpenVINO's v10 names), made unique with ``_1``, ``_2``...
    against every tensor and input/output name. v10 outputs are always named
    (by their producing layer), so nothing changes there.
    """
    report = Report("rename")
    from ..formats.openvino.ionames import implied_names, io_names, legacy_output_name

    g = model.graph
    implied = implied_names(g)
    taken = g.tensor_names()
    for names in implied.values():
        taken.update(names)
    done: set[int] = set()
    for k, v in enumerate(g.outputs):
        if v.name or io_names(g, v, implied) or id(v) in done:  # (an ncnn blob always has a name)
            continue
        done.add(id(v))
        base = legacy_output_name(v) or f"output_{k}"
        new = fresh_name(base, taken)
        report.extend_changes(model.ops.rename_value(v, f"output#{k}", new))
        report.changes[-1].detail = f"named after its producer {v.producer.name if v.producer else '?'}"
    if not report.changes:
        report.notes.append("every output already has a name")
    return report
