"""State variables <-> explicit inputs/outputs (OpenVINO IR ReadValue/Assign).

:func:`cut_state` does what OpenVINO's ``StatefulToStateless`` pass
(``openvino._offline_transformations.stateful_to_stateless_transformation``)
does to optimum-intel LLMs, and what the DeepSpeech guide did with ``mo`` for
any model: every state variable becomes a ``Parameter`` and a ``Result``.

* A variable read through ``Gather(ReadValue, beam_idx)`` is replaced at the
  Gather and ``beam_idx`` goes (``keep_beam_idx`` keeps both: the ReadValue is
  replaced instead).
* Names and order follow the pass: ``past_key_values.N.key``/``present.N.key``
  decoded from optimum-intel's variable ids (and LFM2's
  ``cache_params.past.conv.N``), ordered layer by layer, key before value;
  other variables come after in Assign order, named
  ``input_restored.<id>``/``output_restored.<id>`` when the model has
  ``beam_idx`` and ``<id>``/``<id>_out`` otherwise. Each new port carries one name.
* A requested name taken only by what the edit removes is free; one still
  used elsewhere is an error.
* v10 IRs name inputs/outputs by layer: the new Parameter is named by its
  layer, the new output by its producing layer (renamed, or a same-type
  ``Convert`` when that layer already names another output).

The pairing, the pruned ReadValue initialiser (when it is zeros: a zero Const
or optimum's ``Broadcast(0, [batch, heads, 0, head_dim])``), the Gather and the
names are recorded in the model's ``rt_info`` (``modelfile/state``) so
:func:`make_state` restores the stateful model.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import ModelfileError
from ..graph import Graph, Node, Value, fresh_name
from ..model import Model
from .report import Report
from ..formats.openvino.keys import IR_RT_LEGACY, IR_VERSION, OUTPUT_NAMES, RT_INFO

if TYPE_CHECKING:  # (numpy is imported when a value must be decoded or made: cut-state's zero checks need not)
    import numpy as np

__all__ = ["RT_KEY", "cut_state", "make_state", "restored_names"]

#: model rt_info path of the recorded pairs: rt_info["modelfile"]["state"][variable_id] = {...}
RT_KEY = ("modelfile", "state")

_OPTIMUM = re.compile(r"(past_key_values\.(\d+)\.(key|value))(present\.(\d+)\.(key|value))")
_LFM2 = re.compile(r"cache_params\.past\.(key|value|conv)\.(\d+)cache_params\.present\.(key|value|conv)\.(\d+)")


def _require_ir(model: Model, what: str) -> None:
    if "state" not in model.handler.capabilities:
        raise ModelfileError(f"{what} works on OpenVINO IR ({model.format} models have no state variables)")


def restored_names(variable_id: str, *, beam: bool) -> tuple[str, str, int]:
    """``(input, output, order)`` the StatefulToStateless pass gives a variable (order -1: Assign order)."""
    m = _OPTIMUM.fullmatch(variable_id)
    if m:
        idx = int(m.group(2)) * 2 + (m.group(3) == "value") if m.group(2) == m.group(5) else -1
        return m.group(1), m.group(4), idx
    m = _LFM2.fullmatch(variable_id)
    if m:
        kind, i, kind2, j = m.groups()
        idx = int(i) * 3 + {"key": 0, "value": 1, "conv": 2}[kind] if (i, kind) == (j, kind2) else -1
        return f"past_key_values.{i}.{kind}", f"present.{j}.{kind2}", idx
    if beam:
        return f"input_restored.{variable_id}", f"output_restored.{variable_id}", -1
    return variable_id, f"{variable_id}_out", -1


@dataclass
class _Var:
    var: str
    read: Node
    future: Node  # the node whose output becomes the Parameter: the ReadValue or its Gather(beam_idx)
    assigns: list[Node]
    in_name: str
    out_name: str
    order: tuple[int, int]
    entry: dict[str, Any] = field(default_factory=dict)


def _ir_names(model: Model) -> Any:
    from ..formats.openvino import ionames

    return ionames


def _find_beam(g: Graph) -> Node | None:
    for v in g.inputs:
        p = v.producer
        if p is not None and p.op_type == "Parameter" and ("beam_idx" in v.names or (
                g.meta.get(IR_VERSION) == 10 and p.name == "beam_idx")):
            return p
    return None


def _beam_gather(rv: Node, beam: Node | None) -> Node | None:
    """The ``Gather(rv, beam_idx, axis)`` that reorders this state for beam search, if any."""
    if beam is None:
        return None
    uses = rv.outputs[0].uses
    for u in uses:
        n = u.node
        if n.op_type == "Gather" and u.index == 0 and len(n.inputs) >= 2 and n.inputs[1] is beam.outputs[0]:
            return n
    return None


def _const_value(v: Value | None) -> np.ndarray | None:
    if v is None or v.producer is None or v.producer.op_type != "Const":
        return None
    import numpy as np

    from ..formats.openvino import const_array

    try:
        return np.asarray(const_array(v.producer))
    except Exception:  # noqa: BLE001 - a Const we cannot decode (no .bin): not restorable
        return None


#: element types whose all-zero bytes are zeros, and the integer ones (byte size)
_ZERO_BYTES = frozenset({"f64", "f32", "f16", "bf16", "boolean", "i64", "i32", "i16", "i8", "u64", "u32", "u16",
                         "u8", "u4", "i4", "u1"})
_INT_SIZE = {"i64": 8, "i32": 4, "i16": 2, "i8": 1, "u64": 8, "u32": 4, "u16": 2, "u8": 1}


class _Const:
    """What the zero-initialiser checks ask of a Const, from its bytes (numpy only for what bytes cannot say)."""

    __slots__ = ("v", "raw", "et", "shape", "size")

    def __init__(self, v: Value, raw: bytes, et: str, shape: tuple[int, ...]) -> None:
        self.v, self.raw, self.et, self.shape = v, raw, et, shape
        self.size = math.prod(shape)

    def all_zero(self) -> bool:
        if self.et in _ZERO_BYTES and not any(self.raw):
            return True
        if self.et in _INT_SIZE:
            return False  # some byte is not zero
        arr = _const_value(self.v)  # floats: -0.0 is zero too; packed types: decode
        return arr is not None and not arr.any()

    def scalar_int(self) -> int | None:
        if self.size != 1:
            return None
        if self.et in _INT_SIZE:  # (:func:`_const` checked the byte count)
            return int.from_bytes(self.raw, "little", signed=self.et.startswith("i"))
        arr = _const_value(self.v)
        return int(arr.reshape(-1)[0]) if arr is not None else None


def _const(v: Value | None) -> _Const | None:
    if v is None or v.producer is None or v.producer.op_type != "Const":
        return None
    from ..formats.openvino.binfile import const_info, const_raw
    from ..formats.openvino.names import BITS

    try:
        info = const_info(v.producer)
        c = _Const(v, const_raw(v.producer), info.element_type, info.shape)
    except Exception:  # noqa: BLE001 - a Const we cannot read (no .bin): not restorable
        return None
    bits = BITS.get(c.et)
    if bits is None or c.et in ("u3", "u6") or len(c.raw) != (c.size * bits + 7) // 8:
        return None  # a size its shape does not give (decoding refuses it): not restorable
    return c


def _zero_init(rv: Node) -> dict[str, str] | None:
    """How to rebuild the ReadValue's initialiser if it is zeros: shape text (+ the input giving the batch)."""
    from ..formats.openvino.names import format_shape

    if not rv.inputs or rv.inputs[0] is None:
        return None
    init = rv.inputs[0]
    p = init.producer
    c = _const(init)
    if c is not None:
        return {"init_shape": format_shape(c.shape)} if c.size == 0 or c.all_zero() else None
    if p is None or p.op_type != "Broadcast" or len(p.inputs) < 2:
        return None
    fill = _const(p.inputs[0])
    if fill is None or fill.size != 1 or not fill.all_zero() or init.shape is None:
        return None
    # optimum: Concat([Gather(ShapeOf(input_ids), 0), heads, 0, head_dim]) -> the batch comes from an input dim
    out = {"init_shape": format_shape(init.shape)}
    stack, seen = [p.inputs[1]], set()
    while stack:
        v = stack.pop()
        q = v.producer if v is not None else None
        if q is None or id(q) in seen:
            continue
        seen.add(id(q))
        if q.op_type == "Gather" and q.inputs and q.inputs[0] is not None and q.inputs[0].producer is not None \
                and q.inputs[0].producer.op_type in ("ShapeOf",):
            ic = _const(q.inputs[1]) if len(q.inputs) > 1 else None
            idx = ic.scalar_int() if ic is not None else None
            src = q.inputs[0].producer.inputs[0] if q.inputs[0].producer.inputs else None
            if src is not None and src.producer is not None and src.producer.op_type == "Parameter" \
                    and idx is not None:
                out["init_batch"] = f"{src.producer.name}:{idx}"
                return out
        stack.extend(x for x in q.inputs if x is not None)
    return out if all(isinstance(d, int) and d >= 0 for d in init.shape) else None


def cut_state(model: Model, *, names: dict[str, tuple[str | None, str | None]] | None = None,
              variables: list[str] | None = None, keep_beam_idx: bool = False) -> Report:
    """Replace ReadValue/Assign pairs by Parameter/Result pairs (see the module docstring).

    ``names`` maps a variable id to ``(input_name, output_name)`` (``None``:
    the default). Init sub-graphs that only fed a ReadValue are pruned.
    Idempotent: a model without state is left alone.
    """
    _require_ir(model, "cut-state")
    from ..formats.openvino.edit import remove_node
    from .report import removal_summary
    from .prune import prune

    report = Report("cut-state")
    g = model.graph
    names = names or {}
    v10 = g.meta.get(IR_VERSION) == 10
    reads = [n for n in g.nodes if n.op_type == "ReadValue"]
    assigns = [n for n in g.nodes if n.op_type == "Assign"]
    known = {n.attrs.get("variable_id", "") for n in reads}
    for a in assigns:
        if a.attrs.get("variable_id", "") not in known:
            raise ModelfileError(f"Assign {a.name!r} writes variable {a.attrs.get('variable_id')!r} that no ReadValue "
                                 "reads (OpenVINO cannot load this model either)")
    unknown = [v for v in (variables or []) if v not in known]
    if unknown:
        raise ModelfileError(f"no state variable {unknown[0]!r}; the model has: {', '.join(sorted(known)) or 'none'}")
    for v in names:
        if v not in known:
            raise ModelfileError(f"--name for unknown variable {v!r}; the model has: {', '.join(sorted(known)) or 'none'}")
    if not reads:
        report.notes.append("the model has no ReadValue/Assign state; nothing to do")
        return report
    beam = _find_beam(g)
    cut_beam = beam is not None and not keep_beam_idx
    assign_pos = {a.attrs.get("variable_id", ""): k for k, a in reversed(list(enumerate(assigns)))}
    todo: list[_Var] = []
    for rv in reads:
        var = rv.attrs.get("variable_id", "")
        if variables and var not in variables:
            continue
        gather = _beam_gather(rv, beam) if cut_beam else None
        i_def, o_def, idx = restored_names(var, beam=beam is not None)
        i_name, o_name = names.get(var, (None, None))
        todo.append(_Var(var, rv, gather or rv, [a for a in assigns if a.attrs.get("variable_id", "") == var],
                         i_name or i_def, o_name or o_def,
                         (0, idx) if idx >= 0 else (1, assign_pos.get(var, len(assigns)))))
    todo.sort(key=lambda t: t.order)
    for t in todo:
        t.entry = _record_entry(t, g, beam if t.future is not t.read else None, v10)
    # structure first, names after: a name only what this edit removes had is free again
    new_params: list[tuple[_Var, Node]] = []
    new_outputs: list[tuple[_Var, Value, Node]] = []
    outputs_before = {id(v) for v in g.outputs}
    from ..formats.openvino import new_result

    layer_names = g.layer_names()
    for t in todo:
        fut = t.future.outputs[0]
        dtype, shape = _port_type(t)
        # appended (O(1)); order_inputs gives the Parameters input order once they are named
        p = _append_parameter(g, fresh_name(f"{t.in_name}/new", layer_names), dtype, shape)
        fut.replace_all_uses_with(p.outputs[0])
        if t.future is not t.read:
            remove_node(model, t.future)
        remove_node(model, t.read)
        new_params.append((t, p))
        for a in t.assigns:
            src = a.inputs[0] if a.inputs else None
            remove_node(model, a)
            if src is not None and t.entry.get("output") is None:
                # the Result goes in now (prune keeps what it reads), its name once the removals are done
                r = new_result(g, src, fresh_name(f"{t.out_name}/new", layer_names))
                new_outputs.append((t, src, r))
                t.entry["output"] = t.out_name
    if cut_beam and beam is not None and not beam.outputs[0].uses:
        remove_node(model, beam)
        report.add("remove-input", "beam_idx", f"Parameter {beam.name}", None,
                   "its Gathers became the new inputs (as StatefulToStateless does)")
    removed = prune(model)
    _name_new_ports(model, new_params, new_outputs, report, v10, outputs_before)
    record = _load_record(g)
    for t in todo:
        record[t.var] = t.entry
    _store_record(g, record)
    if removed:
        report.notes.append(removal_summary(removed) + " (they only fed a ReadValue: its init value)")
        for n in removed:  # the full list, as cut gives it (the CLI prints the summary unless --verbose)
            report.add("remove-layer", n.name, before=n.op_type, detail="only fed a ReadValue")
    return report


def _append_parameter(g: Graph, name: str, dtype: str, shape: Any) -> Node:
    """A Parameter (opset1, no tensor names yet) at the end of the node list and of the inputs."""
    from ..formats.openvino.names import format_shape

    node = Node("Parameter", name, version="opset1", attrs={"shape": format_shape(shape), "element_type": dtype})
    node.append_output(Value("", dtype=dtype, shape=shape))
    g.append(node)
    g.inputs.append(node.outputs[0])
    return node


def _port_type(t: _Var) -> tuple[str, Any]:
    from ..formats.openvino.names import parse_shape

    rv = t.read
    out_v = t.future.outputs[0]
    vtype = rv.attrs.get("variable_type")
    dtype = out_v.dtype or (vtype if vtype and vtype not in ("dynamic", "undefined") else None) or "f32"
    shape: Any = out_v.shape
    if t.future is rv and "variable_shape" in rv.attrs:
        try:
            shape = parse_shape(rv.attrs["variable_shape"])
        except ValueError:
            pass
    return dtype, shape


def _record_entry(t: _Var, g: Graph, gather_beam: Node | None, v10: bool) -> dict[str, Any]:
    from ..formats.openvino.names import format_names

    rv = t.read
    e: dict[str, Any] = {"input": t.in_name, "variable_type": rv.attrs.get("variable_type", ""),
                         "variable_shape": rv.attrs.get("variable_shape", ""),
                         "read_name": rv.name, "read_names": format_names(list(rv.outputs[0].names))}
    if rv.version:
        e["read_version"] = rv.version
    init = _zero_init(rv)
    if init:
        e.update(init)
    if gather_beam is not None:
        gn = t.future
        ac = _const(gn.inputs[2]) if len(gn.inputs) > 2 else None
        axis = ac.scalar_int() if ac is not None else None
        e["beam_input"] = "beam_idx"
        e["beam_axis"] = str(axis) if axis is not None else "0"
        e["beam_gather"] = gn.name
        e["beam_version"] = gn.version or "opset8"
        e["beam_batch_dims"] = str(gn.attrs.get("batch_dims", "0"))
        e["beam_names"] = format_names(list(gn.outputs[0].names))
        bp = gather_beam
        e["beam_type"] = bp.attrs.get("element_type", "i32")
        e["beam_shape"] = bp.attrs.get("shape", "?")
    if t.assigns:
        a = t.assigns[0]
        src = a.inputs[0] if a.inputs else None
        e["assign_name"] = a.name
        if a.version:
            e["assign_version"] = a.version
        if src is not None:
            e["output_names"] = format_names(list(src.names))
            if src.producer is not None:
                e["producer_name"] = src.producer.name
    if v10:
        e["v10"] = "1"
    return e


def _taken_names(g: Graph, skip: set[int]) -> set[str]:
    """Tensor names (and, in v10, input/output layer names) of everything except the new ports."""
    from ..formats.openvino.ionames import implied_names

    taken: set[str] = set()
    for v in g.values():
        if id(v) in skip:
            continue
        taken.update(v.names)
    for k, ns in implied_names(g).items():
        if k not in skip:
            taken.update(ns)
    return taken


def _name_new_ports(model: Model, params: list[tuple[_Var, Node]], outs: list[tuple[_Var, Value, Node]],
                    report: Report, v10: bool, outputs_before: set[int]) -> None:
    from ..formats.openvino.edit import order_inputs, refresh_outputs

    g = model.graph
    skip = {id(p.outputs[0]) for _, p in params}
    taken = _taken_names(g, skip)
    wanted: dict[str, str] = {}
    for t, _ in params:
        for nm in (t.in_name,):
            if nm in taken or nm in wanted:
                raise ModelfileError(f"cannot name the input of variable {t.var!r} {nm!r}: "
                                     f"{'another tensor' if nm in taken else 'variable ' + repr(wanted[nm])} "
                                     "already has that name (give another with --name VAR=INPUT:OUTPUT)")
            wanted[nm] = t.var
    for t, src, _ in outs:
        nm = t.out_name
        owner = nm in taken and nm not in src.names
        if owner or nm in wanted:
            raise ModelfileError(f"cannot name the output of variable {t.var!r} {nm!r}: another tensor already has "
                                 "that name (give another with --name VAR=INPUT:OUTPUT)")
        wanted[nm] = t.var
    # params at the end of the inputs, in variable order (StatefulToStateless appends them)
    for t, p in params:
        p.name = t.in_name
        v = p.outputs[0]
        if not v10:
            v.names = [t.in_name]
            v.name = t.in_name
        report.add("state-to-input", t.var, f"ReadValue {t.read.name}"
                   + (f" + Gather {t.entry['beam_gather']}" if "beam_gather" in t.entry else ""),
                   f"Parameter {t.in_name}")
    newp = [p.outputs[0] for _, p in params]
    olds = [v for v in g.inputs if all(v is not q for q in newp)]
    order_inputs(model, olds + newp)
    _params_first(g, [p for _, p in params])
    for t, src, r in outs:
        label = t.out_name
        r.name = label
        if v10:
            v = _v10_output(g, t, src, outputs_before)
            if v is not src:
                r.set_input(0, v)
                refresh_outputs(model)
        else:
            if id(src) in outputs_before:
                # the tensor is already a model output: the new Result narrows its names to the state's
                for r in g.nodes:
                    if r.op_type == "Result" and r.inputs and r.inputs[0] is src and OUTPUT_NAMES not in r.meta:
                        r.meta[OUTPUT_NAMES] = list(src.names)
                src.names = [*src.names, label]
            else:
                src.names = [label]  # one name per new port, as the pass leaves it
                src.name = label
        if not v10 and id(src) in outputs_before:
            r.meta[OUTPUT_NAMES] = [label]
        report.add("state-to-output", t.var, f"Assign {t.entry.get('assign_name', '')}", f"Result {label}")


def _params_first(g: Graph, new: list[Node]) -> None:
    """Move the new Parameters (appended, in input order) to right after the last other Parameter.

    The input order stays (they were after every other Parameter and keep their own order); the file gets
    them where OpenVINO's serializer puts Parameters, before the layers that read them, which a reader
    then connects in one pass.
    """
    if not new:
        return
    moving = {id(p) for p in new}
    rest = [n for n in g.nodes if id(n) not in moving]
    at = next((k + 1 for k in range(len(rest) - 1, -1, -1) if rest[k].op_type == "Parameter"), 0)
    moved = [n for n in g.nodes if id(n) in moving]
    g.nodes.replace_all(rest[:at] + moved + rest[at:])


def _v10_output(g: Graph, t: _Var, src: Value, outputs_before: set[int]) -> Value:
    """A v10 output is named by its producing layer: rename it, or add a same-type Convert named so."""
    p = src.producer
    if p is not None and p.op_type != "Parameter" and len(p.outputs) == 1 and id(src) not in outputs_before:
        p.name = t.out_name
        return src
    dtype = src.dtype or "f32"
    conv = Node("Convert", t.out_name, inputs=[src], version="opset1", attrs={"destination_type": dtype})
    conv.append_output(Value("", dtype=dtype, shape=src.shape))
    at = g.nodes.index(p) + 1 if p is not None and p in g.nodes else len(g.nodes)
    g.insert(at, conv)
    t.entry["identity"] = "Convert"
    return conv.outputs[0]


# ---------------------------------------------------------------------------------------------
# make-state
# ---------------------------------------------------------------------------------------------


def _find_input(g: Graph, name: str) -> list[Node]:
    from ..formats.openvino.ionames import implied_names

    imp = implied_names(g)
    return [n for n in g.nodes if n.op_type == "Parameter" and (
        name in n.outputs[0].names or n.outputs[0].name == name or name in imp.get(id(n.outputs[0]), ()))]


def _find_output(g: Graph, name: str) -> list[Node]:
    from ..formats.openvino.ionames import implied_names

    imp = implied_names(g)
    out = []
    for n in g.nodes:
        if n.op_type != "Result" or not n.inputs or n.inputs[0] is None:
            continue
        v = n.inputs[0]
        narrowed = n._meta.get(OUTPUT_NAMES) if n._meta else None
        names = narrowed if narrowed is not None else list(v.names)
        if name in names or (narrowed is None and v.name == name) or n.name == name \
                or name in imp.get(id(v), ()):
            out.append(n)
    if len(out) > 1:  # several Results on one tensor: the one named so
        named = [n for n in out if n.name == name]
        if len(named) == 1:
            return named
    return out


def make_state(model: Model, pairs: dict[str, str] | None = None) -> Report:
    """Join input/output pairs into ReadValue/Assign variables (opset6).

    ``pairs`` maps an input name to an output name; by default the pairs
    :func:`cut_state` recorded are restored with their variable ids, names,
    zero initialisers and ``Gather(beam_idx)``. A pair nothing recorded gets a
    ReadValue without initialiser (zeros of its static shape).
    """
    _require_ir(model, "make-state")
    from ..formats.openvino.edit import remove_node
    from ..formats.openvino.names import format_shape, parse_names

    report = Report("make-state")
    g = model.graph
    record = _load_record(g)
    todo: list[tuple[str, str, str]] = []  # (variable_id, input, output)
    if pairs:
        by_pair = {(e.get("input"), e.get("output")): var for var, e in record.items() if isinstance(e, dict)}
        for i, o in pairs.items():
            todo.append((by_pair.get((i, o), f"{i}{o}"), i, o))  # MakeStateful names variables input+output
    else:
        for var, e in record.items():
            if isinstance(e, dict) and e.get("input") and e.get("output"):
                todo.append((var, e["input"], e["output"]))
        if not todo:
            report.notes.append("no pairs given and none recorded by cut-state; nothing to do")
            return report
    existing = {n.attrs.get("variable_id") for n in g.nodes if n.op_type in ("ReadValue", "Assign")}
    found: list[tuple[str, str, str, Node, Node]] = []
    for var, i, o in todo:
        if var in existing:
            raise ModelfileError(f"variable {var!r} already exists")
        params = _find_input(g, i)
        if len(params) != 1:
            raise ModelfileError(f"no model input named {i!r}" if not params else f"{len(params)} inputs named {i!r}")
        results = _find_output(g, o)
        if len(results) != 1:
            raise ModelfileError(f"no model output named {o!r}" if not results else f"{len(results)} outputs named {o!r}")
        found.append((var, i, o, params[0], results[0]))
    beam: Node | None = None
    for var, i, o, p, r in found:
        rec = record.get(var) if isinstance(record.get(var), dict) else {}
        pv: Value = p.outputs[0]
        src = r.inputs[0]
        assert src is not None
        dtype = p.attrs.get("element_type") or pv.dtype or "f32"
        shape_text = p.attrs.get("shape") or format_shape(pv.shape)
        rv = Node("ReadValue", rec.get("read_name") or p.name, version=rec.get("read_version") or "opset6", attrs={
            "variable_id": var,
            "variable_type": rec.get("variable_type") or dtype,
            "variable_shape": rec.get("variable_shape") or shape_text,
        })
        at = g.nodes.index(p)
        init = _build_init(g, rec, dtype, at)
        if init is not None:
            rv.append_input(init)
            at = g.nodes.index(p)
        read_names = parse_names(rec["read_names"]) if rec.get("read_names") else list(pv.names)
        rv.append_output(Value(read_names[0] if read_names else "", dtype=pv.dtype, shape=None, names=read_names))
        g.insert(at, rv)
        feed = rv.outputs[0]
        if rec.get("beam_input"):
            if beam is None:
                beam = _beam_param(g, rec)
            feed = _beam_gather_node(g, rec, rv, beam, pv)
        pv.replace_all_uses_with(feed)
        remove_node(model, p)
        if rec.get("identity") and src.producer is not None and src.producer.op_type == rec["identity"] \
                and len(src.uses) == 1:
            conv = src.producer
            src = conv.inputs[0]
            assert src is not None
            remove_node(model, r)
            r = None
            remove_node(model, conv)
        a = Node("Assign", rec.get("assign_name") or (r.name if r is not None else o),
                 inputs=[src], version=rec.get("assign_version") or "opset6", attrs={"variable_id": var})
        a.append_output(Value("", dtype=src.dtype, shape=src.shape))
        if r is not None:
            g.insert(g.nodes.index(r), a)
            remove_node(model, r)
        else:
            g.append(a)
        other_results = [u.node for u in src.uses if u.node.op_type == "Result"]
        if "output_names" in rec and not other_results:
            src.names = parse_names(rec["output_names"])
            src.name = src.names[0] if src.names else ""
        elif o in src.names and not any(o in (x._meta or {}).get(OUTPUT_NAMES, src.names) for x in other_results):
            src.names = [x for x in src.names if x != o]
            if src.name == o:
                src.name = src.names[0] if src.names else ""
        for x in other_results:
            if x._meta and x._meta.get(OUTPUT_NAMES) is not None and set(x._meta[OUTPUT_NAMES]) == set(src.names):
                del x._meta[OUTPUT_NAMES]
        if rec.get("producer_name") and src.producer is not None and g.meta.get(IR_VERSION) == 10:
            src.producer.name = rec["producer_name"]
        record.pop(var, None)
        report.add("input-to-state", i, f"Parameter {p.name}", f"ReadValue {var}"
                   + (" (zero init restored)" if init is not None else ""))
        report.add("output-to-state", o, f"Result {o}", f"Assign {var}")
    _store_record(g, record)
    from ..formats.openvino.ionames import tensor_name_collisions

    clash = tensor_name_collisions(model)
    if clash:
        raise ModelfileError(f"make-state would leave two inputs/outputs with one name: {clash[0].message}")
    return report


#: the same record, as JSON in one flat key, for v10 files whose metadata is a legacy <meta_data> block
LEGACY_KEY = "modelfile_state"


def _load_record(g: Graph) -> dict[str, Any]:
    rt = g.meta.get(RT_INFO) or {}
    if isinstance(rt.get(LEGACY_KEY), str):
        try:
            rec = json.loads(rt[LEGACY_KEY])
        except ValueError:
            rec = None
        if isinstance(rec, dict):
            return rec
    rec = (rt.get(RT_KEY[0]) or {}).get(RT_KEY[1]) if isinstance(rt.get(RT_KEY[0]), dict) else None
    return dict(rec) if isinstance(rec, dict) else {}


def _store_record(g: Graph, record: dict[str, Any]) -> None:
    """Write the record back: rt_info/modelfile/state, or one JSON key when the file keeps <meta_data>."""
    rt = g.meta.setdefault(RT_INFO, {})
    if g.meta.get(IR_RT_LEGACY) or LEGACY_KEY in rt:
        if record:
            rt[LEGACY_KEY] = json.dumps(record, sort_keys=True, separators=(",", ":"))
        else:
            rt.pop(LEGACY_KEY, None)
        return
    if record:
        rt.setdefault(RT_KEY[0], {})[RT_KEY[1]] = record
    elif isinstance(rt.get(RT_KEY[0]), dict):
        rt[RT_KEY[0]].pop(RT_KEY[1], None)
        if not rt[RT_KEY[0]]:
            rt.pop(RT_KEY[0])


def _i64(g: Graph, name: str, values: list[int] | int, at: int) -> Value:
    """A new i64 Const (a list: 1-D; an int: a scalar) inserted at ``at``."""
    import numpy as np

    from ..formats.openvino import new_const

    return new_const(g, np.array(values, np.int64), fresh_name(name, g.layer_names()), element_type="i64",
                     index=at).outputs[0]


def _build_init(g: Graph, rec: dict[str, Any], dtype: str, at: int) -> Value | None:
    """The zero initialiser cut-state pruned: a zero Const, or ``Broadcast(0, [batch, ..., 0, ...])``."""
    import numpy as np

    from ..formats.openvino import new_const
    from ..formats.openvino.names import parse_shape
    from .cut import _NP_TYPES

    text = rec.get("init_shape")
    if text is None or dtype not in _NP_TYPES:
        return None
    shape = parse_shape(text)
    if shape is None:
        return None
    np_t = _NP_TYPES[dtype]
    base = fresh_name(f"{rec.get('read_name') or 'state'}/init", g.layer_names())
    if all(isinstance(d, int) and d >= 0 for d in shape):
        return new_const(g, np.zeros(shape, np_t), base, element_type=dtype, index=at).outputs[0]
    batch = rec.get("init_batch", "")
    pname, _, axis = batch.rpartition(":")
    src = next((n for n in g.nodes if n.op_type == "Parameter" and n.name == pname), None)
    if src is None:
        return None
    shape_of = Node("ShapeOf", f"{base}/ShapeOf", inputs=[src.outputs[0]], version="opset3",
                    attrs={"output_type": "i64"})
    shape_of.append_output(Value("", dtype="i64", shape=(len(src.outputs[0].shape or ()),)))
    g.insert(at, shape_of)
    idx = _i64(g, f"{base}/axis_index", [int(axis or 0)], at + 1)
    zero_axis = _i64(g, f"{base}/gather_axis", 0, at + 2)
    gat = Node("Gather", f"{base}/batch", inputs=[shape_of.outputs[0], idx, zero_axis], version="opset8",
               attrs={"batch_dims": "0"})
    gat.append_output(Value("", dtype="i64", shape=(1,)))
    g.insert(at + 3, gat)
    parts = [gat.outputs[0] if not (isinstance(d, int) and d >= 0) and k == 0 else
             _i64(g, f"{base}/dim{k}", [d if isinstance(d, int) and d >= 0 else 0], at + 4)
             for k, d in enumerate(shape)]
    cat = Node("Concat", f"{base}/shape", inputs=parts, version="opset1", attrs={"axis": "0"})
    cat.append_output(Value("", dtype="i64", shape=(len(shape),)))
    g.insert(g.nodes.index(gat) + 1, cat)
    fill = new_const(g, np.zeros((), np_t), f"{base}/zero", element_type=dtype, index=g.nodes.index(cat) + 1)
    bc = Node("Broadcast", base, inputs=[fill.outputs[0], cat.outputs[0]], version="opset3",
              attrs={"mode": "numpy"})
    bc.append_output(Value("", dtype=dtype, shape=shape))
    g.insert(g.nodes.index(fill) + 1, bc)
    return bc.outputs[0]


def _beam_param(g: Graph, rec: dict[str, Any]) -> Node:
    from ..formats.openvino import new_parameter
    from ..formats.openvino.names import parse_shape

    for n in _find_input(g, rec["beam_input"]):
        return n
    shape = parse_shape(rec.get("beam_shape") or "?")
    v10 = g.meta.get(IR_VERSION) == 10
    return new_parameter(g, rec["beam_input"], rec.get("beam_type") or "i32", shape,
                         names=[] if v10 else [rec["beam_input"]])


def _beam_gather_node(g: Graph, rec: dict[str, Any], rv: Node, beam: Node, like: Value) -> Value:
    from ..formats.openvino.names import parse_names

    at = g.nodes.index(rv) + 1
    axis = _i64(g, f"{rec.get('beam_gather') or rv.name}/axis", int(rec.get("beam_axis") or 0), at)
    axis_node = axis.producer
    assert axis_node is not None
    names = parse_names(rec["beam_names"]) if rec.get("beam_names") else []
    gat = Node("Gather", rec.get("beam_gather") or f"{rv.name}/beam", inputs=[rv.outputs[0], beam.outputs[0], axis],
               version=rec.get("beam_version") or "opset8", attrs={"batch_dims": rec.get("beam_batch_dims") or "0"})
    gat.append_output(Value(names[0] if names else "", dtype=like.dtype, shape=like.shape, names=names))
    g.insert(g.nodes.index(axis_node) + 1, gat)
    return gat.outputs[0]
