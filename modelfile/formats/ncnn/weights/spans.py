"""Locating each layer's blobs in a ``.bin``: offsets, sizes and storage of every blob.

The ``.bin`` has no header or index: walking the layers in order with their
layouts (:mod:`.layouts`) and the flag words of tagged blobs gives every
offset. A layer of unknown layout hides everything after it (see :class:`Span`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ....errors import ModelfileError
from ....graph import Graph, Node
from .codecs import tagged_nbytes
from .layouts import BlobSpec, _error, layer_layout

__all__ = ["KNOWN_FLAGS", "BinAudit", "Blob", "Span", "audit_bin", "layer_spans", "trailing_bytes"]




@dataclass(frozen=True, slots=True)
class Blob:
    """A blob located in a ``.bin``: where it is and how it is stored.

    ``encoding``: ``raw`` (untagged fp32), ``f32`` (flag 0), ``f32m`` (flag
    0x0002C056), ``f16``, ``i8``, ``table`` (256 fp32 + uint8 indexes) or
    ``bytes`` (opaque packed data).
    """

    role: str
    offset: int
    nbytes: int
    count: int
    encoding: str
    shape: tuple[int, ...] = ()

    @property
    def end(self) -> int:
        """Offset just past the blob."""
        return self.offset + self.nbytes


@dataclass(frozen=True, slots=True)
class Span:
    """The bytes of one layer in a ``.bin``.

    ``index`` is the layer's position in the node list the spans were computed
    for (the source order; later edits do not update it). ``status``: ``known`` (located from the params), ``opaque`` (a layer of
    unknown layout that is the last one with weights: it owns the rest of the
    file) or ``unresolved`` (after a layer of unknown layout: ``offset`` and
    ``nbytes`` are ``None``; ``group_offset``/``group_nbytes`` is the chunk that
    all such layers own together).
    """

    index: int
    name: str
    op_type: str
    offset: int | None
    nbytes: int | None
    blobs: tuple[Blob, ...] = ()
    status: str = "known"
    group_offset: int | None = None
    group_nbytes: int | None = None

    @property
    def end(self) -> int | None:
        """Offset just past the span (``None`` when unresolved)."""
        return None if self.offset is None or self.nbytes is None else self.offset + self.nbytes


def _as_u8(data: Any) -> np.ndarray:
    if isinstance(data, np.ndarray):
        return data.reshape(-1).view(np.uint8)
    return np.frombuffer(data, dtype=np.uint8)


def _measure(node: Node, specs: Sequence[BlobSpec], buf: np.ndarray, offset: int,
             index: int | None = None, limit: int | None = None) -> tuple[Blob, ...]:
    """Locate ``specs`` at ``offset`` in ``buf``; raises when the data runs out."""
    size = len(buf) if limit is None else limit
    blobs: list[Blob] = []
    pos = offset
    for s in specs:
        fixed = s.fixed_nbytes
        if fixed is not None:
            nbytes, enc = fixed, ("raw" if s.kind == "raw" else "bytes")
        else:
            if pos + 4 > size:
                raise _short(node, offset, pos, s, 4, size, index)
            flag = int(buf[pos:pos + 4].view("<u4")[0])
            nbytes, enc = tagged_nbytes(flag, s.count)
        if pos + nbytes > size:
            raise _short(node, offset, pos, s, nbytes, size, index)
        blobs.append(Blob(s.role, pos, nbytes, s.count, enc, s.shape))
        pos += nbytes
    return tuple(blobs)


def _short(node: Node, layer_off: int, pos: int, spec: BlobSpec, nbytes: int, size: int,
           index: int | None) -> ModelfileError:
    what = f"the flag word of its {spec.role} blob" if spec.kind == "tagged" and nbytes == 4 and pos + 4 > size \
        else f"its {spec.role} blob"
    where = f" (the layer starts at offset {layer_off})" if pos != layer_off else ""
    return _error(
        node,
        f"needs {nbytes} bytes at offset {pos} for {what} but the .bin has only {max(0, size - pos)} "
        f"bytes left (file size {size}){where}",
        index,
        hint="the .bin does not belong to this .param, or a layer before this one has wrong size params",
    )


def _plan(graph: Graph | Sequence[Node]) -> tuple[list[Node], list[list[BlobSpec] | None]]:
    nodes = list(graph.nodes if isinstance(graph, Graph) else graph)
    return nodes, [layer_layout(n) for n in nodes]


def layer_spans(graph: Graph | Sequence[Node], data: Any) -> list[Span | None]:
    """Where each layer's weights are in ``data`` (bytes, memoryview or a uint8 memmap).

    One entry per node, ``None`` for layers that read nothing. Raises
    :class:`ModelfileError` naming the layer when the data runs out. Bytes left
    after the last layer are allowed (ncnn ignores them); see
    :func:`trailing_bytes`.
    """
    nodes, layouts = _plan(graph)
    return _locate(nodes, layouts, _as_u8(data))


def _locate(nodes: list[Node], layouts: list[list[BlobSpec] | None], buf: np.ndarray) -> list[Span | None]:
    size = len(buf)
    spans: list[Span | None] = [None] * len(nodes)
    pos = 0
    first_unknown = next((i for i, lay in enumerate(layouts) if lay is None), len(nodes))
    for i in range(first_unknown):
        specs = layouts[i]
        if not specs:
            continue
        node = nodes[i]
        blobs = _measure(node, specs, buf, pos, i)
        end = blobs[-1].end
        spans[i] = Span(i, node.name, node.op_type, pos, end - pos, blobs)
        pos = end
    if first_unknown == len(nodes):
        return spans
    # From the first layer of unknown layout on, offsets cannot be computed: all
    # layers from there that may own bytes share the rest of the file.
    members = [i for i in range(first_unknown, len(nodes)) if layouts[i] is None or layouts[i]]
    rest = size - pos
    if len(members) == 1:
        n = nodes[members[0]]
        spans[members[0]] = Span(members[0], n.name, n.op_type, pos, rest, (), "opaque", pos, rest)
        return spans
    for i in members:
        n = nodes[i]
        spans[i] = Span(i, n.name, n.op_type, None, None, (), "unresolved", pos, rest)
    return spans


def trailing_bytes(spans: Sequence[Span | None], size: int) -> int | None:
    """Bytes after the last span (``None`` when an unknown layer makes that unknowable)."""
    end = 0
    for s in spans:
        if s is None:
            continue
        if s.status != "known":
            return 0 if s.status == "opaque" else None
        end = max(end, s.offset + s.nbytes)  # type: ignore[operator]
    return size - end


#: flag words some writer produces: fp32, caffe2ncnn's lookup-table tag (1), fp16, int8, marked fp32
KNOWN_FLAGS = frozenset({0, 1, 0x01306B47, 0x000D4B38, 0x0002C056})


@dataclass(frozen=True, slots=True)
class BinAudit:
    """How a ``.bin`` fits a list of layers (see :func:`audit_bin`).

    ``short``: the first layer whose weights run past the end, with the bytes
    it needs from its start and the bytes left there. ``bad_flag``: the first
    tagged blob whose flag word no writer produces ``(node, role, offset,
    word)``. ``surplus``: bytes after the last layer (``None`` when a layer of
    unknown layout, a short file or a bad flag makes it unknowable). ``end``:
    where the located weights end.
    """

    size: int
    end: int
    surplus: int | None
    short: tuple[Node, int, int, int] | None = None  # node, layer offset, bytes needed, bytes left
    bad_flag: tuple[Node, str, int, int] | None = None
    unknown_layout: Node | None = None


def audit_bin(graph: Graph | Sequence[Node], data: Any) -> BinAudit:
    """Walk ``data`` as ncnn's loader would, without raising: what is short, unknown or left over."""
    nodes = list(graph.nodes if isinstance(graph, Graph) else graph)
    buf = _as_u8(data)
    size = len(buf)
    pos = 0
    for node in nodes:
        try:
            specs = layer_layout(node)
        except ModelfileError:
            return BinAudit(size, pos, None, unknown_layout=node)
        if specs is None:
            return BinAudit(size, pos, None, unknown_layout=node)
        start = pos
        for s in specs:
            fixed = s.fixed_nbytes
            if fixed is None:
                if pos + 4 > size:
                    return BinAudit(size, start, None, short=(node, start, _need(specs, buf, start), size - start))
                flag = int(buf[pos:pos + 4].view("<u4")[0])
                if flag not in KNOWN_FLAGS:
                    return BinAudit(size, start, None, bad_flag=(node, s.role, pos, flag))
                nbytes, _enc = tagged_nbytes(flag, s.count)
            else:
                nbytes = fixed
            if pos + nbytes > size:
                return BinAudit(size, start, None, short=(node, start, _need(specs, buf, start), size - start))
            pos += nbytes
    return BinAudit(size, pos, size - pos)


def _need(specs: Sequence[BlobSpec], buf: np.ndarray, start: int) -> int:
    """Bytes the layer at ``start`` needs; flag words past the end count as fp32."""
    pos = start
    for s in specs:
        fixed = s.fixed_nbytes
        if fixed is None:
            flag = int(buf[pos:pos + 4].view("<u4")[0]) if pos + 4 <= len(buf) else 0
            fixed = tagged_nbytes(flag, s.count)[0]
        pos += fixed
    return pos - start
