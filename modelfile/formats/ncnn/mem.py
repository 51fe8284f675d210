"""Text ``.param`` <-> binary ``.param.bin`` + ``.id.h``, as ncnn's ``ncnn2mem`` writes them.

``ncnn2mem`` (``tools/ncnn2mem.cpp``) turns each layer line into int32 words:
type index (custom types: ``0x100 | k`` in order of first use), bottom and
top counts, blob indexes (every top takes the next index, bottoms refer to
the first top of that name), then the params as written — ``id, word`` for a
scalar (float text parsed by ncnn's own routine and stored as its bits),
``-23300-id, n, words`` for arrays, ``-23400-id, n, bytes`` for strings — and
``-233``. The ``.id.h`` header names every layer and blob index
(``LAYER_x``/``BLOB_x``, names with non-alphanumerics replaced by ``_``) and
the custom type indexes (``TYPEINDEX_x``).

The way back needs the names from that header; without it layers and blobs
are ``layer<i>``/``blob<j>``. Binary params are bare words: a param is written
as a float when ncnn's ``load_param`` reads it as one (``schema.py``),
and for ids that table does not know when its bits only make sense as a float.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ...errors import ModelfileError
from ...graph import Graph
from .layers import CUSTOM_BIT, TYPE_INDEX
from .params import Param, is_float_text
from .keys import BIN_SIG, BIN_TYPE_INDEX

__all__ = ["IdNames", "from_binary", "id_header", "ncnn_float", "parse_id_header", "to_binary", "varname"]

MAGIC = 7767517
_END = -233
_ERR = "NCNN-MEM"


def varname(name: str) -> str:
    """ncnn2mem's ``sanitize_name``: every non-alphanumeric character becomes ``_``."""
    return re.sub(r"[^0-9A-Za-z]", "_", name)


def ncnn_float(text: str) -> float:
    """A float as ncnn's ``vstr_to_float`` computes it (double arithmetic, then float32)."""
    s = text
    neg = s.startswith("-")
    if s[:1] in "+-":
        s = s[1:]
    m = re.fullmatch(r"(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?", s)
    if m is None or not (m.group(1) or m.group(2)):
        raise ValueError(f"not a number: {text!r}")
    v = 0.0
    for c in m.group(1):
        v = v * 10.0 + (ord(c) - 48)
    if m.group(2):
        frac, scale = 0.0, 1.0
        for c in m.group(2):
            frac = frac * 10.0 + (ord(c) - 48)
            scale *= 10.0
        v += frac / scale
    if m.group(3) and v != 0.0:
        e = int(m.group(3))
        scale = 10.0 ** min(abs(e), 1024) if abs(e) < 309 else float("inf")
        v = v / scale if e < 0 else v * scale
    with np.errstate(over="ignore"):
        f = float(np.float32(-v if neg else v))
    return f


def _fbits(x: float) -> int:
    return struct.unpack("<i", struct.pack("<f", x))[0]


def _scalar_word(chunk: str, as_float: bool) -> int:
    if as_float:
        return _fbits(ncnn_float(chunk))
    v = int(re.match(r"[+-]?\d+", chunk).group())  # type: ignore[union-attr]
    if not -(1 << 31) <= v < (1 << 31):
        raise ValueError(f"integer {chunk!r} does not fit 32 bits")
    return v


def _param_words(p: Param) -> list[int]:
    """The words ncnn2mem writes for one ``key=value``, from the text as written."""
    text = p.render_value("e") if p.text is None else p.text
    if p.array_style == "old":
        parts = text.split(",")
        n = int(parts[0])
        return [-23300 - p.id, n, *(_scalar_word(e, is_float_text(e)) for e in parts[1:1 + n])]
    if text[:1] == '"' or text[:1].isalpha():
        s = text[1:].split('"', 1)[0] if text[:1] == '"' else text
        raw = s.encode("utf-8")[:255]
        raw += b"\0" * (-len(raw) % 4)
        return [-23400 - p.id, len(s.encode("utf-8")[:255]), *struct.unpack(f"<{len(raw) // 4}i", raw)]
    elems = [e for e in text.split(",")]
    if len(elems) > 1:
        if elems[-1] == "":
            elems.pop()
        fl = is_float_text(elems[0])
        return [-23300 - p.id, len(elems), *(_scalar_word(e, fl) for e in elems)]
    return [p.id, _scalar_word(text, is_float_text(text))]


@dataclass
class IdNames:
    """Names from an ``.id.h``: layer and blob names by index, custom type names by type index."""

    layers: dict[int, str] = field(default_factory=dict)
    blobs: dict[int, str] = field(default_factory=dict)
    types: dict[int, str] = field(default_factory=dict)


def _indexes(graph: Graph) -> tuple[dict[int, int], int]:
    """Blob index per value id, as ncnn2mem numbers them (tops in order of appearance)."""
    index: dict[int, int] = {}
    n = 0
    for node in graph.nodes:
        for v in node.outputs:
            index.setdefault(id(v), n)
            n += 1
    return index, n


def to_binary(graph: Graph, declared_blobs: int | None = None) -> tuple[bytes, list[str]]:
    """``.param.bin`` bytes and the custom layer types in type-index order."""
    index, tops = _indexes(graph)
    blob_count = max(tops, declared_blobs or 0)
    words: list[int] = [MAGIC, len(graph.nodes), blob_count]
    custom: list[str] = []
    for node in graph.nodes:
        t = TYPE_INDEX.get(node.op_type)
        if t is None:
            if node.op_type not in custom:
                custom.append(node.op_type)
            t = CUSTOM_BIT | custom.index(node.op_type)
        words += [t, len(node.inputs), len(node.outputs)]
        # a bottom nobody produced: ncnn2mem's lookup fails and writes -1
        words += [index.get(id(v), -1) if v is not None else -1 for v in node.inputs]
        words += [index[id(v)] for v in node.outputs]
        for p in node.attrs.values():
            try:
                words += _param_words(p)
            except (ValueError, AttributeError, struct.error) as e:
                pos = node.pos
                raise ModelfileError(f"layer {node.name}: param {p.key_text}={p.text} cannot be written as a "
                                     f"binary word ({e})", code=_ERR, file=pos.file if pos else "",
                                     line=pos.line if pos else 0) from None
        words.append(_END)
    return struct.pack(f"<{len(words)}i", *words), custom


def id_header(graph: Graph, param_name: str, header_name: str, custom: list[str]) -> str:
    """The ``.id.h`` ncnn2mem writes next to the ``.param.bin``."""
    guard = varname(header_name)
    ns = varname(param_name)
    out = [f"#ifndef NCNN_INCLUDE_GUARD_{guard}", f"#define NCNN_INCLUDE_GUARD_{guard}", f"namespace {ns}_id {{"]
    b = 0
    for i, node in enumerate(graph.nodes):
        out.append(f"const int LAYER_{varname(node.name)} = {i};")
        for v in node.outputs:
            out.append(f"const int BLOB_{varname(v.name)} = {b};")
            b += 1
    for k, t in enumerate(custom):
        out.append(f"const int TYPEINDEX_{t} = {CUSTOM_BIT | k};")
    out += [f"}} // namespace {ns}_id", f"#endif // NCNN_INCLUDE_GUARD_{guard}"]
    return "\n".join(out) + "\n"


_ID_LINE = re.compile(r"const\s+int\s+(LAYER|BLOB|TYPEINDEX)_(\w+)\s*=\s*(\d+)\s*;")


def parse_id_header(path: Path) -> IdNames:
    """Layer, blob and custom-type names from an ``.id.h``."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as e:
        raise ModelfileError(f"cannot read: {e.strerror or e}", file=str(path)) from None
    names = IdNames()
    for m in _ID_LINE.finditer(text):
        kind, name, idx = m.group(1), m.group(2), int(m.group(3))
        {"LAYER": names.layers, "BLOB": names.blobs, "TYPEINDEX": names.types}[kind][idx] = name
    if not names.layers and not names.blobs:
        raise ModelfileError("no 'const int LAYER_x = i;' or 'BLOB_x = j;' lines: not an ncnn2mem .id.h",
                             code=_ERR, file=str(path))
    return names


def _word_as_float(word: int) -> bool:
    """Whether a word of unknown type only makes sense as float bits (a plain int would be huge)."""
    if -(1 << 23) < word < (1 << 23):
        return False
    f = struct.unpack("<f", struct.pack("<i", word))[0]
    return f == f and 1e-30 < abs(f) < 1e30


def _float_text(bits: int) -> str:
    """The shortest spelling ncnn parses back to exactly these float bits (at most 15 characters)."""
    x = np.frombuffer(struct.pack("<i", bits), "<f4")[0]
    t = np.format_float_scientific(x, unique=True, trim="0", exp_digits=1)
    if len(t) <= 15 and _fbits(ncnn_float(t)) == bits:
        return t
    for digits in range(6, 10):
        t = np.format_float_scientific(x, precision=digits, unique=False, exp_digits=1)
        if _fbits(ncnn_float(t)) == bits:
            return t
    return np.format_float_scientific(x, precision=8, unique=False, exp_digits=1)


def from_binary(graph: Graph, names: IdNames | None) -> dict[str, int]:
    """Turn a graph read from a ``.param.bin`` into one that writes as text, in place.

    Layers, blobs and custom types get their ``.id.h`` names (``names``), or
    keep ``layer<i>``/``blob<j>``/``custom_<k>``; params become ints or floats.
    Returns counts for the report: ``generated_layer_names``,
    ``generated_blob_names``, ``unnamed_custom_types``, ``guessed_params``.
    """
    from .schema import SHARED_PARAMS, layer_schema

    shared = {p.id: p.kind for p in SHARED_PARAMS}
    stats = {"generated_layer_names": 0, "generated_blob_names": 0, "unnamed_custom_types": 0,
             "guessed_params": 0}
    names = names or IdNames()
    seen_values: set[int] = set()
    b = 0
    for i, node in enumerate(graph.nodes):
        tindex = node.meta.pop(BIN_TYPE_INDEX, None)
        if tindex is not None and tindex & CUSTOM_BIT:
            if tindex in names.types:
                node.op_type = names.types[tindex]
            else:
                stats["unnamed_custom_types"] += 1
        if i in names.layers:
            node.name = names.layers[i]
        else:
            stats["generated_layer_names"] += 1
        for v in node.outputs:
            if id(v) not in seen_values:
                seen_values.add(id(v))
                if b in names.blobs:
                    v.name = names.blobs[b]
                else:
                    stats["generated_blob_names"] += 1
            b += 1
        schema = layer_schema(node.op_type)
        for pid, p in list(node.attrs.items()):
            spec = schema.by_id(p.id) if schema is not None else None
            node.attrs[pid] = _typed(p, spec.kind if spec is not None else shared.get(p.id), stats)
        node.source = None
        node.meta.pop(BIN_SIG, None)
    graph.source = None
    return stats


def _typed(p: Param, want: str | None, stats: dict[str, int]) -> Param:
    """``p`` (raw words from a ``.param.bin``) as the kind ``want`` (the schema's; ``None``: unknown id)."""
    kind, v = p.kind, p.value
    if kind == "string":
        return Param(p.id, None, None, v, "string")
    if kind in ("int_array", "float_array"):
        words = [w if isinstance(w, int) else _fbits(w) for w in v]
        if want is None:
            as_float = bool(words) and all(_word_as_float(w) or w == 0 for w in words) and any(map(_word_as_float, words))
            stats["guessed_params"] += int(as_float)
        else:
            as_float = want == "float_array"
        if as_float:
            return Param(p.id, f"{len(words)}," + ",".join(_float_text(w) for w in words), "old")
        return Param(p.id, None, "old", words, "int_array")
    word = v if isinstance(v, int) else _fbits(v)
    if want == "float" or (want is None and _word_as_float(word)):
        stats["guessed_params"] += int(want is None)
        return Param(p.id, _float_text(word))
    return Param(p.id, None, None, word, "int")
