"""The :class:`WeightStore`: a model's ``.bin`` per layer, re-laid in the graph's current order."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from ....errors import ModelfileError
from ....graph import Graph, Node
from .codecs import decode_blob
from .layouts import _error, layer_layout
from .spans import Blob, Span, _as_u8, _locate, _measure, _plan, trailing_bytes

__all__ = ["WeightStore"]

_CHUNK = 16 << 20  # bytes copied per write call when streaming a memory map
_ERR = "NCNN-WEIGHTS"


def _wsig(node: Node) -> tuple[Any, ...]:
    return (node.op_type, tuple(node.attrs.items()))


@dataclass(slots=True)
class _Entry:
    node: Node  # keeps id(node) from being reused while the entry exists
    sig: tuple[Any, ...]  # type and params when the bytes were located
    offset: int = 0
    nbytes: int = 0
    data: bytes | None = None  # replacement bytes; None = the source bytes at offset
    grouped: bool = False  # after a layer of unknown layout: part of the opaque tail chunk
    span: Span | None = None


@dataclass(slots=True)
class _Tail:
    """The bytes from the first layer of unknown layout on, owned jointly by ``members``."""

    offset: int
    nbytes: int
    members: list[int] = field(default_factory=list)  # id(node), file order


class WeightStore:
    """The weights of an ncnn model, per layer, for transforms that change the ``.bin``.

    Bytes of the source file stay in a read-only memory map until written;
    :meth:`set_layer_data` replaces a layer's bytes. :meth:`write_to` emits the
    layers of a graph in its current order, so removed layers vanish and new
    or moved ones land where they now are. Create the store before editing
    the graph: it records the source layer order.
    """

    def __init__(self, graph: Graph, data: Any = b"", *, path: Path | None = None,
                 source: Sequence[tuple[Node, Node]] | None = None) -> None:
        self.graph = graph
        self.path = path
        self._buf = _as_u8(data)
        #: size of the source .bin in bytes
        self.size = len(self._buf)
        # ``source``: (node, as read) pairs in file order, for a graph edited before the store was made
        pairs = list(source) if source is not None else [(n, n) for n in graph.nodes]
        nodes = [p[0] for p in pairs]
        views, layouts = _plan([p[1] for p in pairs])
        #: per node of the source graph (``None``: reads nothing), see :func:`layer_spans`
        self.spans = _locate(views, layouts, self._buf)
        #: bytes after the last layer (``None`` when a layer of unknown layout hides it)
        self.trailing = trailing_bytes(self.spans, self.size)
        self._entries: dict[int, _Entry] = {}
        self._tail: _Tail | None = None
        for node, view, span in zip(nodes, views, self.spans):
            e = _Entry(node, _wsig(view), span=span)
            if span is not None and span.status == "unresolved":
                if self._tail is None:
                    self._tail = _Tail(span.group_offset or 0, span.group_nbytes or 0)
                self._tail.members.append(id(node))
                e.grouped = True
            elif span is not None:
                e.offset, e.nbytes = span.offset or 0, span.nbytes or 0
            self._entries[id(node)] = e
        self._orig_order = self._weighted_order(nodes)
        self._modified = False

    @classmethod
    def from_model(cls, model: Any, *, attach: bool = True) -> "WeightStore":
        """Map the model's ``.bin`` (``model.state.bin_path``) and locate every layer; with ``attach`` keep the
        store as ``model.state.weights``.

        Returns the attached store when there already is one for this graph.
        """
        existing = getattr(model.state, "weights", None)
        if attach and isinstance(existing, WeightStore) and existing.graph is model.graph:
            return existing
        path = getattr(model.state, "bin_path", None)
        if path is None:
            raise ModelfileError("the model has no .bin path", code=_ERR, file=str(model.path or ""))
        path = Path(path)
        if not path.is_file():
            raise ModelfileError("weights file not found", code=_ERR, file=str(path),
                                 hint="ncnn needs the .bin next to the .param (x.param -> x.bin)")
        # never read a multi-GB .bin into memory; np.memmap refuses empty files
        data: Any = np.memmap(path, dtype=np.uint8, mode="r") if path.stat().st_size else b""
        store = cls(model.graph, data, path=path)
        if attach:
            model.state.weights = store
        return store

    # -- queries ---------------------------------------------------------
    def _entry(self, node: Node) -> _Entry | None:
        e = self._entries.get(id(node))
        return e if e is not None and e.node is node else None

    def spans_of(self, node: Node) -> Span | None:
        """The span ``node`` had in the source ``.bin`` (``None``: it read nothing or is new)."""
        e = self._entry(node)
        return e.span if e is not None else None

    def blob_info(self, node: Node) -> list[Blob]:
        """Where ``node``'s blobs are (offsets into :meth:`layer_bytes` once its data was replaced)."""
        buf, base, e = self._layer_buf(node)
        if e is not None and e.data is None and e.span is not None and e.span.blobs and _wsig(node) == e.sig:
            return list(e.span.blobs)
        specs = layer_layout(node)
        if specs is None:
            raise _error(node, "has a type whose weight layout is unknown",
                         hint="register it with modelfile.formats.ncnn.weights.register_layout()")
        have = len(e.data) if e is not None and e.data is not None else (e.nbytes if e is not None else 0)
        return list(_measure(node, specs, buf, base, limit=base + have))

    def blobs_of(self, node: Node) -> list[np.ndarray]:
        """``node``'s blobs in load order, decoded (see :func:`decode_blob`); fp32 data are read-only views."""
        buf, _base, _e = self._layer_buf(node)
        return [decode_blob(b, buf) for b in self.blob_info(node)]

    def layer_bytes(self, node: Node) -> memoryview:
        """The raw ``.bin`` bytes ``node`` owns (a view into the memory map when unchanged)."""
        buf, base, e = self._layer_buf(node)
        if e is None:
            return memoryview(b"")
        n = len(e.data) if e.data is not None else e.nbytes
        return memoryview(buf[base:base + n])

    def _layer_buf(self, node: Node) -> tuple[np.ndarray, int, _Entry | None]:
        e = self._entry(node)
        if e is None:
            return _as_u8(b""), 0, None
        if e.data is not None:
            return _as_u8(e.data), 0, e
        if e.grouped:
            raise self._tail_error(node)
        return self._buf, e.offset, e

    def _tail_error(self, node: Node, why: str = "has weights that cannot be located") -> ModelfileError:
        assert self._tail is not None
        members = [self._entries[m].node for m in self._tail.members]
        unknown = next((n for n in members if layer_layout(n) is None), members[0])
        rule = "can only be kept together, in their original order"
        if node is unknown:
            msg = f"{why}: its weight layout is unknown to modelfile, so it and the layers with weights after it {rule}"
        else:
            msg = (f"{why}: layer {unknown.name} ({unknown.op_type}), ahead of it in the source, has a weight "
                   f"layout unknown to modelfile, so the layers with weights from there on {rule}")
        return _error(node, msg, hint="register the custom layer's layout with "
                                      "modelfile.formats.ncnn.weights.register_layout()")

    # -- edits -----------------------------------------------------------
    def set_layer_data(self, node: Node, data: bytes | bytearray | memoryview | np.ndarray) -> None:
        """Give ``node`` these ``.bin`` bytes, replacing any it had (``b""``: none).

        They are checked against the node's params when written.
        """
        raw = data.tobytes() if isinstance(data, np.ndarray) else bytes(data)
        if len(raw) % 4:
            raise _error(node, f"data of {len(raw)} bytes is not a multiple of 4; ncnn blobs are 4-byte aligned")
        e = self._entry(node)
        if e is not None and e.grouped:
            raise self._tail_error(node, "cannot get new weights")
        if e is None:
            e = _Entry(node, ())
            self._entries[id(node)] = e
        e.data = raw
        self._modified = True

    def _weighted_order(self, graph: Graph | Sequence[Node]) -> list[int]:
        out = []
        for n in (graph.nodes if isinstance(graph, Graph) else graph):
            e = self._entry(n)
            if e is not None and (e.nbytes or e.grouped or e.data is not None):
                out.append(id(n))
        return out

    @property
    def dirty(self) -> bool:
        """Whether :attr:`graph` needs a new ``.bin``: weights set, layers with weights moved, added or removed."""
        if self._modified or self._weighted_order(self.graph) != self._orig_order:
            return True
        for n in self.graph.nodes:
            e = self._entry(n)
            if e is None:
                if layer_layout(n) != []:
                    return True  # a new layer that needs weights nobody gave it: write_to explains
            elif _wsig(n) != e.sig:
                return True
        return False

    def _check_bytes(self, node: Node, e: _Entry) -> None:
        """Raise unless ``node``'s current params read exactly the bytes it holds."""
        specs = layer_layout(node)
        if specs is None:
            return  # a custom layer: trust what it was given
        buf, base, _ = self._layer_buf(node)
        have = len(e.data) if e.data is not None else e.nbytes
        fix = "give it matching bytes with WeightStore.set_layer_data()"
        if not specs:
            if have:
                raise _error(node, f"holds {have} bytes of weights but its params read none",
                             hint="set_layer_data(node, b'') drops them")
            return
        try:
            blobs = _measure(node, specs, buf, base, limit=base + have)
        except ModelfileError as err:
            msg = err.diagnostic.message.split(") ", 1)[-1]
            raise _error(node, f"holds {have} bytes of weights, too few for its params ({msg})", hint=fix) from None
        used = blobs[-1].end - base
        if used != have:
            raise _error(node, f"holds {have} bytes of weights but its params read {used}", hint=fix)

    def plan(self, graph: Graph | None = None) -> list[tuple[int, int] | bytes]:
        """What :meth:`write_to` writes: ``(offset, nbytes)`` copies from the source and new ``bytes``.

        Raises :class:`ModelfileError` naming the layer when its bytes do not
        match its params, a new layer lacks weights, or layers after one of
        unknown layout were reordered.
        """
        graph = graph if graph is not None else self.graph
        pieces: list[tuple[int, int] | bytes] = []

        def copy(off: int, n: int) -> None:
            last = pieces[-1] if pieces else None
            if isinstance(last, tuple) and last[0] + last[1] == off:
                pieces[-1] = (last[0], last[1] + n)  # neighbours become one copy
            elif n:
                pieces.append((off, n))

        nodes = graph.nodes
        i = 0
        while i < len(nodes):
            node = nodes[i]
            e = self._entry(node)
            if e is None:
                specs = layer_layout(node)
                if specs is None:
                    raise _error(node, "is a new layer of a type whose weight layout is unknown",
                                 hint="set_layer_data(node, b'') if it reads no weights")
                if specs:
                    raise _error(node, "is a new layer that reads weights but has none",
                                 hint="give them with WeightStore.set_layer_data(node, data)")
            elif e.grouped and e.data is None:
                i = self._plan_tail(nodes, i, copy)
                continue
            else:
                if e.data is not None or _wsig(node) != e.sig:
                    self._check_bytes(node, e)
                if e.data is not None:
                    if e.data:
                        pieces.append(e.data)
                else:
                    copy(e.offset, e.nbytes)
            i += 1
        if self.trailing:
            copy(self.size - self.trailing, self.trailing)
        return pieces

    def _plan_tail(self, nodes: list[Node], i: int, copy: Callable[[int, int], None]) -> int:
        tail = self._tail
        assert tail is not None
        seen: list[int] = []
        j = i
        while j < len(nodes) and len(seen) < len(tail.members):
            n = nodes[j]
            ej = self._entry(n)
            if ej is not None and ej.grouped:
                seen.append(id(n))
            elif (layer_layout(n) != []) if ej is None else bool(ej.data or ej.nbytes):
                raise self._tail_error(n, "cannot be placed among layers whose weights cannot be located")
            j += 1
        if seen != tail.members:
            present = set(seen)
            gone = [m for m in tail.members if m not in present]
            if gone:
                raise self._tail_error(self._entries[gone[0]].node, "was removed")
            k = next(k for k, (a, b) in enumerate(zip(seen, tail.members)) if a != b)
            raise self._tail_error(self._entries[seen[k]].node, "was moved")
        copy(tail.offset, tail.nbytes)
        return j

    def write_to(self, f: BinaryIO, graph: Graph | None = None, *, chunk_size: int = _CHUNK) -> int:
        """Write the ``.bin`` of ``graph``'s (default :attr:`graph`) current layers in order; returns its size.

        Everything is checked before the first byte is written; source bytes
        are streamed from the memory map in ``chunk_size`` pieces.
        """
        pieces = self.plan(graph)
        total = 0
        for piece in pieces:
            if isinstance(piece, bytes):
                f.write(piece)
                total += len(piece)
                continue
            off, n = piece
            end = off + n
            while off < end:
                step = min(chunk_size, end - off)
                f.write(memoryview(self._buf[off:off + step]))
                off += step
            total += n
        return total

    def __repr__(self) -> str:
        return f"WeightStore({str(self.path) if self.path else '<memory>'}, {self.size} bytes)"
