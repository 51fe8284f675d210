"""State variables <-> explicit inputs/outputs (OpenVINO IR ReadValue/Assign).

:func:`cut_state` does what the DeepSpeech guide did with ``mo`` and what
OpenVINO's C++-only ``StatefulToStateless`` does: every ``ReadValue`` becomes a
``Parameter`` and every ``Assign`` a ``Result``; the pairing is recorded in the
model's ``rt_info`` (``modelfile/state``) so :func:`make_state` (the
``MakeStateful`` pass) can restore it without being told the pairs again.
"""

from __future__ import annotations

from typing import Any

from ..errors import ModelfileError
from ..graph import Node, Value, fresh_name
from ..model import Model
from .report import Report

__all__ = ["RT_KEY", "cut_state", "make_state"]

#: model rt_info path of the recorded pairs: rt_info["modelfile"]["state"][variable_id] = {...}
RT_KEY = ("modelfile", "state")


def _require_ir(model: Model, what: str) -> None:
    if "state" not in model.handler.capabilities:
        raise ModelfileError(f"{what} works on OpenVINO IR ({model.format} models have no state variables)")


def cut_state(model: Model, *, names: dict[str, tuple[str | None, str | None]] | None = None,
              variables: list[str] | None = None) -> Report:
    """Replace ReadValue/Assign pairs by Parameter/Result pairs.

    ``names`` maps a variable id to ``(input_name, output_name)``; by default
    the input is named like the variable and the output ``<variable>_out``.
    Init sub-graphs that only fed a ReadValue are pruned. Idempotent: a model
    without state is left alone.
    """
    _require_ir(model, "cut-state")
    from ..formats.openvino import new_parameter, new_result
    from ..formats.openvino.edit import remove_node
    from ..formats.openvino.names import parse_shape
    from .prune import prune

    report = Report("cut-state")
    g = model.graph
    names = names or {}
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
    taken = g.layer_names() | g.tensor_names()
    rt = g.meta.setdefault("rt_info", {})
    record: dict[str, Any] = rt.setdefault(RT_KEY[0], {}).setdefault(RT_KEY[1], {})
    for rv in reads:
        var = rv.attrs.get("variable_id", "")
        if variables and var not in variables:
            continue
        in_name, out_name = names.get(var, (None, None))
        out_v = rv.outputs[0]
        vtype = rv.attrs.get("variable_type")
        dtype = vtype if vtype and vtype not in ("dynamic", "undefined") else (out_v.dtype or "f32")
        shape: Any = out_v.shape
        if "variable_shape" in rv.attrs:
            try:
                shape = parse_shape(rv.attrs["variable_shape"])
            except ValueError:
                pass
        pname = fresh_name(in_name or var, taken)
        param = new_parameter(g, pname, dtype, shape, names=[pname])
        out_v.replace_all_uses_with(param.outputs[0])
        remove_node(model, rv)
        report.add("state-to-input", var, f"ReadValue {rv.name}", f"Parameter {pname}")
        entry = {"input": pname, "variable_type": rv.attrs.get("variable_type", dtype),
                 "variable_shape": rv.attrs.get("variable_shape", "")}
        for a in [x for x in assigns if x.attrs.get("variable_id", "") == var]:
            src = a.inputs[0] if a.inputs else None
            if src is None:
                continue
            rname = fresh_name(out_name or f"{var}_out", taken)
            if rname not in src.names:
                src.names = [rname, *src.names]
            if not src.name:
                src.name = rname
            new_result(g, src, rname)
            remove_node(model, a)
            entry["output"] = rname
            report.add("state-to-output", var, f"Assign {a.name}", f"Result {rname}")
        record[var] = entry
    for n in prune(model):
        report.add("remove-layer", n.name, before=n.op_type, detail="only fed a ReadValue (its init value)")
    return report


def make_state(model: Model, pairs: dict[str, str] | None = None) -> Report:
    """Join input/output pairs into ReadValue/Assign variables (opset6, no init: zeros).

    ``pairs`` maps an input tensor name to an output tensor name; by default
    the pairs :func:`cut_state` recorded are restored with their variable ids.
    """
    _require_ir(model, "make-state")
    from ..formats.openvino.edit import remove_node
    from ..formats.openvino.names import format_shape

    report = Report("make-state")
    g = model.graph
    rt = g.meta.setdefault("rt_info", {})
    record: dict[str, Any] = (rt.get(RT_KEY[0]) or {}).get(RT_KEY[1]) or {}
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
    for var, i, o in todo:
        if var in existing:
            raise ModelfileError(f"variable {var!r} already exists")
        params = [n for n in g.nodes if n.op_type == "Parameter" and (i in n.outputs[0].names or n.outputs[0].name == i
                                                                     or n.name == i)]
        if len(params) != 1:
            raise ModelfileError(f"no model input named {i!r}" if not params else f"{len(params)} inputs named {i!r}")
        results = [n for n in g.nodes if n.op_type == "Result" and n.inputs and n.inputs[0] is not None and (
            o in n.inputs[0].names or n.inputs[0].name == o or n.name == o)]
        if len(results) != 1:
            raise ModelfileError(f"no model output named {o!r}" if not results else f"{len(results)} outputs named {o!r}")
        p, r = params[0], results[0]
        pv: Value = p.outputs[0]
        src = r.inputs[0]
        assert src is not None
        dtype = p.attrs.get("element_type") or pv.dtype or "f32"
        shape_text = p.attrs.get("shape") or format_shape(pv.shape)
        rec = record.get(var) if isinstance(record.get(var), dict) else None
        rv = Node("ReadValue", p.name, version="opset6", attrs={
            "variable_id": var,
            "variable_type": (rec or {}).get("variable_type") or dtype,
            "variable_shape": (rec or {}).get("variable_shape") or shape_text,
        })
        rv.append_output(Value(pv.name, dtype=pv.dtype, shape=pv.shape, names=list(pv.names)))
        g.insert(g.nodes.index(p), rv)
        pv.replace_all_uses_with(rv.outputs[0])
        remove_node(model, p)
        a = Node("Assign", r.name, inputs=[src], version="opset6", attrs={"variable_id": var})
        a.append_output(Value("", dtype=src.dtype, shape=src.shape))
        g.insert(g.nodes.index(r), a)
        remove_node(model, r)
        if o in src.names and not any(u.node.op_type == "Result" for u in src.uses):
            src.names = [x for x in src.names if x != o]
            if src.name == o:
                src.name = src.names[0] if src.names else ""
        record.pop(var, None)
        report.add("input-to-state", i, f"Parameter {p.name}", f"ReadValue {var}")
        report.add("output-to-state", o, f"Result {r.name}", f"Assign {var}")
    if RT_KEY[0] in rt and not rt[RT_KEY[0]].get(RT_KEY[1]):
        rt[RT_KEY[0]].pop(RT_KEY[1], None)
        if not rt[RT_KEY[0]]:
            rt.pop(RT_KEY[0])
    return report
