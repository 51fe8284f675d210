"""Check an IR against OpenVINO itself (optional: needs the ``openvino`` package).

Used by the tests and meant for a ``verify`` command: :func:`model_diff`
compares two files as ``openvino.Core().read_model`` sees them (ops, types,
friendly names, attributes, connections, tensor names, Const bytes,
rt_info, bodies), and :func:`infer_diff` runs both on the same random
inputs with f32 inference precision (several steps on one request for
stateful models).
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["canonical", "infer_diff", "model_diff", "random_inputs", "read_model"]


def _ov() -> Any:
    import openvino as ov  # imported lazily: the runtime is optional

    return ov


_CORE: Any = None


def read_model(path: str | Path) -> Any:
    """``openvino.Core().read_model(path)`` with a shared Core."""
    global _CORE
    ov = _ov()
    if _CORE is None:
        _CORE = ov.Core()
    return _CORE.read_model(str(path))


def _rt_value(v: Any) -> Any:
    if isinstance(v, dict):
        return sorted((str(k), _rt_value(x)) for k, x in v.items())
    try:
        return str(v.astype(str)) if hasattr(v, "astype") else str(v)
    except Exception:  # noqa: BLE001 - some rt_info values have no string form
        try:
            return _rt_value(v.astype(dict))
        except Exception:  # noqa: BLE001
            return "?"


def _rt(rt: Any) -> list[tuple[str, Any]]:
    out = []
    for k in rt:
        try:
            out.append((str(k), _rt_value(rt[k])))
        except Exception:  # noqa: BLE001
            out.append((str(k), "?"))
    return sorted(out)


def _desc(d: Any) -> tuple[Any, ...]:
    fields = []
    for name in sorted(dir(d)):
        if name.startswith("_"):
            continue
        try:
            v = getattr(d, name)
        except Exception:  # noqa: BLE001
            continue
        if callable(v):
            continue
        fields.append((name, str(v)))
    return (type(d).__name__, tuple(fields))


def _bodies(op: Any) -> list[Any]:
    t = op.get_type_name()
    if t not in ("TensorIterator", "Loop", "If"):
        return []
    out = []
    if t == "If":
        for i in (0, 1):
            try:
                out.append(op.get_function(i))
            except Exception:  # noqa: BLE001
                pass
    else:
        try:
            out.append(op.get_function())
        except Exception:  # noqa: BLE001
            try:
                out.append(op.get_function(0))
            except Exception:  # noqa: BLE001
                pass
    return out


_AUTO = re.compile(r"^([A-Za-z]+)_\d+$")


def _name(op: Any) -> str:
    # names like "Add_565" are made up by the runtime for ops it inserts (v10 converts, bodies):
    # their numbers depend on how many ops the process created before, so compare them as "Add_#"
    n = op.get_friendly_name()
    m = _AUTO.match(n)
    return f"{m.group(1)}_#" if m else n


def canonical(model: Any, *, rt_info: bool = True, body: bool = False) -> dict[str, Any]:
    """A comparable description of an ``ov.Model``."""
    ops = []
    for op in model.get_ordered_ops():
        t = op.get_type_name()
        item: dict[str, Any] = {
            "type": t,
            "version": op.get_type_info().version_id,
            "name": _name(op),
            "inputs": [(_name(iv.get_node()), iv.get_index()) for iv in op.input_values()],
            "outputs": [(str(o.get_element_type()), str(o.get_partial_shape()), tuple(sorted(o.get_names())))
                        for o in op.outputs()],
        }
        try:
            attrs = op.get_attributes()
            item["attrs"] = sorted((k, str(v)) for k, v in attrs.items())
        except Exception:  # noqa: BLE001
            item["attrs"] = None
        if t == "Constant":
            try:
                data = np.asarray(op.get_data() if hasattr(op, "get_data") else op.data)
                item["data"] = hashlib.sha256(data.tobytes()).hexdigest() if data.dtype.kind not in "OUS" else \
                    hashlib.sha256(repr(data.tolist()).encode()).hexdigest()
            except Exception:  # noqa: BLE001 - string constants have no numpy view in some versions
                item["data"] = None
        if rt_info:
            item["rt_info"] = _rt(op.get_rt_info())
        bodies = _bodies(op)
        if bodies:
            item["bodies"] = [canonical(b, rt_info=rt_info, body=True) for b in bodies]
            for getter in ("get_input_descriptions", "get_output_descriptions"):
                try:
                    item[getter] = [_desc(d) for d in getattr(op, getter)()]
                except Exception:  # noqa: BLE001
                    pass
        ops.append(item)
    out: dict[str, Any] = {
        "name": None if body else model.get_friendly_name(),
        "inputs": [(tuple(sorted(i.get_names())), str(i.get_element_type()), str(i.get_partial_shape()))
                   for i in model.inputs],
        "outputs": [(tuple(sorted(o.get_names())), str(o.get_element_type()), str(o.get_partial_shape()))
                    for o in model.outputs],
        "sinks": sorted(_name(s) for s in model.get_sinks()),
        "ops": ops,
    }
    if rt_info and not body:
        out["rt_info"] = _rt(model.get_rt_info())
    return out


def _diff(a: Any, b: Any, path: str, out: list[str]) -> None:
    if len(out) > 20:
        return
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b), key=str):
            if k not in a or k not in b:
                out.append(f"{path}.{k}: only in {'second' if k not in a else 'first'}")
            else:
                _diff(a[k], b[k], f"{path}.{k}", out)
    elif isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            out.append(f"{path}: {len(a)} vs {len(b)} items")
        for i, (x, y) in enumerate(zip(a, b)):
            nm = x.get("name") if isinstance(x, dict) else i
            _diff(x, y, f"{path}[{nm}]", out)
    elif a != b:
        out.append(f"{path}: {a!r} != {b!r}")


def model_diff(a: str | Path, b: str | Path, *, rt_info: bool = True) -> list[str]:
    """Differences between two IR files as the runtime reads them (empty list = equivalent)."""
    out: list[str] = []
    _diff(canonical(read_model(a), rt_info=rt_info), canonical(read_model(b), rt_info=rt_info), "model", out)
    return out


def random_inputs(model: Any, shapes: dict[str, Any] | None = None, seed: int = 0) -> dict[str, Any]:
    """Random inputs for every model input; dynamic dims are 2 unless ``shapes`` names them."""
    rng = np.random.default_rng(seed)
    feeds: dict[str, Any] = {}
    shapes = shapes or {}
    for i, inp in enumerate(model.inputs):
        names = sorted(inp.get_names())
        key = next((n for n in names if n in shapes), None)
        if key is not None:
            shape = list(shapes[key])
        else:
            shape = [d.get_length() if d.is_static else 2 for d in inp.get_partial_shape()]
        et = inp.get_element_type()
        name = names[0] if names else i
        if et.is_real():
            feeds[name] = rng.standard_normal(shape).astype(et.to_dtype())
        elif str(et) in ("boolean", "<Type: 'char'>") or et.get_type_name() == "boolean":
            feeds[name] = rng.integers(0, 2, shape).astype(bool)
        elif et.get_type_name() == "string":
            words = np.array(["a", "bc", "héllo", "", "日本"], dtype=object)
            feeds[name] = words[rng.integers(0, len(words), shape)].astype(str)
        else:
            feeds[name] = rng.integers(0, 3, shape).astype(et.to_dtype())
    return feeds


def infer_diff(a: str | Path, b: str | Path, *, shapes: dict[str, Any] | None = None,
               feeds: dict[str, Any] | None = None, steps: int = 1, seed: int = 0) -> float:
    """Largest absolute output difference of two IRs on the same inputs (f32 inference precision).

    With ``steps > 1`` both run that many times on one InferRequest each
    (state carries over), with inputs varying per step.
    """
    ov = _ov()
    global _CORE
    if _CORE is None:
        _CORE = ov.Core()
    cfg = {"INFERENCE_PRECISION_HINT": "f32"}
    ma, mb = read_model(a), read_model(b)
    ra = _CORE.compile_model(ma, "CPU", cfg).create_infer_request()
    rb = _CORE.compile_model(mb, "CPU", cfg).create_infer_request()
    worst = 0.0
    for step in range(steps):
        f = feeds if feeds is not None else random_inputs(ma, shapes, seed + step)
        oa = ra.infer(f)
        ob = rb.infer(f)
        if len(oa) != len(ob):
            raise AssertionError(f"{len(oa)} vs {len(ob)} outputs")
        for x, y in zip(oa.values(), ob.values()):
            x, y = np.asarray(x), np.asarray(y)
            if x.shape != y.shape:
                raise AssertionError(f"output shapes {x.shape} vs {y.shape}")
            if x.dtype.kind in "fc":
                if x.size:
                    d = np.nanmax(np.abs(x.astype(np.float64) - y.astype(np.float64)))
                    if np.isnan(x).sum() != np.isnan(y).sum():
                        d = float("inf")
                    worst = max(worst, float(d))
            elif not np.array_equal(x, y):
                worst = float("inf")
    return worst
