"""Binary ``.param.bin`` (ncnn2mem output): int32 stream, no names.

Layers get names ``layer<i>``, blobs ``blob<j>`` (their indexes). Params keep
their raw 32-bit words, so an unmodified file writes back byte-identically.
"""

from __future__ import annotations

import struct
from pathlib import Path

from ...errors import ModelfileError
from ...graph import Graph, Node, SourcePos, Value
from .layers import CUSTOM_BIT, TYPE_INDEX, type_name
from .params import MAX_PARAM_ID, Param
from .keys import BIN_SIG, BIN_TYPE_INDEX

__all__ = ["read_bytes", "read_path", "to_bytes"]

MAGIC = 7767517
_END = -233
#: ncnn's Net::load_param_bin refuses larger layer or blob counts ("invalid layer_count or blob_count")
MAX_COUNT = 1_000_000


def _fail(path: str, offset: int, msg: str) -> ModelfileError:
    return ModelfileError(f"{msg} (byte offset {offset})", code="NCNN-BIN-PARAM", file=path, line=1,
                          column=offset + 1)


def _word_param(pid: int, word: int) -> Param:
    # .param.bin stores raw 32-bit words: int or float is only known from the layer's schema,
    # so the word is kept as an int (written back bit-for-bit)
    return Param(pid, None, None, word, "int")


def read_path(path: Path) -> Graph:
    """Parse a ``.param.bin``."""
    return read_bytes(path.read_bytes(), str(path), path.name)


def read_bytes(data: bytes, name: str, graph_name: str = "") -> Graph:
    """Parse ``.param.bin`` bytes; ``name`` is the file name errors and positions use."""
    if len(data) % 4:
        raise _fail(name, len(data) - len(data) % 4, "file size is not a multiple of 4")
    import numpy as np  # (imported here: lint and info import this module for every text .param too)

    words = np.frombuffer(data, dtype="<i4")
    pos = 0

    def take() -> int:
        nonlocal pos
        if pos >= len(words):
            raise _fail(name, pos * 4, "unexpected end of file")
        w = int(words[pos])
        pos += 1
        return w

    if take() != MAGIC:
        raise _fail(name, 0, "bad magic, not an ncnn .param.bin")
    layer_count, blob_count = take(), take()
    if layer_count <= 0 or blob_count <= 0:
        raise _fail(name, 4, "layer and blob counts must be > 0")
    if layer_count > MAX_COUNT or blob_count > MAX_COUNT:
        raise _fail(name, 4 if layer_count > MAX_COUNT else 8,
                    f"{'layer' if layer_count > MAX_COUNT else 'blob'} count "
                    f"{max(layer_count, blob_count) if layer_count > MAX_COUNT else blob_count} is more than "
                    f"ncnn accepts ({MAX_COUNT}): 'invalid layer_count or blob_count'")
    graph = Graph(graph_name or name)
    # by blob index; a dict, not a list of blob_count slots: the count is the file's claim
    blobs: dict[int, Value] = {}
    for li in range(layer_count):
        start = pos
        tindex, nb, nt = take(), take(), take()
        node = Node(type_name(tindex), f"layer{li}", pos=SourcePos(name, 1, start * 4 + 1))
        node.meta[BIN_TYPE_INDEX] = tindex
        for _ in range(nb):
            bi = take()
            if not 0 <= bi < blob_count:
                raise _fail(name, (pos - 1) * 4, f"blob index {bi} out of range")
            v = blobs.get(bi)
            if v is None:
                v = blobs[bi] = Value(f"blob{bi}")
            node.append_input(v)
        for _ in range(nt):
            bi = take()
            if not 0 <= bi < blob_count:
                raise _fail(name, (pos - 1) * 4, f"blob index {bi} out of range")
            v = blobs.get(bi)
            if v is None or v.producer is not None:
                # a second layer writing the same index: ncnn loads it (the later writer becomes the
                # blob's producer); model it as a new value of the same name, which later layers
                # read and lint reports as a duplicate top (NCNN008)
                v = blobs[bi] = Value(f"blob{bi}")
            node.append_output(v)
        while True:
            key = take()
            if key == _END:
                break
            pid = -key - 23400 if key <= -23400 else -key - 23300 if key <= -23300 else key
            if not 0 <= pid < MAX_PARAM_ID:  # ncnn's ParamDict::load_param_bin refuses it, so do we
                raise _fail(name, (pos - 1) * 4, f"layer {len(graph.nodes)}: param key {key} is not an id "
                            f"0..{MAX_PARAM_ID - 1} (arrays -23300.., strings -23400..): ncnn fails "
                            "'id < NCNN_MAX_PARAM_COUNT'")
            if key <= -23400:
                n = take()
                raw = data[pos * 4: pos * 4 + ((n + 3) // 4) * 4]
                pos += (n + 3) // 4
                p = Param(-key - 23400, None, None, raw[:n].decode("latin-1"), "string")
            elif key <= -23300:
                n = take()
                vals = [int(w) for w in words[pos: pos + n]]
                pos += n
                p = Param(-key - 23300, None, "old", vals, "int_array")
            else:
                p = _word_param(key, take())
            node.attrs[p.id] = p
        node.source = data[start * 4: pos * 4]
        node.meta[BIN_SIG] = _sig(node)
        if node.op_type == "Input":
            graph.inputs.extend(node.outputs)
        node.graph = graph
        graph.nodes.append(node)
    graph.source = {"header": data[:12], "trailing": data[pos * 4:], "blob_count": blob_count}
    return graph


def _sig(node: Node) -> tuple:
    return (node.op_type, tuple(id(v) for v in node.inputs), tuple(id(v) for v in node.outputs),
            tuple((p.id, p.kind, repr(p.value)) for p in node.attrs.values()))


def to_bytes(graph: Graph) -> bytes:
    """Serialize; unchanged layers are copied as read."""
    values = graph.values()
    src = graph.source if isinstance(graph.source, dict) else {}
    index = {id(v): i for i, v in enumerate(values)}
    slots = len(values)
    # keep original blob numbering when the blob set is unchanged (two values may share an index:
    # a file where two layers write the same blob)
    if src and all(v.name.startswith("blob") and v.name[4:].isdigit() for v in values):
        numbers = sorted({int(v.name[4:]) for v in values})
        if numbers == list(range(len(numbers))):
            index = {id(v): int(v.name[4:]) for v in values}
            slots = len(numbers)
    declared = src.get("blob_count", 0)
    out = bytearray(struct.pack("<iii", MAGIC, len(graph.nodes), max(slots, declared)))
    if src and src["header"] == bytes(out[:12]):
        out[:12] = src["header"]
    for node in graph.nodes:
        if isinstance(node.source, bytes) and node.meta.get(BIN_SIG) == _sig(node):
            out += node.source
            continue
        tindex = node.meta.get(BIN_TYPE_INDEX, TYPE_INDEX.get(node.op_type, CUSTOM_BIT))
        out += struct.pack("<iii", tindex, len(node.inputs), len(node.outputs))
        for v in (*node.inputs, *node.outputs):
            out += struct.pack("<i", index[id(v)])
        for p in node.attrs.values():
            kind, val = p.kind, p.value
            if kind == "string":
                b = val.encode("utf-8")
                out += struct.pack("<ii", -23400 - p.id, len(b)) + b + b"\0" * (-len(b) % 4)
            elif kind.endswith("array"):
                fmt = "<f" if kind == "float_array" else "<i"
                out += struct.pack("<ii", -23300 - p.id, len(val))
                out += b"".join(struct.pack(fmt, x) for x in val)
            else:
                out += struct.pack("<if" if kind == "float" else "<ii", p.id, val)
        out += struct.pack("<i", _END)
    out += src.get("trailing", b"")
    return bytes(out)
