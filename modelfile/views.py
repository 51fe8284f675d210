"""Named, typed views of a node's params and weights, for both formats.

``params(node)`` reads and writes ``node.attrs`` by name: for ncnn by the names and defaults
of ncnn's layer schema (:mod:`modelfile.formats.ncnn.schema`; by id for layers it does not
know), for OpenVINO IR with each ``<data>`` attribute typed per op
(:mod:`modelfile.formats.openvino.attrs`). ``weights(node)`` gives an ncnn layer's ``.bin``
blobs as numpy arrays named per the layer's layout, or an IR Const's value. Both views hold
no state of their own: they read and write the node, so they can be made whenever needed.
"""

from __future__ import annotations

import struct
import weakref
from collections.abc import Iterator, Mapping, MutableMapping
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import ModelfileError
from .graph import Graph, Node

if TYPE_CHECKING:
    from .model import Model

__all__ = [
    "ConstWeights", "IrParams", "NcnnParams", "NcnnWeights", "attach_model", "format_of", "model_of", "params",
    "weights",
]


# ---------------------------------------------------------------------------------------------
# which format / model a node belongs to
# ---------------------------------------------------------------------------------------------

def _top(graph: Graph) -> Graph:
    while graph.parent is not None and graph.parent.graph is not None:
        graph = graph.parent.graph
    return graph


def attach_model(model: "Model") -> None:
    """Let nodes of ``model.graph`` find their model (a weak reference in ``graph.meta``).

    The ncnn weights live in the model (``model.meta["weights"]``), not in the graph; views
    made from a bare node need this link to reach them.
    """
    model.graph.meta["model"] = weakref.ref(model)


def model_of(node: Node) -> "Model | None":
    """The model ``node`` belongs to, when it was loaded with :func:`modelfile.load` (or attached)."""
    g = node.graph
    if g is None:
        return None
    ref = _top(g).meta.get("model")
    return ref() if ref is not None else None


def format_of(node: Node) -> str:
    """``"ncnn"`` or ``"openvino"``: from the graph when known, else from the node's attributes."""
    g = node.graph
    if g is not None:
        fmt = _top(g).meta.get("format")
        if fmt is None:
            m = model_of(node)
            fmt = m.format if m is not None else None
        if fmt is not None:
            return str(fmt)
    from .formats.ncnn.params import Param

    src = type(node.source).__name__
    if src == "LayerSource":  # the IR reader's
        return "openvino"
    if src == "LineSource" or any(isinstance(v, Param) for v in node.attrs.values()):
        return "ncnn"
    if node.version is not None or any(isinstance(v, str) for v in node.attrs.values()):
        return "openvino"
    return "ncnn"


def _where(node: Node) -> str:
    pos = node.pos
    at = f", line {pos.line}" if pos is not None and pos.line else ""
    return f"layer {node.name!r} ({node.op_type}{at})"


def node_error(node: Node, message: str, hint: str = "") -> ModelfileError:
    """A :class:`ModelfileError` that names the node, positioned where it was read when known."""
    pos = node.pos
    return ModelfileError(f"layer {node.name!r} ({node.op_type}): {message}", file=pos.file if pos is not None else "",
                          line=pos.line if pos is not None else 0, hint=hint)


# ---------------------------------------------------------------------------------------------
# params
# ---------------------------------------------------------------------------------------------

class _AttrAccess:
    """``view.name`` for ``view["name"]`` (names that are not Python identifiers need ``[]``)."""

    __slots__ = ()

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self[name]  # type: ignore[index]
        except KeyError as e:
            raise AttributeError(str(e.args[0]) if e.args else name) from None

    def __setattr__(self, name: str, value: Any) -> None:
        if name.startswith("_"):
            object.__setattr__(self, name, value)
            return
        try:
            self[name] = value  # type: ignore[index]
        except KeyError as e:
            raise AttributeError(str(e.args[0]) if e.args else name) from None

    def __delattr__(self, name: str) -> None:
        del self[name]  # type: ignore[attr-defined]


class NcnnParams(_AttrAccess, MutableMapping[Any, Any]):
    """An ncnn layer's params by schema name (``p.num_output``, ``p["kernel_w"]``) or id (``p[0]``).

    Reading a param the line does not give returns ncnn's default (``kernel_h`` reads as
    ``kernel_w`` when absent). Writing checks the kind (ncnn never converts int <-> float) and
    stores a new value the writer spells in the file's style; ``del p.name`` drops the key so
    ncnn's default applies. Iterating yields the keys the line gives, as names where the
    schema has one and ids otherwise.
    """

    __slots__ = ("_node", "_schema")

    def __init__(self, node: Node) -> None:
        from .formats.ncnn.schema import layer_schema

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
        from .formats.ncnn.params import Param

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
    cached = g.meta.get("ncnn.array_style")
    if cached is not None:
        return str(cached)
    style = "old"
    for n in g:
        st = next((p.array_style for p in n.attrs.values() if getattr(p, "array_style", None)), None)
        if st is not None:
            style = str(st)
            break
    g.meta["ncnn.array_style"] = style
    return style


def _sort_new_key(node: Node, pid: int) -> None:
    """Place a key added to a layer created in code where converters put it (ids ascending)."""
    if node.source is not None:
        return  # a layer read from a file: the writer places new keys in the file's own order
    items = sorted(node.attrs.items(), key=lambda kv: (kv[1].array_style == "old", kv[0]))
    node.attrs.clear()
    node.attrs.update(items)


class IrParams(_AttrAccess, MutableMapping[str, Any]):
    """An IR layer's ``<data>`` attributes as typed values (``conv.params.strides == [1, 1]``).

    Kinds come from the op (:mod:`modelfile.formats.openvino.attrs`): ints, floats, bools,
    lists, partial shapes (tuples), element types (strings); unknown ops and attributes are
    strings. Writing stores the serializer's string form.
    """

    __slots__ = ("_node",)

    def __init__(self, node: Node) -> None:
        object.__setattr__(self, "_node", node)

    def kind(self, name: str) -> str:
        from .formats.openvino.attrs import attr_kind

        return attr_kind(self._node.op_type, name)

    def __getitem__(self, name: str) -> Any:
        from .formats.openvino.attrs import decode

        text = self._node.attrs[name]
        if not isinstance(text, str):
            return text
        try:
            return decode(self.kind(name), text)
        except ValueError as e:
            raise node_error(self._node, f"attribute {name}={text!r}: {e}") from None

    def __setitem__(self, name: str, value: Any) -> None:
        from .formats.openvino.attrs import encode

        kind = self.kind(name)
        if isinstance(value, np.ndarray):
            value = value.tolist()
        if kind == "bool" and not isinstance(value, (bool, np.bool_, str)):
            raise node_error(self._node, f"attribute {name} is a bool, got {value!r}")
        self._node.attrs[name] = encode(kind, value)
        if self._node.op_type == "Parameter" and self._node.outputs:
            v = self._node.outputs[0]  # the port says the same as <data>
            if name == "shape":
                v.shape = self["shape"]
            elif name == "element_type":
                v.dtype = self["element_type"]

    def __delitem__(self, name: str) -> None:
        del self._node.attrs[name]

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._node.attrs))

    def __len__(self) -> int:
        return len(self._node.attrs)

    def __repr__(self) -> str:
        return f"IrParams({self._node.op_type} {self._node.name}: {dict(self)!r})"


def params(node: Node) -> NcnnParams | IrParams:
    """The named, typed view of ``node``'s params (ncnn schema / typed IR ``<data>``)."""
    return NcnnParams(node) if format_of(node) == "ncnn" else IrParams(node)


# ---------------------------------------------------------------------------------------------
# weights
# ---------------------------------------------------------------------------------------------

def ncnn_store(node: Node) -> Any:
    """The model's :class:`~modelfile.formats.ncnn.weights.WeightStore` (the ``.bin``, mapped on first use)."""
    model = model_of(node)
    if model is None:
        raise node_error(node, "is not part of a loaded model, so its .bin cannot be reached",
                         hint="load the model with modelfile.load() and keep a reference to it")
    return ncnn_store_of_model(model)


def ncnn_store_of_model(model: "Model") -> Any:
    """The weights of an ncnn model (see ``NcnnHandler.weights``); an empty store for a model without ``.bin``."""
    store = model.handler.weights(model)  # type: ignore[attr-defined]
    if store is None:
        from .formats.ncnn.weights import WeightStore

        # no .bin yet: new layers bring their own weights; layers that read some cannot be written
        store = WeightStore(model.graph, b"")
        model.meta["weights"] = store
    return store


class NcnnWeights(_AttrAccess, MutableMapping[str, np.ndarray]):
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
        from .formats.ncnn.weights import layer_layout

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

        from .formats.ncnn.weights import decode_blob

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
        set_ncnn_weights(self._node, self._store, new, encodings or {})

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


def set_ncnn_weights(node: Node, store: Any, new: Mapping[str, Any], encodings: Mapping[str, str]) -> None:
    """Encode ``node``'s blobs (new ones from ``new``, the rest kept) and hand them to ``store``."""
    from .formats.ncnn.weights import FLAG_FP32_MARKED, layer_layout, tagged_bytes

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


class ConstWeights(_AttrAccess, MutableMapping[str, np.ndarray]):
    """An IR Const's data as ``{"value": array}`` (``weights(const).value``), decoded lazily.

    Assigning keeps the Const's element type unless the array's dtype is given as a different
    IR type through :func:`modelfile.formats.openvino.set_const_value`.
    """

    __slots__ = ("_node",)

    def __init__(self, node: Node) -> None:
        object.__setattr__(self, "_node", node)

    def __getitem__(self, key: str) -> np.ndarray:
        from .formats.openvino import const_array

        if key != "value":
            raise KeyError(key)
        return const_array(self._node)

    def __setitem__(self, key: str, value: Any) -> None:
        from .formats.openvino import set_const_value

        if key != "value":
            raise KeyError(key)
        set_const_value(self._node, value)

    def __delitem__(self, key: str) -> None:
        raise node_error(self._node, "a Const always holds a value")

    def __iter__(self) -> Iterator[str]:
        return iter(("value",))

    def __len__(self) -> int:
        return 1


def weights(node: Node) -> NcnnWeights | ConstWeights:
    """The data of ``node``: an ncnn layer's ``.bin`` blobs, or an IR Const's value."""
    if format_of(node) == "ncnn":
        return NcnnWeights(node, ncnn_store(node))
    if node.op_type not in ("Const", "Constant"):
        feeds = [i for i, v in enumerate(node.inputs)
                 if v is not None and v.producer is not None and v.producer.op_type == "Const"]
        hint = f"e.g. weights(node.inputs[{feeds[0]}].producer)" if feeds else ""
        raise node_error(node, "holds no data: IR weights are Const layers feeding its inputs", hint=hint)
    return ConstWeights(node)
