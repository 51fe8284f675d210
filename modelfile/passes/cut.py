"""Cut, freeze and reshape with mo's ``--input`` / ``--output`` semantics.

``--input`` items: an existing input gets its shape/type set (``name[1,3]{f32}``)
or is frozen to a constant (``name->value``); an inner tensor or port
(``tensor``, ``op:N``, ``N:op``) becomes a new input (or a constant), and
whatever only fed it is pruned. ``--output`` names become the outputs, in
order, and everything not needed for them is pruned (constants with it).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import ModelfileError
from ..gcpause import paused_gc
from ..formats.base import EditOps
from ..graph import Node, Value, fresh_name
from ..model import Model
from ..mo_input import InputSpec, OutputSpec, value_shape
from .locate import Place, locate
from .prune import prune
from .report import Report, removal_summary

__all__ = ["cut", "format_ops", "removal_summary", "value_array"]

_NP_TYPES = {
    "f64": np.float64, "f32": np.float32, "f16": np.float16, "i64": np.int64, "i32": np.int32,
    "i16": np.int16, "i8": np.int8, "u64": np.uint64, "u32": np.uint32, "u16": np.uint16, "u8": np.uint8,
    "boolean": np.bool_, "bf16": np.float32,
}


def format_ops(model: Model) -> EditOps:
    """The format's edit operations for ``model`` (``model.ops``)."""
    return model.ops


def value_array(spec: InputSpec, dtype: str | None, known_shape: list[int | None] | None) -> np.ndarray:
    """The constant a ``->value`` item denotes, with mo's type and shape rules."""
    assert spec.value is not None
    t = spec.dtype or dtype or "f32"
    if t not in _NP_TYPES:
        raise ModelfileError(f"cannot freeze a value of type {t}")
    vals: Any = list(spec.value) if spec.value_is_list else spec.value
    shape: list[int] | None
    if spec.shape is not None:
        if not spec.shape.is_static:
            raise ModelfileError(f"cannot freeze input with dynamic shape: {spec.text}")
        shape = [d.min for d in spec.shape.dims]  # type: ignore[misc]
    elif known_shape is not None and all(isinstance(d, int) and d >= 0 for d in known_shape):
        shape = list(known_shape)  # type: ignore[arg-type]
    else:
        vs = value_shape(spec)
        shape = [d.min for d in vs.dims] if vs is not None else []  # type: ignore[misc]
    arr = _fitting_array(vals, t, spec.location)
    n = int(np.prod(shape)) if shape else 1
    if arr.size != n:
        raise ModelfileError(f"the shape {shape} of {spec.location!r} does not correspond to the number of "
                             f"elements {arr.size} in the value")
    return arr.reshape(shape)




def _fitting_array(vals: Any, t: str, where: str) -> np.ndarray:
    """``vals`` as an array of element type ``t``; refused when a value does not fit (157.5 into i64, 300 into u8).

    numpy would silently truncate or wrap: the frozen model would then compute with another number.
    """
    np_t = _NP_TYPES[t]
    try:
        raw = np.array(vals)
        if raw.dtype.kind not in "biuf":
            raise ValueError(f"{vals!r} is not a number")
        if np.dtype(np_t).kind in "iu":
            if raw.dtype.kind == "f" and not np.all(np.isfinite(raw) & (raw == np.floor(raw))):
                bad = raw.reshape(-1)[~(np.isfinite(raw) & (raw == np.floor(raw))).reshape(-1)][0]
                raise ValueError(f"{bad} is not an integer")
            info = np.iinfo(np_t)
            big = raw.astype(object) if raw.dtype.kind in "iu" else raw
            lo, hi = (big.min(), big.max()) if raw.size else (0, 0)
            if lo < info.min or hi > info.max:
                raise ValueError(f"{lo if lo < info.min else hi} is outside {info.min}..{info.max}")
        elif np.dtype(np_t).kind == "b":
            if not np.all(np.isin(raw, (0, 1))):
                raise ValueError("a boolean is 0 or 1 (true/false)")
        elif np.dtype(np_t).kind == "f" and raw.size and np.any(np.isfinite(raw)):
            with np.errstate(over="ignore"):
                conv = raw.astype(np_t)
            if np.any(np.isinf(conv) & np.isfinite(raw)):
                raise ValueError(f"{np.abs(raw).max()} overflows {t}")
        return np.array(vals, dtype=np_t)
    except (TypeError, ValueError, OverflowError) as e:
        raise ModelfileError(f"value of {where!r} does not fit {t}: {e}") from None


def _is_existing_input(place: Place, ops: EditOps) -> bool:
    return place.value is not None and place.value.producer is not None and ops.is_input(place.value.producer)


def cut(model: Model, inputs: list[InputSpec] | None = None, outputs: list[OutputSpec] | None = None,
        *, source_input: str | None = None, source_output: str | None = None) -> Report:
    """Apply mo-style ``--input``/``--output`` items to a model; returns what changed."""
    with paused_gc():  # see modelfile.gcpause
        return _cut(model, inputs, outputs, source_input=source_input, source_output=source_output)


def _cut(model: Model, inputs: list[InputSpec] | None, outputs: list[OutputSpec] | None,
         *, source_input: str | None, source_output: str | None) -> Report:
    report = Report("cut")
    ops = format_ops(model)
    g = model.graph
    ops.prepare()
    bin_before = ops.weights_bytes()
    originals = list(g.inputs)
    order: list[Value] = []
    new_inputs = 0
    for k, spec in enumerate(inputs or []):
        if spec.is_unnamed:
            if k >= len(g.inputs):
                raise ModelfileError(f"shape #{k + 1} given but the model has {len(g.inputs)} input(s)")
            places = [Place(value=g.inputs[k], label=f"input #{k + 1}")]
        else:
            places = locate(g, spec.location, source=source_input)
        if spec.shape is not None and len(places) > 1:
            raise ModelfileError(f"{spec.location!r} has {len(places)} inputs and a shape was given; "
                                 f"name the port with N:{spec.location}")
        for place in places:
            if _is_existing_input(place, ops):
                v = place.value
                assert v is not None and v.producer is not None
                if spec.value is not None:
                    arr = value_array(spec, ops.value_dtype(v), ops.value_shape(v))
                    report.extend_changes(ops.freeze_input(v.producer, arr))
                    continue
                if spec.shape is not None or spec.dtype is not None:
                    report.extend_changes(ops.set_input(v.producer, spec.shape, spec.dtype))
                order.append(v)
                continue
            # an inner place: its producer side is replaced
            old = place.value if place.value is not None else place.node.inputs[place.port]  # type: ignore[union-attr]
            if old is None:
                raise ModelfileError(f"{place.label!r} is an empty port")
            users = [(u.node, u.index) for u in old.uses] if place.value is not None else [(place.node, place.port)]
            name = spec.location if place.value is not None or len(places) == 1 else place.label
            if spec.value is not None:
                arr = value_array(spec, spec.dtype or ops.value_dtype(old), ops.value_shape(old))
                new = ops.new_constant(name, arr, like=old)
                report.add("freeze-tensor", place.label, after=_short(arr), detail="new constant replaces its producer side")
            else:
                shape: Any = spec.shape or ops.value_shape(old)
                if place.value is not None:
                    # the new input takes over the tensor's name (mo does the same); the old
                    # tensor keeps living only if its producer is still needed elsewhere
                    old.name = fresh_name(f"{old.name}_before_cut", g.tensor_names(exclude=old))
                    old.names = []
                new = ops.new_input(fresh_name(name, g.tensor_names(exclude=old)), shape=shape,
                                    dtype=spec.dtype or ops.value_dtype(old), like=old)
                order.append(new)
                new_inputs += 1
                report.add("new-input", place.label, after=f"{new.name} {_shape_text(ops.value_shape(new))}".strip())
            for node, idx in users:
                assert node is not None
                node.set_input(idx, new)
    if outputs:
        vals: list[Value] = []
        for spec_o in outputs:
            for place in locate(g, spec_o.location, option="--output", source=source_output):
                if place.is_port:  # "0:op": the producer of that port becomes the output
                    v = place.node.inputs[place.port]  # type: ignore[union-attr]
                    if v is None:
                        raise ModelfileError(f"{place.label!r} is an empty port")
                    vals.append(v)
                else:
                    assert place.value is not None
                    vals.append(place.value)
        report.extend_changes(ops.set_outputs(vals))
    # keep the inputs in the order the items gave, then the others
    if order:
        report.extend_changes(ops.order_inputs(order))
    removed = prune(model)
    for n in removed:
        report.add("remove-layer", n.name, before=n.op_type)
    if removed:
        report.notes.insert(0, removal_summary(removed, bin_before, ops.weights_bytes()))
    if new_inputs:
        report.notes.extend(_still_required(g, originals, order))
    report.extend_changes(ops.finish())
    return report


def _still_required(g: Any, originals: list[Value], named: list[Value]) -> list[str]:
    """A cut at inner tensors that leaves an original input needed: say which ops still read it."""
    live = {id(v) for v in g.inputs}
    out = []
    for v in originals:
        if id(v) not in live or any(v is x for x in named) or not v.uses:
            continue
        readers = v.consumers()
        who = ", ".join(f"{n.op_type} {n.name!r}" for n in readers[:3]) + (" …" if len(readers) > 3 else "")
        label = v.names[0] if v.names else (v.name or (v.producer.name if v.producer else "?"))
        out.append(f"the original input {label!r} is still required: {who} read{'s' if len(readers) == 1 else ''} it")
    return out


def _shape_text(shape: list[int | None] | None) -> str:
    if shape is None:
        return ""
    return "[" + ",".join("?" if d is None or d < 0 else str(d) for d in shape) + "]"


def _short(arr: np.ndarray) -> str:
    flat = arr.reshape(-1)
    body = ",".join(str(x) for x in flat[:8].tolist()) + ("..." if flat.size > 8 else "")
    return f"{arr.dtype}{list(arr.shape)} [{body}]"
