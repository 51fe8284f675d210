"""Port dims as OpenVINO infers them, for the ports an edit touched (needs the optional ``openvino``).

An edit that changes an input's shape or replaces it by a constant makes the
``<dim>``s further down stale. OpenVINO re-infers every shape when it reads a
model, so :func:`infer_touched` reads the edited model with it (from memory:
the XML the writer would produce and the weights it would use) and copies the
inferred dims onto the touched ports only, so every other line stays as it
was. A model shape inference rejects is reported with OpenVINO's message (the
save gate's runtime check then refuses to write it, unless forced).
Without OpenVINO the touched dims are left ``-1`` (unknown), which OpenVINO
accepts and re-infers at load.
"""

from __future__ import annotations

import importlib.util
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from ...graph import Graph, Node, Value

__all__ = ["TOUCHED", "downstream", "infer_touched", "mark_touched", "ov_shape"]

#: model.meta key: values whose downstream dims an edit made stale
TOUCHED = "ir_touched"
_SINKS = ("Result", "Assign")
_OV_TYPE = {"Const": "Constant"}


def mark_touched(model: Any, value: Value) -> None:
    """Remember that the dims downstream of ``value`` must be re-inferred before saving."""
    model.meta.setdefault(TOUCHED, []).append(value)


def downstream(values: list[Value]) -> list[Node]:
    """Nodes reading ``values`` directly or indirectly (opset ops only: custom ops keep their ports)."""
    seen: set[int] = set()
    out: list[Node] = []
    stack = list(values)
    while stack:
        v = stack.pop()
        for u in v.uses:
            n = u.node
            if n.op_type in _SINKS or id(n) in seen:
                continue
            seen.add(id(n))
            if not (n.version or "").startswith("opset"):
                continue
            out.append(n)
            stack.extend(n.outputs)
    return out


def ov_shape(ps: Any) -> tuple[Any, ...] | None:
    """An ``openvino.PartialShape`` as an IR shape tuple (ints, ``-1``, ``(min, max)``; None: dynamic rank)."""
    if ps.rank.is_dynamic:
        return None
    out: list[Any] = []
    for d in ps:
        if d.is_static:
            out.append(int(d.get_length()))
        else:
            lo, hi = int(d.get_min_length()), int(d.get_max_length())
            out.append(-1 if lo <= 0 and hi < 0 else (max(lo, 0), hi))
    return tuple(out)


def _read_with_openvino(model: Any) -> Any:
    """The edited model as ``openvino.Core().read_model`` builds it (from memory; weights re-laid if needed)."""
    import openvino as ov

    from .reader import IRDocument
    from .writer import _write_bin, render

    rendered = render(model)
    doc = model.meta.get("openvino")
    doc = doc if isinstance(doc, IRDocument) else None
    core = ov.Core()
    with tempfile.TemporaryDirectory(prefix="modelfile-shapes-") as tmp:
        bin_path: Path | None = None
        if rendered.bin_plan is not None:
            bin_path = Path(tmp) / "w.bin"
            _write_bin(rendered.bin_plan, bin_path)
        elif doc is not None and doc.weights.exists and doc.bin_path is not None:
            bin_path = doc.bin_path
        if bin_path is not None and bin_path.stat().st_size:
            data = np.fromfile(bin_path, np.uint8)
            return core.read_model(rendered.text, ov.Tensor(data))
        return core.read_model(rendered.text)


def infer_touched(model: Any) -> list[tuple]:
    """Give the touched ports OpenVINO's inferred dims; ``(kind, target, before, after, detail)`` changes.

    When OpenVINO rejects the edited model the change says why (its message) and the dims stay -1.
    """
    touched: list[Value] = model.meta.pop(TOUCHED, None) or []
    g: Graph = model.graph
    live = {id(n) for n in g.nodes}
    roots = [v for v in touched if v.producer is None or id(v.producer) in live]
    nodes = downstream(roots)
    if not nodes:
        return []
    ports = [v for n in nodes for v in n.outputs]
    if importlib.util.find_spec("openvino") is None:
        for v in ports:
            if v.shape is not None:
                v.shape = tuple(-1 for _ in v.shape)
        return [("clear-port-dims", f"{len(ports)} port(s)", None, None,
                 ("openvino is not installed, so the dims downstream of the edit are left -1 (unknown); "
                  "OpenVINO re-infers them when it loads the model"))]
    try:
        om = _read_with_openvino(model)
    except Exception as e:  # noqa: BLE001 - any refusal of the runtime is the answer
        # the dims stay unknown; the save gate's runtime check refuses the model with the same message
        # (and --force can still write it, as with any failed check)
        for v in ports:
            if v.shape is not None:
                v.shape = tuple(-1 for _ in v.shape)
        return [("shape-inference-failed", "OpenVINO", None, None,
                 f"OpenVINO's shape inference rejects the edited model: {_short(' '.join(str(e).split()))}")]
    by_name: dict[str, list[Any]] = {}
    for op in om.get_ops():
        by_name.setdefault(op.get_friendly_name(), []).append(op)
    ours: dict[str, int] = {}
    for n in g.nodes:
        ours[n.name] = ours.get(n.name, 0) + 1
    changed = unknown = 0
    for n in nodes:
        cands = [op for op in by_name.get(n.name, ()) if op.get_type_name() == _OV_TYPE.get(n.op_type, n.op_type)]
        if len(cands) != 1 or ours.get(n.name, 0) != 1 or cands[0].get_output_size() != len(n.outputs):
            for v in n.outputs:  # cannot tell which op it is: unknown is honest, OpenVINO re-infers it
                if v.shape is not None and any(d != -1 for d in v.shape):
                    v.shape = tuple(-1 for _ in v.shape)
                    unknown += 1
            continue
        for i, v in enumerate(n.outputs):
            new = ov_shape(cands[0].get_output_partial_shape(i))
            if new != v.shape:
                v.shape = new
                changed += 1
    out: list[tuple] = []
    if changed:
        out.append(("infer-port-dims", f"{changed} port(s)", None, None,
                    "the dims OpenVINO infers after the edit"))
    if unknown:
        out.append(("clear-port-dims", f"{unknown} port(s)", None, None,
                    "layers OpenVINO's model does not show under the same name: dims left -1"))
    return out


def _short(msg: str) -> str:
    """OpenVINO's message without the source-file preamble it repeats."""
    import re

    msg = re.sub(r"Exception from src/[^ ]+:\d+:\s*", "", msg)
    msg = re.sub(r"Check '[^']*' failed at src/[^ ]+:\d+:\s*", "", msg)
    return msg.strip()[:600]
