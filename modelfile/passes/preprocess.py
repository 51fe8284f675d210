"""``mo --mean_values/--scale_values/--reverse_input_channels/--layout`` on an existing model.

The legacy Model Optimizer embedded input normalisation in the IR; ``ovc`` dropped the options
(users now rebuild it at run time with ``PrePostProcessor``). This pass writes the same ops into
the file, after the input, built with the public API (:mod:`modelfile.build`):

* OpenVINO IR, as ``PrePostProcessor`` builds them (``preprocess_steps_impl.cpp``):
  reverse channels = ``Gather(x, Range(C-1, -1, -1, i32), axis)``; mean = ``Subtract(x, Const)``;
  scale = ``Divide(x, Const)``; constants shaped ``[1, C, 1, 1]`` along the channel axis (``[1]``
  for a single value), of the input's element type.
* ncnn (Mats are planar ``c, h, w``): reverse channels = ``Slice`` along c + ``Concat`` in reverse
  order; per-channel mean/scale = one ``Scale`` layer (``x * 1/s + (-m/s)``); single values =
  ``BinaryOp`` with a scalar (sub, div).

Order and channel axis follow mo (``back/preprocessing.py``): reverse first, then mean, then
scale; the axis is the ``C`` of ``--layout``, else dim 1 of a 4-D input (NCHW, as mo assumed)
when it fits, else guessed from the shape: the one dimension equal to the number of values (3
for ``--reverse_input_channels``), at index 1 or 3 of a 4-D input (0 or 2 of 3-D, 1 or 4 of 5-D).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ..api.build import insert_after, new_node
from ..errors import ModelfileError
from ..graph import Node, Value
from .report import Report

if TYPE_CHECKING:
    from ..model import Model

__all__ = ["InputSteps", "parse_layouts", "parse_values", "plan", "preprocess"]

_CODE = "PREPROCESS"
_VALUES = re.compile(r"[(\[]([0-9., -]+)[)\]]")


def _err(option: str, text: str, message: str) -> ModelfileError:
    return ModelfileError(message, code=_CODE, file=option, line=1, column=1, source_line=text)


def parse_values(text: str, option: str = "--mean-values") -> dict[str, list[float]] | list[list[float]]:
    """mo's ``parse_tuple_pairs``: ``"data[1,2,3],info(4)"`` -> by name; ``"[1,2,3],[4]"`` -> by input order."""
    matches = list(_VALUES.finditer(text))
    if not matches or text.strip() == "":
        raise _err(option, text, "values go in round or square brackets, with an input name before them, e.g. "
                                 "data[123.675,116.28,103.53] (or [1,2,3] for a model with one input)")
    named: dict[str, list[float]] = {}
    unnamed: list[list[float]] = []
    start = 0
    for k, m in enumerate(matches):
        name = text[start:m.start()]
        if k:
            if not name.startswith(","):
                raise _err(option, text, f"expected a comma before {text[start:m.end()]!r}")
            name = name[1:]
        start = m.end()
        try:
            vals = [float(v) for v in m.group(1).replace(" ", "").split(",") if v != ""]
        except ValueError:
            raise _err(option, text, f"not a list of numbers: {m.group(0)!r}") from None
        if not vals:
            raise _err(option, text, f"no values in {m.group(0)!r}")
        if (name and unnamed) or (not name and named):
            raise _err(option, text, "give an input name before every value list or before none")
        if name:
            named[name] = vals
        else:
            unnamed.append(vals)
    rest = text[start:].strip()
    if rest:
        raise _err(option, text, f"unexpected text after the last value list: {rest!r}")
    return named if named else unnamed


def parse_layouts(text: str, option: str = "--layout") -> dict[str, str]:
    """mo's ``--layout``: ``"data(nchw)"``, ``"data[n,c,h,w],info(nc)"`` or ``"nchw"`` for the only input.

    Returns source layouts by input name (``""`` for the unnamed form). A target layout
    (``nhwc->nchw``) needs a Transpose and is refused.
    """
    text = text.strip()
    out: dict[str, str] = {}
    if re.fullmatch(r"[A-Za-z?.]+|\[[A-Za-z?.,\s]*\]", text):
        return {"": text}
    for m in re.finditer(r"\s*([^,(\[]+?)\s*([(\[])([^)\]]*)[)\]]\s*(,|$)", text):
        name, lay = m.group(1), m.group(3)
        if "->" in lay:
            raise _err(option, text, f"a target layout ({lay}) needs a Transpose; only the model's own "
                                     "layout (the source layout) is supported")
        out[name] = lay if m.group(2) == "(" else f"[{lay}]"
    if not out:
        raise _err(option, text, "layouts look like data(nchw) or data[n,c,h,w] (or nchw for a model with one input)")
    return out


def channel_index(layout: str, rank: int, name: str) -> int:
    """Index of ``C`` in a layout string for a tensor of ``rank`` dims (``...`` allowed)."""
    s = layout.strip()
    dims = [d.strip().upper() for d in s[1:-1].split(",")] if s.startswith("[") else None
    if dims is None:
        dims = []
        k = 0
        while k < len(s):
            if s.startswith("...", k):
                dims.append("...")
                k += 3
            else:
                dims.append(s[k].upper())
                k += 1
    if "C" not in dims:
        raise ModelfileError(f"layout {layout!r} of input {name!r} has no channel dimension C", code=_CODE)
    i = dims.index("C")
    if "..." in dims and dims.index("...") < i:
        return rank - (len(dims) - i)
    if i >= rank:
        raise ModelfileError(f"layout {layout!r} does not fit input {name!r} of rank {rank}", code=_CODE)
    return i


def _guess_channels(shape: tuple[Any, ...] | None, count: int, name: str) -> int:
    """The channel axis without --layout: NCHW's 1 for a 4-D input whose dim 1 fits (what mo assumed for
    NCHW frameworks), else mo's ``find_channels_dimension``: the one dim equal to ``count``."""
    if shape is not None and len(shape) == 4 and (shape[1] == count or not (isinstance(shape[1], int)
                                                                             and shape[1] >= 0)):
        return 1
    if shape is None:
        raise ModelfileError(f"cannot find the channel dimension of {name!r}: its rank is dynamic; give --layout",
                             code=_CODE)
    hits = [i for i, d in enumerate(shape) if isinstance(d, int) and d == count]
    if len(hits) > 1:
        raise ModelfileError(f"cannot find the channel dimension of {name!r}: shape {list(shape)} has {count} at "
                             f"dims {hits[0]} and {hits[1]}; give --layout", code=_CODE)
    if not hits:
        raise ModelfileError(f"cannot find the channel dimension of {name!r}: no dim of shape {list(shape)} is "
                             f"{count}; give --layout", code=_CODE)
    allowed = {3: (0, 2), 4: (1, 3), 5: (1, 4)}.get(len(shape))
    if allowed is None or hits[0] not in allowed:
        raise ModelfileError(f"cannot tell the channel dimension of {name!r} (shape {list(shape)}); give --layout",
                             code=_CODE)
    return hits[0]


@dataclass
class InputSteps:
    """What to do to one model input."""

    name: str
    mean: list[float] | None = None
    scale: list[float] | None = None
    reverse: bool = False
    layout: str | None = None
    notes: list[str] = field(default_factory=list)


def plan(model: "Model", mean: Any = None, scale: Any = None, *, scale_all: float | None = None,
         reverse: bool = False, layouts: dict[str, str] | None = None) -> list[tuple[Value, InputSteps]]:
    """Resolve mo-style option values against the model's inputs (names: tensor names, then layer names)."""
    inputs = _inputs(model)
    if not inputs:
        raise ModelfileError("the model has no inputs to preprocess", code=_CODE, file=str(model.path or ""))
    steps: dict[int, InputSteps] = {}

    def find(name: str, option: str) -> Value:
        for v in inputs:
            if name == v.name or name in v.names:
                return v
        for v in inputs:
            if v.producer is not None and v.producer.name == name:
                return v
        raise ModelfileError(f"{option}: the model has no input {name!r} (inputs: "
                             f"{', '.join(_label(v) for v in inputs)})", code=_CODE, file=str(model.path or ""))

    def step(v: Value) -> InputSteps:
        return steps.setdefault(id(v), InputSteps(_label(v)))

    for option, values, attr in (("--mean-values", mean, "mean"), ("--scale-values", scale, "scale")):
        if not values:
            continue
        if isinstance(values, dict):
            for name, vals in values.items():
                setattr(step(find(name, option)), attr, list(vals))
        else:
            if len(values) != len(inputs):
                raise ModelfileError(f"{option}: {len(values)} value list(s) for {len(inputs)} input(s); "
                                     "name the inputs, e.g. data[1,2,3]", code=_CODE, file=str(model.path or ""))
            for v, vals in zip(inputs, values):
                setattr(step(v), attr, list(vals))
    if scale_all is not None:
        for v in inputs:
            s = step(v)
            if s.scale is None:
                s.scale = [float(scale_all)]
    lays = dict(layouts or {})
    if "" in lays:
        if len(inputs) != 1:
            raise ModelfileError(f"--layout without an input name needs a model with one input, this one has "
                                 f"{len(inputs)}", code=_CODE, file=str(model.path or ""))
        lays = {_label(inputs[0]): lays.pop("")}
    for name, lay in lays.items():
        step(find(name, "--layout")).layout = lay
    if reverse:
        for v in inputs:
            step(v).reverse = True
    return [(v, steps[id(v)]) for v in inputs if id(v) in steps]


def _label(v: Value) -> str:
    return v.names[0] if v.names else v.name


def _inputs(model: "Model") -> list[Value]:
    return list(model.graph.inputs)


def preprocess(model: "Model", mean: Any = None, scale: Any = None, *, scale_all: float | None = None,
               reverse: bool = False, layouts: dict[str, str] | None = None) -> Report:
    """Add mean/scale/reverse-channels ops after the inputs (see the module docstring)."""
    report = Report("preprocess")
    todo = plan(model, mean, scale, scale_all=scale_all, reverse=reverse, layouts=layouts)
    if not todo:
        raise ModelfileError("nothing to do: give --mean-values, --scale-values, --scale or "
                             "--reverse-input-channels", code=_CODE)
    any_reversed = False
    for value, st in todo:
        # an opset Parameter gets PrePostProcessor's ops; an ncnn Input layer (planar c,h,w Mats) its layers
        if value.producer is not None and value.producer.op_type == "Parameter":
            did = _ir_input(model, value, st, report)
        else:
            did = _ncnn_input(model, value, st, report)
        any_reversed |= did
    if reverse and not any_reversed:
        raise ModelfileError("no input is suitable for reversing channels: it needs 3 channels (give --layout "
                             "for a dynamic channel dim)", code=_CODE, file=str(model.path or ""))
    return report


def _check_counts(st: InputSteps) -> int:
    counts = {len(x) for x in (st.mean, st.scale) if x is not None and len(x) > 1}
    if len(counts) > 1:
        raise ModelfileError(f"mean and scale values of {st.name!r} have different lengths", code=_CODE)
    return counts.pop() if counts else 1


# -- OpenVINO IR ---------------------------------------------------------------------------------

def _ir_input(model: "Model", value: Value, st: InputSteps, report: Report) -> bool:
    shape = value.shape
    rank = len(shape) if shape is not None else None
    et = value.dtype or "f32"
    n = _check_counts(st)
    axis: int | None = None
    if st.layout is not None:
        if rank is None:
            raise ModelfileError(f"input {st.name!r} has a dynamic rank; cannot place its channel axis", code=_CODE)
        axis = channel_index(st.layout, rank, st.name)
        if n > 1 and isinstance(shape[axis], int) and shape[axis] >= 0 and shape[axis] != n:
            raise ModelfileError(f"input {st.name!r} has {shape[axis]} channels (layout {st.layout}, shape "
                                 f"{list(shape)}) but {n} mean/scale values were given", code=_CODE)
    elif n > 1:
        if n != 3:
            raise ModelfileError(f"{n} mean/scale values for {st.name!r}: give --layout (mo guesses the channel "
                                 "dimension only for 3 values)", code=_CODE)
        axis = _guess_channels(shape, n, st.name)
    reversed_ = False
    cur = value
    if st.reverse:
        rax = axis
        if rax is None:
            try:
                rax = _guess_channels(shape, 3, st.name)
            except ModelfileError:
                rax = None
        if rax is not None and shape is not None and (not isinstance(shape[rax], int) or shape[rax] in (3, -1)):
            c = shape[rax]
            if not (isinstance(c, int) and c > 0):
                raise ModelfileError(f"input {st.name!r}: reversing a dynamic channel dim is not supported "
                                     "(PrePostProcessor adds a ShapeOf sub-graph)", code=_CODE)
            rng = new_node(model, "Range", [np.array(c - 1, np.int64), np.array(-1, np.int64), np.array(-1, np.int64)],
                           name=f"{st.name}/reverse_channels/range", params={"output_type": "i32"})
            rng.outputs[0].dtype, rng.outputs[0].shape = "i32", (c,)
            gather = new_node(model, "Gather", [cur, rng.outputs[0], np.array([rax], np.int32)],
                              name=f"{st.name}/reverse_channels", params={"batch_dims": 0})
            gather.outputs[0].dtype, gather.outputs[0].shape = et, shape
            insert_after(cur, gather)
            cur = gather.outputs[0]
            reversed_ = True
            report.add("reverse-channels", st.name, None, f"Gather axis {rax}")
        else:
            st.notes.append(f"{st.name}: not reversed (no 3-channel dim)")
    for kind, vals, op in (("mean", st.mean, "Subtract"), ("scale", st.scale, "Divide")):
        if vals is None:
            continue
        if not et.startswith(("f", "bf")):
            raise ModelfileError(f"{kind} values need a floating-point input; {st.name!r} is {et}", code=_CODE)
        if len(vals) == 1:
            cshape: tuple[int, ...] = (1,)
        else:
            assert axis is not None and rank is not None
            cshape = tuple(len(vals) if i == axis else 1 for i in range(rank))
        arr = np.asarray(vals, dtype=np.float64).reshape(cshape).astype(np.float32)
        params = {"auto_broadcast": "numpy"}
        if op == "Divide":
            params["m_pythondiv"] = True  # type: ignore[assignment]
        node = new_node(model, op, [cur, arr], name=f"{st.name}/{kind}", params=params)
        node.outputs[0].dtype, node.outputs[0].shape = et, shape
        insert_after(cur, node)
        cur = node.outputs[0]
        report.add(kind, st.name, None, f"{op} {vals}")
    report.notes.extend(st.notes)
    return reversed_


# -- ncnn --------------------------------------------------------------------------------------

def _ncnn_input(model: "Model", value: Value, st: InputSteps, report: Report) -> bool:
    from ..api.views import params as params_of

    layer: Node | None = value.producer
    dims = params_of(layer) if layer is not None else None
    c = int(dims["c"]) if dims is not None else 0
    n = _check_counts(st)
    if st.layout is not None:
        lay = st.layout.strip().strip("[]").replace(",", "").replace(" ", "").upper()
        if lay.lstrip("N")[:1] != "C":
            raise ModelfileError(f"ncnn Mats are planar (c, h, w): layout {st.layout!r} of {st.name!r} does not "
                                 "put channels first and ncnn has no layer that normalises another axis",
                                 code=_CODE)
    if n > 1 and c and c != n:
        raise ModelfileError(f"input {st.name!r} declares c={c} but {n} mean/scale values were given", code=_CODE)
    cur = value
    reversed_ = False
    if st.reverse:
        channels = c or (n if n > 1 else 3)
        if channels != 3:
            st.notes.append(f"{st.name}: not reversed ({channels} channels)")
        else:
            sl = new_node(model, "Slice", [], name=f"{st.name}_reverse_slice", outputs=3,
                          params={"slices": [1, 1, 1], "axis": 0})
            cat = new_node(model, "Concat", list(reversed(sl.outputs)), name=f"{st.name}_reverse", params={"axis": 0})
            insert_after(cur, sl, output=cat.outputs[0])
            cur = cat.outputs[0]
            reversed_ = True
            report.add("reverse-channels", st.name, None, "Slice + Concat along c")
    if st.mean is not None or st.scale is not None:
        if n > 1:
            m = np.asarray(st.mean if st.mean is not None else [0.0] * n, np.float64)
            s = np.asarray(st.scale if st.scale is not None else [1.0] * n, np.float64)
            m = np.broadcast_to(m, (n,))
            s = np.broadcast_to(s, (n,))
            w: dict[str, Any] = {"scale": (1.0 / s).astype(np.float32)}
            if st.mean is not None:
                w["bias"] = (-m / s).astype(np.float32)
            node = new_node(model, "Scale", [cur], name=f"{st.name}_norm", weights=w)
            insert_after(cur, node)
            cur = node.outputs[0]
            report.add("mean-scale", st.name, None, f"Scale mean={m.tolist()} scale={s.tolist()}")
        else:
            for kind, vals, op in (("mean", st.mean, 1), ("scale", st.scale, 3)):
                if vals is None:
                    continue
                node = new_node(model, "BinaryOp", [cur], name=f"{st.name}_{kind}",
                                params={"op_type": op, "with_scalar": 1, "b": float(vals[0])})
                insert_after(cur, node)
                cur = node.outputs[0]
                report.add(kind, st.name, None, f"BinaryOp {'sub' if op == 1 else 'div'} {vals[0]}")
    report.notes.extend(st.notes)
    return reversed_
