"""ncnn side of the Python API (:mod:`modelfile.api`): named params, weights as arrays, building layers.

:class:`NcnnParams` reads and writes a layer's params by ncnn's schema names and defaults
(:mod:`.schema`), :class:`NcnnWeights` its ``.bin`` blobs as numpy arrays (through the model's
:class:`~.weights.WeightStore`), and the builder hooks keep ncnn's rules when the API rewires a
graph: one consumer per blob (Split fan-out), constants as MemoryData, counts from weights.
The API finds this module through the registry; each format has one with the same functions.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator, Mapping, MutableMapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ...errors import ModelfileError
from ...graph import Graph, Node, Value, fresh_name
from ...graphedit import AttrAccess, model_of, node_error, place_after, top_graph
from .params import Param
from .keys import ARRAY_STYLE

if TYPE_CHECKING:
    from ...model import Model

__all__ = [
    "NcnnParams", "NcnnWeights", "after_bypass", "after_remove", "connect", "constant", "create", "expose",
    "finish_new", "is_input", "move_output_name", "owns", "params", "unsplit", "weights",
]


def _where(node: Node) -> str:
    pos = node.pos
    at = f", line {pos.line}" if pos is not None and pos.line else ""
    return f"layer {node.name!r} ({node.op_type}{at})"


def _top(graph: Graph) -> Graph:
    return top_graph(graph)


class NcnnParams(AttrAccess, MutableMapping[Any, Any]):
    """An ncnn layer's params by schema name (``p.num_output``, ``p["kernel_w"]``) or id (``p[0]``).

    Reading a param the line does not give returns ncnn's default (``kernel_h`` reads as
    ``kernel_w`` when absent). Writing checks the kind (ncnn never converts int <-> float) and
    stores a new value the writer spells in the file's style; ``del p.name`` drops the key so
    ncnn's default applies. Iterating yields the keys the line gives, as names where the
    schema has one and ids otherwise.
    """

    __slots__ = ("_node", "_schema")

    def __init__(self, node: Node) -> None:
        from .schema import layer_schema

        object.__setattr__(self, "_node", node)
        object.__setattr__(self, "_schema", layer_schema(node.op_type))

    # -- key resolution ------------------------------------------------------------------------
    def _spec(self, key: Any) -> Any:
        """The ParamSpec for ``key`` (``None`` for an id the schema does not know)."""
        if isinstance(key, bool):
            raise KeyError(key)
        if isinstance(key, (int, np.integer)):
            return self._schema.by_id(int(key)) if self._schema is not None else None
        if isinstance(key, str):
            if key.lstrip("-").isdigit():
                return self._spec(int(key))
            spec = self._schema.by_name(key) if self._schema is not None else None
            if spec is None:
                known = ", ".join(self._schema.names) if self._schema is not None else ""
                why = (f"{self._node.op_type} has no param {key!r} (known: {known})" if self._schema is not None
                       else f"{self._node.op_type} is not a built-in ncnn layer: use param ids, e.g. params[0]")
                raise KeyError(why)
            return spec
        raise KeyError(key)

    def _id(self, key: Any) -> int:
        spec = self._spec(key)
        if spec is not None:
            return int(spec.id)
        return int(key)

    # -- mapping -------------------------------------------------------------------------------
    def __getitem__(self, key: Any) -> Any:
        spec = self._spec(key)
        pid = spec.id if spec is not None else int(key)
        p = self._node.attrs.get(pid)
        if p is not None:
            try:
                value, kind = p.value, p.kind
            except ValueError as e:
                raise node_error(self._node, f"param {pid} does not decode: {e}") from None
            return _as_ncnn_reads(value, kind, spec.kind) if spec is not None else value
        if spec is None:
            raise KeyError(f"{_where(self._node)} has no param {key}")
        return self.default(spec.name)

    def default(self, key: Any) -> Any:
        """ncnn's value for ``key`` when the line does not give it (may depend on other params)."""
        spec = self._spec(key)
        if spec is None:
            raise KeyError(f"no default known for param {key} of {self._node.op_type}")
        if spec.ref is not None:
            return self[spec.ref]
        if spec.compute is not None:
            return spec.compute(lambda name: self[name])
        d = spec.default
        return list(d) if isinstance(d, list) else d

    def __setitem__(self, key: Any, value: Any) -> None:
        from .params import Param

        node = self._node
        spec = self._spec(key)
        pid = spec.id if spec is not None else int(key)
        if spec is not None:
            value = _coerce_ncnn(node, spec.name, spec.kind, value)
        elif isinstance(value, np.ndarray):
            value = value.tolist()
        old = node.attrs.get(pid)
        if old is not None:
            try:
                if old.kind == (spec.kind if spec is not None else old.kind) and old.value == value and \
                        type(old.value) is type(value):
                    return  # unchanged: keep the original spelling
            except ValueError:
                pass
        is_array = isinstance(value, list)
        style = (old.array_style if old is not None and old.array_style else _array_style(node)) if is_array else "old"
        new = Param.of(pid, value, array_style=style or "old")
        if spec is not None and spec.kind == "float_array" and new.kind == "int_array":
            new = Param(pid, None, style or "old", [float(v) for v in value], "float_array")
        node.attrs[pid] = new
        if old is None:
            _sort_new_key(node, pid)

    def __delitem__(self, key: Any) -> None:
        pid = self._id(key)
        if pid not in self._node.attrs:
            raise KeyError(key)
        del self._node.attrs[pid]

    def __contains__(self, key: object) -> bool:
        try:
            return self._id(key) in self._node.attrs
        except (KeyError, ValueError, TypeError):
            return False

    def __iter__(self) -> Iterator[Any]:
        for pid in list(self._node.attrs):
            spec = self._schema.by_id(pid) if self._schema is not None else None
            yield spec.name if spec is not None else pid

    def __len__(self) -> int:
        return len(self._node.attrs)

    # -- extras --------------------------------------------------------------------------------
    def all(self) -> dict[str, Any]:
        """Every schema param with its effective value (given or default), then unknown ids."""
        out: dict[Any, Any] = {}
        if self._schema is not None:
            for spec in self._schema.params:
                out[spec.name] = self[spec.name]
        for pid, p in self._node.attrs.items():
            if self._schema is None or self._schema.by_id(pid) is None:
                out[pid] = p.value
        return out

    def kind(self, key: Any) -> str:
        """``int``, ``float``, ``string``, ``int_array`` or ``float_array`` (schema first, else the text)."""
        spec = self._spec(key)
        if spec is not None:
            return str(spec.kind)
        return str(self._node.attrs[int(key)].kind)

    def __repr__(self) -> str:
        body = ", ".join(f"{k}={self[k]!r}" for k in self)
        return f"NcnnParams({self._node.op_type} {self._node.name}: {body})"


def _bits(x: Any, to: str) -> Any:
    return struct.unpack("<f" if to == "f" else "<i", struct.pack("<i" if to == "f" else "<f", x))[0]


def _as_ncnn_reads(value: Any, kind: str, want: str) -> Any:
    """The value ncnn's ParamDict hands the layer: it never converts, so a word of the other kind is
    read as its bits (``1`` for a float param is 1.4e-45). Binary ``.param.bin`` files store only
    words, so their float params arrive here as ints and come out right."""
    if kind == want or kind == "string" or want == "string":
        return value
    if want == "float" and kind == "int":
        return _bits(value, "f")
    if want == "int" and kind == "float":
        return _bits(value, "i")
    if want == "float_array" and kind == "int_array":
        return [_bits(v, "f") for v in value]
    if want == "int_array" and kind == "float_array":
        return [_bits(v, "i") if isinstance(v, float) else v for v in value]
    return value


def _coerce_ncnn(node: Node, name: str, kind: str, value: Any) -> Any:
    """``value`` as ``kind`` (what ncnn's ParamDict will read), refusing silent reinterpretation."""
    def bad(why: str) -> ModelfileError:
        return node_error(node, f"param {name} is {kind.replace('_', ' ')}: {why}")

    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, np.generic):
        value = value.item()
    if kind == "int":
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        raise bad(f"got {value!r} (ncnn would read a float's bits as an int)")
    if kind == "float":
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        raise bad(f"got {value!r}")
    if kind == "string":
        if isinstance(value, str):
            return value
        raise bad(f"got {value!r}")
    if not isinstance(value, (list, tuple)):
        raise bad(f"give a list, got {value!r}")
    if kind == "int_array":
        out = []
        for v in value:
            if isinstance(v, float) and v.is_integer():
                v = int(v)
            if not isinstance(v, int):
                raise bad(f"element {v!r} is not an int")
            out.append(int(v))
        return out
    try:
        return [float(v) for v in value]
    except (TypeError, ValueError):
        raise bad(f"elements must be numbers, got {value!r}") from None


def _array_style(node: Node) -> str:
    """``new`` (``k=a,b``) when the file already writes arrays that way, else ncnn's classic ``old``."""
    g = node.graph
    if g is None:
        return "old"
    g = _top(g)
    cached = g.meta.get(ARRAY_STYLE)
    if cached is not None:
        return str(cached)
    style = "old"
    for n in g:
        st = next((p.array_style for p in n.attrs.values() if getattr(p, "array_style", None)), None)
        if st is not None:
            style = str(st)
            break
    g.meta[ARRAY_STYLE] = style
    return style


def _sort_new_key(node: Node, pid: int) -> None:
    """Place a key added to a layer created in code where converters put it (ids ascending)."""
    if node.source is not None:
        return  # a layer read from a file: the writer places new keys in the file's own order
    items = sorted(node.attrs.items(), key=lambda kv: (kv[1].array_style == "old", kv[0]))
    node.attrs.clear()
    node.attrs.update(items)



def store_of(model: "Model") -> Any:
    """The weights of an ncnn model (see ``NcnnHandler.weights``); an empty store for a model without ``.bin``."""
    store = model.handler.weights(model)  # type: ignore[attr-defined]
    if store is None:
        from .weights import WeightStore

        # no .bin yet: new layers bring their own weights; layers that read some cannot be written
        store = WeightStore(model.graph, b"")
        model.handler.state(model).weights = store  # type: ignore[attr-defined]
    return store



def store(node: Node) -> Any:
    """The weights of the model ``node`` belongs to."""
    model = model_of(node)
    if model is None:
        raise node_error(node, "is not part of a loaded model, so its .bin cannot be reached",
                         hint="load the model with modelfile.load() and keep a reference to it")
    return store_of(model)


class NcnnWeights(AttrAccess, MutableMapping[str, np.ndarray]):
    """An ncnn layer's ``.bin`` blobs by role (``weight``, ``bias``, ``slope``...), decoded lazily.

    fp16, int8 and table storage decode to arrays (fp32 data are read-only views of the memory
    map). Assigning re-encodes the blob in its current storage (``f16`` stays ``f16``; table
    storage becomes fp32); the writer re-lays the ``.bin`` on save. Sizes are checked against the
    layer's params: change params first, then assign every blob whose size changed in one
    :meth:`update`.
    """

    __slots__ = ("_node", "_store")

    def __init__(self, node: Node, store: Any) -> None:
        object.__setattr__(self, "_node", node)
        object.__setattr__(self, "_store", store)

    def _specs(self) -> list[Any]:
        from .weights import layer_layout

        specs = layer_layout(self._node)
        if specs is None:
            raise node_error(self._node, "has a type whose weight layout is unknown",
                             hint="register it with modelfile.formats.ncnn.weights.register_layout()")
        return specs

    def _current(self) -> list[tuple[Any, np.ndarray]]:
        """(blob info, array) of the bytes the layer holds now, as its current params read them."""
        try:
            infos = self._store.blob_info(self._node)
            arrays = self._store.blobs_of(self._node)
        except ModelfileError:
            return self._as_loaded()
        used = sum(b.nbytes for b in infos)
        if used != len(self._store.layer_bytes(self._node)):
            return self._as_loaded()  # the params no longer read exactly these bytes
        return list(zip(infos, arrays))

    def _as_loaded(self) -> list[tuple[Any, np.ndarray]]:
        # params changed since load so that they no longer fit the bytes: decode with the load-time layout
        import dataclasses

        from .weights import decode_blob

        span = self._store.spans_of(self._node)
        data = self._store.layer_bytes(self._node)
        if span is None or not span.blobs or span.nbytes != len(data):
            return []
        buf = np.frombuffer(data, dtype=np.uint8)
        out = []
        for b in span.blobs:
            rel = dataclasses.replace(b, offset=b.offset - span.offset)
            out.append((rel, decode_blob(rel, buf)))
        return out

    def roles(self) -> list[str]:
        """Blob names in ``.bin`` order, as the layer's current params lay them out."""
        return [s.role for s in self._specs()]

    def encoding(self, role: str) -> str:
        """Storage of a blob: ``raw`` (bare fp32), ``f32``, ``f16``, ``i8``, ``table``, ``bytes``."""
        for info, _ in self._current():
            if info.role == role:
                return str(info.encoding)
        raise KeyError(role)

    def __getitem__(self, role: str) -> np.ndarray:
        for info, arr in self._current():
            if info.role == role:
                return _natural_shape(self._node, role, arr)
        if role in self.roles():
            raise node_error(self._node, f"has no {role} data yet", hint=f"assign weights(node).{role} = array")
        raise KeyError(f"{_where(self._node)} has no blob {role!r} (its blobs: {', '.join(self.roles()) or 'none'})")

    def __setitem__(self, role: str, value: Any) -> None:
        self.update({role: value})

    def __delitem__(self, role: str) -> None:
        raise node_error(self._node, f"cannot delete blob {role}: change the params that ask for it "
                                     "(e.g. bias_term=0), then assign the remaining blobs")

    def __iter__(self) -> Iterator[str]:
        return iter(self.roles())

    def __len__(self) -> int:
        return len(self.roles())

    def update(self, other: Any = (), /, encodings: Mapping[str, str] | None = None, **kw: Any) -> None:  # type: ignore[override]
        """Set several blobs at once (``encodings`` picks ``f32``/``f16``/``i8`` storage per tagged blob)."""
        new = dict(other) if other else {}
        new.update(kw)
        set_weights(self._node, self._store, new, encodings or {})

    def __repr__(self) -> str:
        return f"NcnnWeights({self._node.op_type} {self._node.name}: {', '.join(self.roles())})"


def _declares_int8(node: Node) -> bool:
    """Whether the layer's params say its weights are int8 (otherwise ncnn reads int8 storage as floats)."""
    p = NcnnParams(node)
    for key in ("int8_scale_term", "quantize_term"):
        try:
            if p[key]:
                return True
        except KeyError:
            continue
    return False


def _natural_shape(node: Node, role: str, arr: np.ndarray) -> np.ndarray:
    """Convolution weights as ``(out, in/group, kh, kw)`` (1-D: ``(out, in/group, kw)``), InnerProduct ``(out, in)``."""
    t = node.op_type
    if role != "weight" or arr.ndim != 1 or not t.startswith(("Convolution", "InnerProduct")):
        return arr
    p = NcnnParams(node)
    try:
        out = int(p["num_output"])
        if t == "InnerProduct":
            shape: tuple[int, ...] = (out, -1)
        elif t.endswith("1D"):
            shape = (out, -1, int(p["kernel_w"]))
        elif t.endswith("3D"):
            shape = (out, -1, int(p["kernel_d"]), int(p["kernel_h"]), int(p["kernel_w"]))
        else:
            shape = (out, -1, int(p["kernel_h"]), int(p["kernel_w"]))
        inner = int(np.prod([d for d in shape if d > 0]))
        if inner <= 0 or arr.size % inner:
            return arr
        return arr.reshape(shape)
    except (KeyError, TypeError, ValueError, ModelfileError):
        return arr


def set_weights(node: Node, store: Any, new: Mapping[str, Any], encodings: Mapping[str, str]) -> None:
    """Encode ``node``'s blobs (new ones from ``new``, the rest kept) and hand them to ``store``."""
    from .weights import FLAG_FP32_MARKED, layer_layout, tagged_bytes

    specs = layer_layout(node)
    if specs is None:
        raise node_error(node, "has a type whose weight layout is unknown")
    roles = [s.role for s in specs]
    unknown = [r for r in new if r not in roles]
    if unknown:
        raise node_error(node, f"has no blob {unknown[0]!r} with its current params (its blobs: "
                               f"{', '.join(roles) or 'none'})")
    old: dict[str, tuple[Any, np.ndarray]] = {}
    if store.spans_of(node) is not None or len(store.layer_bytes(node)):
        old = {info.role: (info, arr) for info, arr in NcnnWeights(node, store)._current()}
    parts: list[bytes] = []
    for s in specs:
        enc = encodings.get(s.role)
        if s.role in new:
            arr = np.asarray(new[s.role])
            if arr.size != s.count:
                raise node_error(node, f"{s.role} needs {s.count} values for the layer's params, got "
                                       f"{arr.size} (shape {arr.shape})")
        elif s.role in old and old[s.role][1].size == s.count:
            info, arr = old[s.role]
            if enc is None and info.encoding == "f32m":
                # keep caffe2ncnn's "fp32, quantize at runtime" marker word
                parts.append(struct.pack("<I", FLAG_FP32_MARKED) + np.ascontiguousarray(arr, "<f4").tobytes())
                continue
        else:
            have = (f"holds {old[s.role][1].size}" if s.role in old else
                    "its bytes were laid out for other params" if len(store.layer_bytes(node)) else "has none")
            raise node_error(node, f"{s.role} needs {s.count} values for the layer's params but {have}",
                             hint=f"assign all changed blobs together: weights(node).update({s.role}=...)")
        if s.kind == "raw":
            parts.append(np.ascontiguousarray(arr, dtype="<f4").tobytes())
        elif s.kind == "bytes":
            raw = np.ascontiguousarray(arr, dtype=np.uint8).tobytes()
            parts.append(raw + b"\0" * (-len(raw) % 4))
        else:
            if enc is None:
                prev = old.get(s.role, (None,))[0]
                enc = {"f16": "f16", "i8": "i8"}.get(getattr(prev, "encoding", ""), "f32")
            if enc == "i8" and not _declares_int8(node):
                raise node_error(node, f"{s.role} cannot be stored as int8: the layer does not declare int8 "
                                       "weights (int8_scale_term), and ncnn would read the bytes as floats")
            if enc == "i8" and arr.dtype.kind == "f":
                raise node_error(node, f"{s.role} is stored as int8: give an int8 array, or "
                                       f"update({s.role}=..., encodings={{'{s.role}': 'f32'}})")
            parts.append(tagged_bytes(arr.reshape(-1), enc))
    store.set_layer_data(node, b"".join(parts))



# ---------------------------------------------------------------------------------------------
# the views and the builder hooks the API calls
# ---------------------------------------------------------------------------------------------

def owns(node: Node) -> bool:
    """Whether a node without a model is an ncnn layer (it was read from a .param, or has ncnn params)."""
    return type(node.source).__name__ == "LineSource" or any(isinstance(v, Param) for v in node.attrs.values())


def params(node: Node) -> NcnnParams:
    return NcnnParams(node)


def weights(node: Node) -> NcnnWeights:
    return NcnnWeights(node, store(node))


def is_input(node: Node) -> bool:
    return node.op_type == "Input"


def connect(graph: Graph, value: Value) -> None:
    """Give every consumer of an ncnn blob its own Split top when several layers read it."""
    uses = list(value.uses)
    if len(uses) < 2:
        return
    split = next((u.node for u in uses if u.node.op_type == "Split" and len(u.node.inputs) == 1), None)
    taken = graph.tensor_names()
    if split is None:
        base = value.name or "blob"
        split = Node("Split", fresh_name(f"splitncnn_{base}", graph.layer_names()))
        split.graph = graph
        anchor = value.producer
        split.set_inputs([value])
        place_after(graph, split, [anchor])
        others = uses
    else:
        others = [u for u in uses if u.node is not split]
    for u in others:
        top = split.append_output(Value(fresh_name(f"{value.name}_splitncnn_{len(split.outputs)}", taken)))
        u.node.set_input(u.index, top)


def constant(model: "Model", arr: np.ndarray, name: str, like: Value | None = None) -> Value:
    from .weights import memorydata_bytes, memorydata_dims

    g = model.graph
    md = Node("MemoryData", fresh_name(f"{name}_data", g.layer_names()))
    md.graph = g
    shape = arr.shape or (1,)
    for pid, dim in memorydata_dims(shape).items():
        from .params import Param

        md.attrs[pid] = Param.of(pid, int(dim))
    md.attrs = dict(sorted(md.attrs.items()))
    md.append_output(Value(fresh_name(md.name, g.tensor_names())))
    place_after(g, md, [])
    store_of(model).set_layer_data(md, memorydata_bytes(arr))
    return md.outputs[0]


def _derive_counts(op_type: str, params: dict[Any, Any], w: Mapping[str, Any]) -> None:
    """Counts an ncnn layer states that follow from its weights (sizes, bias flags, kernel)."""
    def put(key: str, value: Any) -> None:
        params.setdefault(key, value)

    if op_type.startswith(("Convolution", "Deconvolution")) and "weight" in w:
        wt = np.asarray(w["weight"])
        put("weight_data_size", int(wt.size))
        put("bias_term", int("bias" in w))
        if wt.ndim >= 3:
            put("num_output", int(wt.shape[1] if op_type.startswith("Deconvolution") and "DepthWise" not in op_type
                                  else wt.shape[0]))
            put("kernel_w", int(wt.shape[-1]))
            if wt.ndim >= 4 and not op_type.endswith("1D"):
                put("kernel_h", int(wt.shape[-2]))
        elif "bias" in w:
            put("num_output", int(np.asarray(w["bias"]).size))
    elif op_type == "InnerProduct" and "weight" in w:
        wt = np.asarray(w["weight"])
        put("weight_data_size", int(wt.size))
        put("bias_term", int("bias" in w))
        put("num_output", int(wt.shape[0]) if wt.ndim == 2 else int(np.asarray(w.get("bias", [])).size))
    elif op_type == "BatchNorm" and "slope" in w:
        put("channels", int(np.asarray(w["slope"]).size))
    elif op_type == "Scale" and "scale" in w:
        put("scale_data_size", int(np.asarray(w["scale"]).size))
        put("bias_term", int("bias" in w))
    elif op_type in ("Bias",) and "bias" in w:
        put("bias_data_size", int(np.asarray(w["bias"]).size))
    elif op_type == "PReLU" and "slope" in w:
        put("num_slope", int(np.asarray(w["slope"]).size))
    elif op_type == "MemoryData" and "data" in w:
        from .weights import memorydata_dims

        names = {0: "w", 1: "h", 2: "c", 11: "d"}
        for pid, dim in memorydata_dims(np.asarray(w["data"]).shape or (1,)).items():
            put(names[pid], dim)


def unsplit(g: Graph, node: Node, value: Value) -> bool:
    """Undo the Split :func:`new_node` put between ``value`` and ``node`` (ncnn): ``node`` reads ``value`` again."""
    for i, v in enumerate(node.inputs):
        p = v.producer if v is not None else None
        if p is None or p.op_type != "Split" or not p.inputs or p.inputs[0] is not value:
            continue
        node.set_input(i, value)
        p.remove_output(v.index)
        if len(p.outputs) == 1:  # the Split only fans out to one reader now: drop it (no new fan-out fix yet)
            rest = p.outputs[0]
            for u in list(rest.uses):
                u.node.set_input(u.index, value)
            g.remove(p, safe=False)
        return True
    return False


def expose(model: "Model", value: Value, name: str | None) -> Value:
    """Make ``value`` a net output: a blob layers read is released in light mode once they ran, so
    extracting it after the net output fails; it gets a Split top that nothing reads, named ``name``
    or the blob's own name (the blob itself becomes ``<name>_pre``)."""
    g = model.graph
    taken = g.tensor_names()
    if not value.uses:
        if name and name != value.name:
            if name in taken:
                raise ModelfileError(f"blob name {name!r} is already taken")
            value.name = name
        if value not in g.outputs:
            g.outputs.append(value)
        return value
    if name and name in taken:
        raise ModelfileError(f"blob name {name!r} is already taken")
    top_name = name or value.name
    if not name:
        taken.discard(value.name)
        value.name = fresh_name(f"{value.name}_pre", taken)
    connect(g, value)
    split = value.uses[0].node
    if split.op_type != "Split" or len(split.inputs) != 1:
        _place_split(g, value)
        split = value.uses[0].node
    top = split.append_output(Value(top_name))
    g.outputs.append(top)
    return top


def _place_split(g: Graph, value: Value) -> None:
    """Put a one-top Split between ``value`` and its single reader."""
    u = value.uses[0]
    split = Node("Split", fresh_name(f"splitncnn_{value.name}", g.layer_names()))
    split.graph = g
    top = split.append_output(Value(fresh_name(f"{value.name}_splitncnn_0", g.tensor_names())))
    u.node.set_input(u.index, top)
    split.set_inputs([value])
    place_after(g, split, [value.producer])


def _drop_split_top(g: Graph, top: Value) -> None:
    """An ncnn Split top nobody reads any more goes; a Split left with one top goes too."""
    split = top.producer
    if split is None or split.op_type != "Split" or top.uses or top in g.outputs or len(split.outputs) < 2:
        return
    split.remove_output(top.index)
    if len(split.outputs) == 1 and split.inputs and split.inputs[0] is not None:
        rest, src = split.outputs[0], split.inputs[0]
        if rest in g.outputs:
            return
        for u in list(rest.uses):
            u.node.set_input(u.index, src)
        g.remove(split, safe=False)




def create(model: "Model", op_type: str, name: str, ins: Sequence[Value | None], params_: Mapping[Any, Any],
           weights_: Mapping[str, Any], outputs: int | Sequence[str], version: str | None) -> Node:
    """A new layer with typed params (counts derived from the weights) and named output blobs."""
    store_of(model)  # map the .bin before the graph changes shape
    g = model.graph
    node = Node(op_type, name)
    node.graph = g  # lets the params view see the file's array style; the API inserts the node
    p = dict(params_)
    _derive_counts(op_type, p, weights_)
    view = NcnnParams(node)
    for k, v in p.items():
        try:
            view[k] = v
        except KeyError as e:
            raise node_error(node, str(e.args[0]) if e.args else f"unknown param {k!r}") from None
    names = list(outputs) if not isinstance(outputs, int) else []
    count = len(names) if names else int(outputs)  # type: ignore[arg-type]
    taken = g.tensor_names()
    for k in range(count):
        node.append_output(Value(names[k] if names else fresh_name(name if count == 1 else f"{name}_{k}", taken)))
    node.set_inputs(ins)
    return node


def finish_new(model: "Model", node: Node, weights_: Mapping[str, Any]) -> None:
    """After the layer is placed: Split fan-out for blobs others read too, and its ``.bin`` bytes."""
    from .weights import layer_layout

    for v in node.inputs:
        if v is not None:
            connect(model.graph, v)
    if weights_ or layer_layout(node):
        set_weights(node, store_of(model), weights_, {})


def move_output_name(graph: Graph, old: Value, new: Value) -> None:
    """The net output's blob name moves to the blob that is now the output (the old one gets ``<name>_pre``)."""
    keep = old.name
    old.name = fresh_name(f"{keep}_pre", graph.tensor_names())
    new.name = keep


def after_bypass(graph: Graph, src: Value, out: Value, was_output: bool) -> None:
    """One reader per blob again; a net output keeps its name when the blob that replaces it is free."""
    connect(graph, src)
    if was_output and not src.uses and src.producer is not None and not is_input(src.producer):
        src.name = out.name


def after_remove(graph: Graph, inputs: Sequence[Value]) -> None:
    """Split tops the removed layer read go (and a Split left with one top)."""
    for v in inputs:
        _drop_split_top(graph, v)


def new_version(op_type: str) -> str | None:
    return None


def output_type(node: Node, ins: Sequence[Value | None]) -> tuple[str | None, Any]:
    return None, None
