"""ncnn ``.param`` rules: header counts, blob wiring, layer types, param ids and values.

Each check is a generator over an :class:`~.source.NcnnFile`; positions come
from the layer's raw line (:class:`~.source.LayerLine`). The facts behind the
rules are in ``shared/docs/ncnn-format.md`` (token rules, limits) and
``ncnn-layer-params.md`` (param types per layer).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Iterator
from importlib import resources

from ..errors import Diagnostic, ModelfileError
from ..gcpause import paused_gc
from ..formats.ncnn.layers import BUILTIN_TYPES
from ..formats.ncnn.params import ARRAY_KEY_BASE, MAX_PARAM_ID, classify_chunk, is_float_text
from ..formats.ncnn.reader import NcnnDocument, parse_layer_line, read_text
from ..graph import Graph, Node
from ..sherpa.schema import SHERPA_CUSTOM_TYPES
from .ncnn_param_types import PARAM_TYPES
from .rules import rule
from .sherpa_scope import is_sherpa_encoder, meta_near_misses
from .source import LayerLine, NcnnFile, ParamTok

__all__ = ["CHECKS", "CONVERTER_PREFIXES", "gc_paused", "header_position", "read_whole", "trailing_layer_lines"]

NCNN000 = rule("NCNN000", "ncnn-syntax", "error", "The .param cannot be read (bad magic, counts or layer line).",
               "fix the line shown; ncnn refuses the file too")
NCNN001 = rule("NCNN001", "layer-count-high", "error",
               "The header declares more layers than the file has: ncnn fails with 'parse layer_type failed'.",
               "set the first number of line 2 to the number of layer lines (modelfile lint --fix)", fixable=True)
NCNN002 = rule("NCNN002", "layer-count-low", "error",
               "The header declares fewer layers than the file has: ncnn silently ignores the last layers "
               "(the blob count is checked against the whole file here).",
               "bump the first number of line 2 (modelfile lint --fix); a layer added by hand needs it", fixable=True)
NCNN003 = rule("NCNN003", "blob-count-low", "error",
               "The header declares fewer blobs than the layers use: ncnn refuses the file ('too many blobs'); "
               "older versions write past their blob table.",
               "set the second number of line 2 to the number of blobs (modelfile lint --fix)", fixable=True)
NCNN004 = rule("NCNN004", "blob-count-high", "warning",
               "The header declares more blobs than the layers use (harmless to ncnn, but stale).",
               "set the second number of line 2 to the number of blobs (modelfile lint --fix)", fixable=True)
NCNN005 = rule("NCNN005", "trailing-text", "warning",
               "Text after the declared layers that is not a layer line; ncnn never reads it.",
               "delete it, or bump the layer count if it was meant as a layer")
NCNN006 = rule("NCNN006", "pnnx-ir", "error",
               "The file is a pnnx .pnnx.param (PyTorch-level IR) with the ncnn header, not an ncnn param.",
               "use the .ncnn.param that pnnx wrote next to it")
NCNN007 = rule("NCNN007", "duplicate-layer-name", "warning",
               "Two layers share a name; ncnn's find-by-name returns the first one.",
               "rename one of them (modelfile rename)")
NCNN008 = rule("NCNN008", "duplicate-top", "error",
               "Two layers produce a blob of the same name; ncnn wires every later use to the first one.",
               "give the later top a new name and update its consumers")
NCNN009 = rule("NCNN009", "unproduced-bottom", "warning",
               "A bottom blob that no earlier layer produces and no Input declares; the app must feed it.",
               "add an Input layer for it, or fix the name")
NCNN010 = rule("NCNN010", "blob-fan-out", "warning",
               "A blob consumed by several layers without a Split; ncnn expects one consumer per blob.",
               "insert 'Split name 1 N blob blob_0 blob_1 ...' and give each consumer its own copy")
NCNN011 = rule("NCNN011", "unused-split-output", "info",
               "A Split output that nothing consumes (other unconsumed blobs are net outputs and are not reported).",
               "drop the unused output and lower the Split's top count")
NCNN012 = rule("NCNN012", "unknown-layer-type", "warning",
               "A layer type ncnn does not build in (or not by default: ArgMax, SPP); the app must provide it.",
               "make sure the app calls register_custom_layer for it")
NCNN013 = rule("NCNN013", "converter-leftover", "error",
               "An unconverted converter op (pnnx.*, aten::*, torch.*, prim::*, Tensor.*, nn.*, F.*); "
               "ncnn cannot run it.",
               "re-export with a pnnx/ncnn build that converts this op")
NCNN014 = rule("NCNN014", "param-id-range", "error",
               "A param id outside 0..31 (array keys -23300..-23331); ncnn fails 'id < NCNN_MAX_PARAM_COUNT'.",
               "ids must be 0..31; arrays are written -23300-id=n,...")
NCNN015 = rule("NCNN015", "reserved-param-id", "error",
               "Misuse of the Net-level ids 30 (output shape hints, int array) or 31 (featmask, int): ncnn "
               "refuses the layer ('invalid shape hints' / 'invalid feature mask').",
               "30 must be -23330=n,... with 4 or 5 ints per top; 31 a plain int; neither on SherpaMetaData")
NCNN016 = rule("NCNN016", "array-length", "error",
               "An old-style array whose length prefix differs from the number of values; ncnn desynchronises.",
               "make the first number after '=' the count of the values that follow")
NCNN017 = rule("NCNN017", "param-type", "error",
               "A param written as int where ncnn expects a float, or the other way round; the bits are read as-is.",
               "ncnn never converts: write floats with a '.', ints without")
NCNN018 = rule("NCNN018", "bad-value", "error",
               "A value ncnn cannot read as written: inf/nan, more than 15 characters, >9 fraction digits, junk, tabs.",
               "write a plain number of at most 15 characters")
NCNN019 = rule("NCNN019", "duplicate-param", "warning",
               "The same param id twice on one layer; ncnn keeps the last one.",
               "remove the one you do not mean")
NCNN020 = rule("NCNN020", "fixbug-flag", "error",
               "Softmax with axis != 0 without 1=1, or Reduction with axes without 5=1: ncnn refuses the layer.",
               "add the flag (1=1 for Softmax, 5=1 for Reduction); ncnn says 'param is too old'")
NCNN021 = rule("NCNN021", "param-refused", "error",
               "A layer param ncnn's load_param (or load_model) refuses: a required one missing (Convolution "
               "without num_output/weight_data_size) or a value out of range (Permute 0=-1); from the table "
               "probed against the ncnn runtime.",
               "set the param to a value ncnn accepts (the message gives the range)")
NCNN022 = rule("NCNN022", "layer-blob-count", "error",
               "A layer with a number of bottoms/tops ncnn refuses (single-input/single-output layers must have "
               "exactly 1 and 1).",
               "give the layer one bottom and one top (insert a Split / Concat where the graph needs more)")

#: built-in types whose ncnn_add_layer is OFF in default builds
_OFF_BY_DEFAULT = frozenset({"ArgMax", "SPP"})
#: Type prefixes of ops pnnx/onnx leave unconverted; ncnn can never run them.
CONVERTER_PREFIXES = ("pnnx.", "aten::", "prim::", "torch.", "Tensor.", "nn.", "F.", "onnx::")

Check = Callable[[NcnnFile], Iterator[Diagnostic]]
#: (codes a check can report, the check)
CHECKS: list[tuple[frozenset[str], Check]] = []


def _check(*codes: str) -> Callable[[Check], Check]:
    def deco(fn: Check) -> Check:
        CHECKS.append((frozenset(codes), gc_paused(fn)))
        return fn
    return deco


def gc_paused(check: Check) -> Check:
    """``check`` with the garbage collector paused while it runs.

    The rules make a few objects per line and free none of them in cycles; every collection pass
    would walk the whole graph again, which made lint of a 50,000-layer param superlinear."""
    @functools.wraps(check)
    def run(f: NcnnFile) -> Iterator[Diagnostic]:
        with paused_gc():
            yield from check(f)
    return run


# -- header ------------------------------------------------------------------------

def header_position(f: NcnnFile) -> tuple[int, str, int, int]:
    """``(line number, counts line, column of layer count, column of blob count)``."""
    assert f.doc is not None
    lines = f.doc.lines
    i = 0
    seen_magic = False
    while i < len(lines):
        if lines[i].strip():
            if seen_magic:
                break
            seen_magic = True
        i += 1
    text = lines[i] if i < len(lines) else ""
    toks = list(re.finditer(r"\S+", text))
    c1 = toks[0].start() + 1 if toks else 1
    c2 = toks[1].start() + 1 if len(toks) > 1 else c1
    return i + 1, text, c1, c2


def _is_layer_line(body: str) -> bool:
    try:
        _t, _n, nb, nt, names, _p, _c, _h = parse_layer_line(body)
    except (ModelfileError, AssertionError):
        return False
    return nb >= 0 and nt >= 0 and len(names) == nb + nt


def trailing_layer_lines(f: NcnnFile) -> tuple[list[int], int]:
    """Line numbers of layer lines after the declared layers, and the first other non-blank line (0 if none)."""
    doc = f.doc
    if doc is None or not doc.trailing:
        return [], 0
    # the trailing text starts right after the last layer read (or after the counts line)
    nodes = f.graph.nodes
    start = f.lineno(nodes[-1]) if nodes else header_position(f)[0]
    layers: list[int] = []
    for k in range(start, len(doc.lines)):
        body = doc.lines[k].rstrip("\r\n")
        if not body.strip():
            continue
        if _is_layer_line(body):
            layers.append(k + 1)
            continue
        return layers, k + 1
    return layers, 0


def read_whole(f: NcnnFile) -> tuple[Graph, NcnnDocument]:
    """The file read with its layer count covering the layer lines after the declared ones
    (what the author meant; what ``--fix`` writes). Same as the file's own graph when there are none."""
    if "whole" not in f.cache:
        assert f.doc is not None
        extra, _other = trailing_layer_lines(f)
        if not extra:
            f.cache["whole"] = (f.graph, f.doc)
        else:
            lineno, counts_line, _c1, _c2 = header_position(f)
            lines = list(f.doc.lines)
            lines[lineno - 1] = re.sub(r"\S+", str(f.doc.declared_layers + len(extra)), counts_line, count=1)
            try:
                f.cache["whole"] = read_text("".join(lines), f.path, strict=False)
            except ModelfileError:  # a trailing line the reader refuses (e.g. a 300-character name)
                f.cache["whole"] = (f.graph, f.doc)
    return f.cache["whole"]


@_check("NCNN001", "NCNN002", "NCNN003", "NCNN004", "NCNN005")
def check_header(f: NcnnFile) -> Iterator[Diagnostic]:
    doc = f.doc
    if doc is None:
        return
    lineno, _text, c1, c2 = header_position(f)
    n_layers = len(f.graph.nodes)
    if any(code == "NCNN-LAYER-COUNT" for _l, _c, code, _m in doc.problems):
        yield NCNN001.diag(f"the header declares {doc.declared_layers} layers but the file has {n_layers}; "
                           "ncnn fails with 'parse layer_type failed'", f.path, lineno, c1,
                           end_column=c1 + len(str(doc.declared_layers)))
    extra, other = trailing_layer_lines(f)
    if extra:
        # one root cause, one finding: the blob count is judged against the whole file here
        whole_blobs = len(read_whole(f)[0].values())
        blobs = (f" and {doc.declared_blobs} blobs" if whole_blobs != doc.declared_blobs else "")
        has = f"{n_layers + len(extra)}" + (f" layers and {whole_blobs} blobs" if blobs else "")
        yield NCNN002.diag(
            f"the header declares {doc.declared_layers} layers{blobs} but the file has {has}; ncnn "
            f"silently ignores the last {len(extra)} layer{'s' if len(extra) > 1 else ''} (from line {extra[0]})",
            f.path, lineno, c1, end_column=c1 + len(str(doc.declared_layers)))
    if other:
        body = doc.lines[other - 1]
        col = len(body) - len(body.lstrip()) + 1
        yield NCNN005.diag(f"text after the {doc.declared_layers} declared layers is not a layer line; "
                           "ncnn never reads it", f.path, other, col)
    if extra:
        return
    n_blobs = len(f.values())
    if doc.declared_blobs < n_blobs:
        yield NCNN003.diag(f"the header declares {doc.declared_blobs} blobs but the layers use {n_blobs}; ncnn "
                           "fails with 'too many blobs' (older versions write past the blob table)", f.path, lineno, c2,
                           end_column=c2 + len(str(doc.declared_blobs)))
    elif doc.declared_blobs > n_blobs:
        yield NCNN004.diag(f"the header declares {doc.declared_blobs} blobs but the layers use {n_blobs}",
                           f.path, lineno, c2, end_column=c2 + len(str(doc.declared_blobs)))


# -- wiring ----------------------------------------------------------------------

def _is_meta(node: Node) -> bool:
    return node.op_type == "SherpaMetaData" and node.name == "sherpa_meta_data1"


@_check("NCNN007")
def check_layer_names(f: NcnnFile) -> Iterator[Diagnostic]:
    nodes = f.graph.nodes
    if len({n.name for n in nodes}) == len(nodes):
        return  # every name once (the common case, found in one pass in C)
    first: dict[str, Node] = {}
    for node in nodes:
        if _is_meta(node):
            continue  # a second meta layer is SHERPA003
        prev = first.setdefault(node.name, node)
        if prev is not node:
            ll = f.line(node)
            yield f.at(NCNN007, node, ll.name if ll else None,
                       f"layer name {node.name!r} is already used at line {f.lineno(prev)}")


@_check("NCNN008")
def check_duplicate_tops(f: NcnnFile) -> Iterator[Diagnostic]:
    nodes = f.graph.nodes
    tops = [v.name for n in nodes for v in n.outputs]
    if len(set(tops)) == len(tops):
        return  # every top name once (the common case)
    first: dict[str, Node] = {}
    for node in nodes:
        for k, v in enumerate(node.outputs):
            prev = first.get(v.name)
            if prev is None:
                first[v.name] = node
                continue
            ll = f.line(node)
            if f.doc is None:  # .param.bin: blobs are indexes, the last writer becomes the producer
                yield f.at(NCNN008, node, None, f"blob {v.name!r} is already produced by layer {prev.name!r}; "
                           f"ncnn makes {node.name!r} its producer, so every reader of the index gets this output")
                continue
            where = f"line {f.lineno(prev)}" if f.lineno(prev) else f"layer {prev.name!r}"
            yield f.at(NCNN008, node, ll.tops[k] if ll else None,
                       f"blob {v.name!r} is already produced at {where}; ncnn wires every later use of the name "
                       "to the first one")


@_check("NCNN009")
def check_unproduced(f: NcnnFile) -> Iterator[Diagnostic]:
    # values read without a producer (net inputs an Input layer does not declare): usually none
    unproduced = [v for v in f.values() if v.producer is None and v.uses]
    if not unproduced:
        return
    producer_line: dict[str, int] = {}
    for node in f.graph.nodes:
        for v in node.outputs:
            producer_line.setdefault(v.name, f.lineno(node) or -1)
    for value in unproduced:
        node, idx = value.uses[0]
        ll = f.line(node)
        later = producer_line.get(value.name)
        msg = f"blob {value.name!r} is used here but no earlier layer produces it and no Input declares it"
        if later:
            msg += (f"; the layer at line {later} produces it later, but ncnn links a bottom only to blobs "
                    "produced before it")
        else:
            msg += "; the app must feed it with Extractor::input"
        yield f.at(NCNN009, node, ll.bottoms[idx] if ll else None, msg)


@_check("NCNN010")
def check_fan_out(f: NcnnFile) -> Iterator[Diagnostic]:
    for value in f.values():
        if not value._uses:  # one use or none (package-internal slot: see graph.Value; this runs per blob)
            continue
        consumers = value.consumers()
        if len(consumers) < 2:
            continue
        first = consumers[0]
        for node in consumers[1:]:
            idx = next(u.index for u in value.uses if u.node is node)
            ll = f.line(node)
            where = f"line {f.lineno(first)}" if f.lineno(first) else f"layer {first.name!r}"
            yield f.at(NCNN010, node, ll.bottoms[idx] if ll else None,
                       f"blob {value.name!r} is also consumed at {where} ({len(consumers)} consumers, no Split); "
                       "in-place layers and light mode give the others wrong or recomputed data")


@_check("NCNN011")
def check_unused_outputs(f: NcnnFile) -> Iterator[Diagnostic]:
    # Only Split: an unused output of any other layer is a net output the app may extract
    # (LLM KV caches, LSTM states), but a Split copy nobody reads is always dead.
    for node in f.graph.nodes:
        if node.op_type != "Split":
            continue
        for k, v in enumerate(node.outputs):
            if v._use0 is None:  # no use (the slot graph.Value fills first)
                ll = f.line(node)
                yield f.at(NCNN011, node, ll.tops[k] if ll else None,
                           f"Split output {v.name!r} is never used (ncnn treats it as a net output)")


# -- types ------------------------------------------------------------------------

@_check("NCNN012", "NCNN013")
def check_types(f: NcnnFile) -> Iterator[Diagnostic]:
    types = {n.op_type for n in f.graph.nodes}
    if types <= BUILTIN_TYPES and types.isdisjoint(_OFF_BY_DEFAULT):
        return  # only default built-ins: nothing to report (the common case)
    known = (SHERPA_CUSTOM_TYPES if is_sherpa_encoder(f) else frozenset()) | f.custom_layers
    near = {id(n) for n in meta_near_misses(f)}  # a misspelled meta layer is SHERPA002
    reported: set[str] = set()
    counts: dict[str, int] = {}
    for node in f.graph.nodes:
        counts[node.op_type] = counts.get(node.op_type, 0) + 1
    for node in f.graph.nodes:
        t = node.op_type
        if t in f.custom_layers:
            continue  # the app registers it (--custom-layer / custom-layers), maybe over a built-in
        if t in _OFF_BY_DEFAULT and t not in reported:
            reported.add(t)
            ll = f.line(node)
            yield f.at(NCNN012, node, ll.type if ll else None, f"layer type {t!r} is not compiled into default "
                       f"ncnn builds (WITH_LAYER_{t.lower()}=OFF); loading fails unless the app's ncnn enables it")
            continue
        if t in BUILTIN_TYPES or t in known or id(node) in near:
            continue
        ll = f.line(node)
        tok = ll.type if ll else None
        if t in reported:
            continue  # one finding per type, not per layer
        reported.add(t)
        more = f" ({counts[t]} layers)" if counts[t] > 1 else ""
        if t.startswith(CONVERTER_PREFIXES):
            yield f.at(NCNN013, node, tok, f"layer type {t!r} is an unconverted converter op{more}; "
                       f"ncnn fails with 'layer {t} not exists or registered'")
        else:
            yield f.at(NCNN012, node, tok, f"layer type {t!r} is not an ncnn built-in{more}; loading needs "
                       "register_custom_layer in the app (or declare it: --custom-layer / custom-layers)")


# -- params ------------------------------------------------------------------------

_INT = re.compile(r"[+-]?[0-9]+")
# ncnn's own float reader: sign, digits, optional fraction, optional exponent
_FLOAT = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_INF_NAN = re.compile(r'"?[+-]?(?:inf(?:inity)?|nan)"?', re.IGNORECASE)
_MAX_CHUNK = 15
# Chunks _chunk_problem certainly accepts: an int of at most 9 digits (fits 32 bits), or a float with at most 9
# integer and 9 fraction digits and an exponent below 30 (within float32)
_PLAIN = r"[+-]?(?:[0-9]{1,9}(?:\.[0-9]{0,9})?|\.[0-9]{1,9})(?:[eE][+-]?[0-2]?[0-9])?"
_PLAIN_VALUES = re.compile(rf"{_PLAIN}(?:,{_PLAIN})*")
_FLT_MAX = 3.4028234663852886e38
_INF_HINT = "ncnn has no inf/nan: write 3.402823e+38 (FLT_MAX) or -3.402823e+38, or drop the key for the default"


def _param_id(key: str) -> tuple[int, bool]:
    k = int(key)
    if k <= ARRAY_KEY_BASE:
        return -k + ARRAY_KEY_BASE, True
    return k, False


def _value_kind(p: ParamTok) -> str:
    """``int``/``float``/``string``/``int_array``/``float_array``, as ncnn types the text."""
    _pid, old = _param_id(p.key)
    v = p.value
    if old:
        elems = v.split(",")[1:]
        return "float_array" if elems and is_float_text(elems[-1]) else "int_array"
    k = classify_chunk(v.split(",")[0])
    if k == "string":
        return k
    if "," in v:
        return k + "_array"
    return k


def _chunk_problem(chunk: str) -> str | None:
    """Why ncnn would misread one numeric chunk (None if it reads it as written)."""
    if not chunk:
        return "empty value"
    if _INF_NAN.fullmatch(chunk):
        if chunk[0] in "+-":
            return f"{chunk!r} cannot be parsed by ncnn (it has no inf/nan)"
        return f"{chunk!r} is read as a string by ncnn, so a float param gets 0"
    if len(chunk) > _MAX_CHUNK:
        return (f"{chunk!r} is {len(chunk)} characters; ncnn reads at most {_MAX_CHUNK} and the rest "
                "breaks the line")
    if is_float_text(chunk):
        if not _FLOAT.fullmatch(chunk):
            return f"{chunk!r} is not a number ncnn can read"
        mant = re.split(r"[eE]", chunk.lstrip("+-"))[0]
        whole, _, frac = mant.partition(".")
        if len(frac) > 9:
            return f"{chunk!r} has {len(frac)} fraction digits; ncnn's float reader overflows after 9"
        if whole and int(whole) > 0xFFFFFFFF:
            return f"{chunk!r} has an integer part beyond 32 bits; ncnn's float reader overflows"
        if abs(float(chunk)) > _FLT_MAX:
            return f"{chunk!r} is beyond the float32 range; ncnn reads inf"
        return None
    if not _INT.fullmatch(chunk):
        return f"{chunk!r} is not an integer; ncnn reads only its leading digits"
    if not -(2**31) <= int(chunk) < 2**31:
        return f"{chunk!r} does not fit a 32-bit int"
    return None


def value_problems(p: ParamTok) -> Iterator[tuple[int, int, str]]:
    """``(column, width, message)`` for every chunk of ``p`` that ncnn would misread."""
    _pid, old = _param_id(p.key)
    v = p.value
    if not v:
        yield p.value_col, 1, "empty value; ncnn fails with 'ParamDict parse value failed'"
        return
    if not old and (v[0].isalpha() or v[0] == '"'):
        if _INF_NAN.fullmatch(v):
            yield p.value_col, len(v), _chunk_problem(v.strip('"')) or ""
        elif len(v.strip('"')) > 255:
            yield p.value_col, len(v), "string longer than 255 characters; ncnn fails with 'string too long'"
        return
    parts = v.split(",")
    if _PLAIN_VALUES.fullmatch(v) and max(map(len, parts)) <= _MAX_CHUNK:
        return  # the common case, checked in C: long weight-like arrays must not cost a Python loop per value
    col = p.value_col
    if not old and len(parts) > 1 and parts[-1] == "":
        parts.pop()  # k=4, is a one-element array
    for k, chunk in enumerate(parts):
        if not chunk and k > 0:
            yield col, 1, "empty array element; ncnn stops the array there and misreads the rest of the line"
            return
        why = _chunk_problem(chunk)
        if why:
            yield col, len(chunk), why
        col += len(chunk) + 1


@_check("NCNN014", "NCNN015", "NCNN016", "NCNN017", "NCNN018", "NCNN019", "NCNN020")
def check_params(f: NcnnFile) -> Iterator[Diagnostic]:
    # (type, key, value) of params with no finding of their own (NCNN014/016/017/018 depend on these three
    # only): a model repeats them thousands of times, so each is checked once
    clean: dict[tuple[str, str, str], int] = f.cache.setdefault("clean_params", {})  # -> param id
    # (type, tops, params) of whole lines without findings (all of them depend on these, and on tabs)
    clean_lines: set[tuple[object, ...]] = f.cache.setdefault("clean_param_lines", set())
    text = f.doc is not None
    for node, head in zip(f.graph.nodes, f.heads()):
        t = node.op_type
        if head is not None and (t, head[1], head[2]) in clean_lines:
            continue  # the line key below, known clean (and such a line splits: see NcnnFile.heads)
        ll = f.line(node)
        if ll is None:
            if text and f.lineno(node):
                # the reader took it, but the params do not split into key=value tokens the way ncnn reads
                # them (a tab inside a value, a stray token): ncnn fails with 'ParamDict read value failed'
                yield f.at(NCNN018, node, None, "the params of this line do not split into key=value tokens "
                           "at spaces; ncnn fails with 'ParamDict read value failed'")
            continue
        has_tab = "\t" in ll.body
        # (the tail stands for the items when there is one: the same tail, the same items)
        line_key = None if has_tab else (t, ll.nt, ll.tail if ll.tail is not None else tuple(ll.items))
        if line_key in clean_lines:
            continue
        found = False
        for d in _param_findings(f, node, ll, clean, has_tab):
            found = True
            yield d
        if not found and line_key is not None:
            clean_lines.add(line_key)


def _param_findings(f: NcnnFile, node: Node, ll: LayerLine, clean: dict[tuple[str, str, str], int],
                    has_tab: bool) -> Iterator[Diagnostic]:
    """The NCNN014..NCNN020 findings of one line."""
    t = node.op_type
    seen: dict[int, int] = {}
    types = PARAM_TYPES.get(t)
    for i, (key, value) in enumerate(ll.items):
        pid = clean.get((t, key, value), -1)
        if pid >= 0:
            if pid in seen:
                yield _duplicate(f, node, ll, i, seen[pid], pid)
            seen[pid] = i
            if has_tab and (tab := _tab_after(ll, ll.param_at(i))):
                yield _tab_finding(f, node, ll.param_at(i), tab)
            continue
        p = ll.param_at(i)
        pid, old = _param_id(key)
        if (int(key) < 0 and not old) or pid >= MAX_PARAM_ID:
            why = ("negative keys other than -23300..-23331 are rejected by ncnn"
                   if int(key) < 0 and not old else f"param id {pid} is out of range 0..31")
            yield f.at(NCNN014, node, p, f"key {key}: {why}; ncnn fails to load the layer")
            continue
        if pid in seen:
            yield _duplicate(f, node, ll, i, seen[pid], pid)
        seen[pid] = i
        yield from _check_reserved(f, node, ll, p, pid)
        local = 0  # findings that depend on (type, key, value) only
        bad_value = False
        for col, width, why in value_problems(p):
            bad_value = True
            local += 1
            hint = _INF_HINT if _INF_NAN.fullmatch(value.split(",")[0]) else None
            yield f.at(NCNN018, node, p, f"{key}={value[:40]}: {why}", col=col, end=col + width, hint=hint)
        if has_tab and (tab := _tab_after(ll, p)):
            bad_value = True
            yield _tab_finding(f, node, p, tab)
        if old:
            parts = value.split(",")
            if _INT.fullmatch(parts[0]) and int(parts[0]) != len(parts) - 1:
                local += 1
                yield f.at(NCNN016, node, p, f"array {key} declares {int(parts[0])} values but lists "
                           f"{len(parts) - 1}")
        if types and pid in types:
            if bad_value:
                continue  # no type check for a value ncnn misreads anyway: not known to be clean
            for d in _check_type(f, node, p, types[pid]):
                local += 1
                yield d
        if not local and pid not in (30, 31):
            clean[(t, key, value)] = pid
    if t in ("Softmax", "Reduction"):
        yield from _check_fixbug(f, node, ll)


def _duplicate(f: NcnnFile, node: Node, ll: LayerLine, i: int, prev: int, pid: int) -> Diagnostic:
    return f.at(NCNN019, node, ll.param_at(i), f"param {pid} is already set at column {ll.param_at(prev).col}; "
                "ncnn keeps this later value")


def _tab_finding(f: NcnnFile, node: Node, p: ParamTok, tab: int) -> Diagnostic:
    return f.at(NCNN018, node, p, f"{p.key}={p.value[:40]}: a tab after a value is read as part of it (ncnn "
                "stops only at space, comma or newline); the next key is lost", col=tab)


def _tab_after(ll: LayerLine, p: ParamTok) -> int:
    i = p.end - 1  # 0-based index just past the value
    if i < len(ll.body) and ll.body[i] == "\t" and ll.body[i:].strip():
        return i + 1
    return 0


def _check_reserved(f: NcnnFile, node: Node, ll: LayerLine, p: ParamTok, pid: int) -> Iterator[Diagnostic]:
    if pid not in (30, 31):
        return
    if node.op_type == "SherpaMetaData":
        yield f.at(NCNN015, node, p, f"SherpaMetaData must not set the Net-level id {pid}")
        return
    kind = _value_kind(p)
    if pid == 31:
        if kind != "int":
            yield f.at(NCNN015, node, p, "id 31 is the featmask and must be a plain int")
        return
    if kind != "int_array":
        yield f.at(NCNN015, node, p, "id 30 holds output shape hints and must be an int array -23330=n,...")
        return
    n = len(p.value.split(",")) - 1 if int(p.key) <= ARRAY_KEY_BASE else len([x for x in p.value.split(",") if x])
    tops = len(ll.tops)
    if tops == 0:
        yield f.at(NCNN015, node, p, "shape hints on a layer without outputs divide by zero in ncnn")
    elif n % tops or n // tops not in (4, 5):
        yield f.at(NCNN015, node, p, f"{n} shape-hint ints for {tops} output(s); ncnn expects 4 or 5 per output")
    else:
        # each output's hint is dims,w,h,c (dims <= 3) or dims,w,h,d,c (dims <= 4): checked by ncnn too
        per = n // tops
        vals = p.value.split(",")[1:] if int(p.key) <= ARRAY_KEY_BASE else [x for x in p.value.split(",") if x]
        for k in range(tops):
            dims = vals[k * per] if k * per < len(vals) else ""
            word = _stored_int(dims)  # a float element's bits land in the int array as they are
            if word is not None and not 0 <= word <= per - 1:
                said = dims if _INT.fullmatch(dims) else f"{dims} (read as the int {word})"
                yield f.at(NCNN015, node, p, f"shape hint of output {k} says {said} dims in {per} ints (0 to "
                           f"{per - 1}); ncnn fails with 'invalid shape hints'")
                break


def _stored_int(text: str) -> int | None:
    """The int ncnn stores for one element of an int array (None: not a number this rule judges)."""
    if _INT.fullmatch(text):
        return int(text)
    if is_float_text(text) and _FLOAT.fullmatch(text):
        import struct

        try:
            return int(struct.unpack("<i", struct.pack("<f", float(text)))[0])
        except (OverflowError, struct.error):
            return None
    return None


_READS_AS = {"int": "1065353216-style bit patterns", "float": "denormals like 1.4e-45"}


def _check_type(f: NcnnFile, node: Node, p: ParamTok, want: str) -> Iterator[Diagnostic]:
    kind = _value_kind(p)
    pid, _old = _param_id(p.key)
    base = kind.removesuffix("_array")
    if want in ("i", "f"):
        want_kind = "int" if want == "i" else "float"
        if kind.endswith("_array"):
            yield f.at(NCNN017, node, p, f"{node.op_type} param {pid} is a single {want_kind}, not an array")
        elif kind == "string":
            yield f.at(NCNN017, node, p, f"{node.op_type} param {pid} is a {want_kind}; {p.value[:20]!r} is a "
                       "string and reads as 0")
        elif kind != want_kind and not _is_zero(p.value):  # 0 and 0.0 have the same bits
            if want == "i":
                fix = p.value.split(".")[0] if re.fullmatch(r"[+-]?[0-9]+\.0*", p.value) else "an integer"
                yield f.at(NCNN017, node, p, f"{node.op_type} param {pid} is an int; {p.value} is a float and "
                           f"ncnn reads its bits as {_as_int_bits(p.value)}", hint=f"write {fix}")
            else:
                yield f.at(NCNN017, node, p, f"{node.op_type} param {pid} is a float; {p.value} is an int and "
                           f"ncnn reads its bits as {_as_float_bits(p.value)}", hint=f"write {p.value}.0")
    elif want == "a" and not kind.endswith("_array"):
        yield f.at(NCNN017, node, p, f"{node.op_type} param {pid} is an array; a {kind} reads as empty",
                   hint=f"write -{23300 + pid}=1,{p.value} or {pid}={p.value},")
    elif want == "s" and kind != "string":
        yield f.at(NCNN017, node, p, f"{node.op_type} param {pid} is a string expression; quote it: "
                   f'{pid}="{p.value}"')
    if kind.endswith("_array") and int(p.key) > ARRAY_KEY_BASE and base in ("int", "float"):
        elems = [e for e in p.value.split(",") if e]
        odd = [e for e in elems[1:] if is_float_text(e) != (base == "float")]
        if odd:
            yield f.at(NCNN017, node, p, f"array {pid} is typed by its first element ({base}); {odd[0]} is "
                       f"read as {base} too")


def _is_zero(text: str) -> bool:
    try:
        return float(text) == 0.0
    except ValueError:
        return False


def _as_int_bits(text: str) -> str:
    import struct

    try:
        return str(struct.unpack("<i", struct.pack("<f", float(text)))[0])
    except (ValueError, OverflowError, struct.error):
        return "a different number"


def _as_float_bits(text: str) -> str:
    import struct

    try:
        return f"{struct.unpack('<f', struct.pack('<i', int(text)))[0]:.3g}"
    except (ValueError, struct.error):
        return "a different number"


def _int_value(p: ParamTok | None) -> int | None:
    if p is None or not _INT.fullmatch(p.value):
        return None
    return int(p.value)


def _check_fixbug(f: NcnnFile, node: Node, ll: LayerLine) -> Iterator[Diagnostic]:
    if node.op_type == "Softmax":
        axis = ll.param(0)
        if axis is not None and _int_value(axis) not in (0, None) and _int_value(ll.param(1)) != 1:
            yield f.at(NCNN020, node, axis, f"Softmax axis {axis.value} needs 1=1 (fixbug0); ncnn refuses the "
                       "layer with 'param is too old'", hint="add 1=1")
    elif node.op_type == "Reduction":
        axes = ll.param(3)
        if axes is not None and _int_value(ll.param(5)) != 1:
            n = axes.value.split(",")
            nonempty = (n[0] not in ("0", "") and len(n) > 1) if int(axes.key) <= ARRAY_KEY_BASE else bool(axes.value)
            if nonempty:
                yield f.at(NCNN020, node, axes, "Reduction with axes needs 5=1 (fixbug0); ncnn refuses the layer "
                           "with 'param is too old'", hint="add 5=1")


# -- what each layer's load_param refuses --------------------------------------------

def _load_checks() -> dict[str, dict]:
    text = resources.files("modelfile.data").joinpath("ncnn_load_checks.json").read_text(encoding="utf-8")
    return json.loads(text)["layers"]


#: layer type -> {"blobs": [[bottoms, tops], ...] accepted (0..3 probed), "params": {id: {"required", "min",
#: "max", "min_by", "name"}}}; made by tools/probe_ncnn_load_param.py against the ncnn wheel
LOAD_CHECKS: dict[str, dict] = _load_checks()
_PROBED_BLOBS = 3
#: layer families whose weight_data_size ncnn checks against num_output and the kernel
_WEIGHTED = ("Convolution", "Deconvolution", "InnerProduct")
#: recurrent layers: gates per hidden unit (weights are input size x hidden x gates x directions)
_GATES = {"LSTM": 4, "GRU": 3, "RNN": 1}
_I32 = (-(2**31), 2**31 - 1)


def _accepts(spec: dict) -> str:
    lo, hi = spec.get("min", _I32[0]), spec.get("max", _I32[1])
    if hi == _I32[1]:
        return f">= {lo}"
    if lo == _I32[0]:
        return f"<= {hi}"
    return f"{lo}..{hi}"


@_check("NCNN021", "NCNN022")
def check_load_param(f: NcnnFile) -> Iterator[Diagnostic]:
    """Required params, value ranges and blob counts, as ncnn's per-layer load_param enforces them."""
    # (type, bottoms, tops, params) of lines without findings: the findings depend on these only, and a
    # model repeats the same layer line (up to names) many times
    clean: set[tuple[object, ...]] = f.cache.setdefault("clean_load", set())
    custom = f.custom_layers
    for node, head in zip(f.graph.nodes, f.heads()):
        t = node.op_type
        entry = LOAD_CHECKS.get(t)
        if entry is None or t in custom:
            continue
        if head is not None and (t, len(node.inputs), len(node.outputs), head[2]) in clean:
            continue  # the key below, known clean
        ll = f.line(node)
        if ll is None:
            yield from _load_param_findings(f, node, ll, entry)
            continue
        key = (t, len(node.inputs), len(node.outputs), ll.tail if ll.tail is not None else tuple(ll.items))
        if key in clean:
            continue
        found = False
        for d in _load_param_findings(f, node, ll, entry):
            found = True
            yield d
        if not found:
            clean.add(key)


def _load_param_findings(f: NcnnFile, node: Node, ll: LayerLine | None, entry: dict) -> Iterator[Diagnostic]:
    """The load-table findings for one layer (the body of :func:`check_load_param`)."""
    t = node.op_type
    blobs = entry.get("blobs")
    nb, nt = len(node.inputs), len(node.outputs)
    if blobs is not None:
        if blobs == [[1, 1]] and (nb, nt) != (1, 1):
            yield f.at(NCNN022, node, ll.type if ll else None,
                       f"{t} takes exactly 1 bottom and 1 top, this layer has {nb} and {nt}; ncnn fails with "
                       "'invalid bottom_count or top_count for one_blob_only layer'")
        elif nb <= _PROBED_BLOBS and nt <= _PROBED_BLOBS and [nb, nt] not in blobs:
            yield f.at(NCNN022, node, ll.type if ll else None,
                       f"{t} with {nb} bottom(s) and {nt} top(s) is refused by ncnn's load_param")
    for key, spec in entry.get("params", {}).items():
        pid = int(key)
        name = f" ({spec['name']})" if spec.get("name") else ""
        stage = "load_model" if spec.get("min_by") == "load_model" else "load_param"
        tok: ParamTok | None = ll.param(pid) if ll is not None else None
        if ll is not None:
            value = _int_value(tok) if tok is not None else None
            present = tok is not None
        else:  # .param.bin: the raw word (or a text line lint could not split)
            present = pid in node.attrs
            value = _int_param(node, None, pid)
        if not present:
            if spec.get("required") and not any(ll.param(int(u)) if ll is not None else
                                                node.attrs.get(int(u)) for u in spec.get("unless", ())):
                yield f.at(NCNN021, node, ll.type if ll else None,
                           f"{t} needs param {pid}{name}; ncnn's load_param fails without it "
                           f"(accepted: {_accepts(spec)})", hint=f"add {pid}=<value>")
            continue
        if value is None:
            continue  # not an int: NCNN017/NCNN018 say why
        if value < spec.get("min", _I32[0]) or value > spec.get("max", _I32[1]):
            yield f.at(NCNN021, node, tok, f"{t} param {pid}{name} = {value}: ncnn accepts {_accepts(spec)}; "
                       f"its {stage} fails")
    yield from _check_conditional(f, node, ll, entry)
    for group in entry.get("together", ()):
        given = [k for k in group if (ll.param(k) is not None if ll is not None else k in node.attrs)]
        if given and len(given) < len(group):
            missing = [k for k in group if k not in given]
            yield f.at(NCNN021, node, ll.param(given[0]) if ll is not None else None,
                       f"{t} param {given[0]} needs {', '.join(map(str, missing))} as well; ncnn's load_param "
                       "fails with one of them alone")
    yield from _check_weight_size(f, node, ll, entry)
    yield from _check_products(f, node, ll)
    yield from _check_same_length(f, node, ll)
    yield from _check_activation(f, node, ll)
    yield from _check_allocation(f, node, ll)


#: layers whose load_model allocates float vectors as long as one int param (BatchNorm: slope, mean, var and
#: bias read from the .bin, then a and b computed; src/layer/batchnorm.cpp): type -> (param id, vectors)
_VECTORS: dict[str, tuple[int, int]] = {"BatchNorm": (0, 6)}
#: what one layer may allocate: beyond 2 GiB a 32-bit build cannot (size_t arithmetic, address space) and
#: load_model fails under the memory limits the runtime checks here use (tests/fuzz/harness.py: 4 GiB)
_MAX_LAYER_BYTES = 2**31 - 1


def _check_allocation(f: NcnnFile, node: Node, ll: LayerLine | None) -> Iterator[Diagnostic]:
    spec = _VECTORS.get(node.op_type)
    if spec is None:
        return
    pid, vectors = spec
    n = _int_param(node, ll, pid)
    if n is None or not 0 < n <= _I32[1]:
        return  # missing or not positive: the load table's finding; beyond 32 bits: NCNN018's
    need = n * vectors * 4
    if need > _MAX_LAYER_BYTES:
        most = _MAX_LAYER_BYTES // (vectors * 4)
        yield f.at(NCNN021, node, ll.param(pid) if ll is not None else None,
                   f"{node.op_type} param {pid} = {n}: its load_model allocates {vectors} float vectors of that "
                   f"length ({need:,} bytes) and fails; the .bin would need {n * 16:,} bytes of weights",
                   hint=f"at most {most:,}; a real layer has the channel count of its input")


#: fused activations (param 9 = type, 10 = params) of convolutions and InnerProduct: how many params each
#: type needs, or load_param fails (leaky 1, clip 2, hardswish 2; checked against the ncnn wheel)
_ACTIVATION_PARAMS = {2: 1, 3: 2, 6: 2}


def _check_activation(f: NcnnFile, node: Node, ll: LayerLine | None) -> Iterator[Diagnostic]:
    t = node.op_type
    if not (t.startswith(("Convolution", "Deconvolution")) or t == "InnerProduct") or 10 not in node.attrs:
        return  # (a missing param 10 is the load table's finding)
    try:
        act = node.attrs[9].value if 9 in node.attrs else 0
        params = node.attrs[10].value if 10 in node.attrs else []
    except (ValueError, TypeError, OverflowError):  # unreadable values: NCNN017/NCNN018 say why
        return
    need = _ACTIVATION_PARAMS.get(act) if isinstance(act, int) else None
    have = len(params) if isinstance(params, list) else 1
    if need is not None and have < need:
        tok = (ll.param(10) or ll.param(9)) if ll is not None else None
        yield f.at(NCNN021, node, tok, f"{t} activation type {act} needs {need} activation param(s) (param 10), "
                   f"it has {have}; ncnn's load_param fails", hint=f"give -23310={need},... or another activation")


#: array params ncnn requires to have one length when given (Crop's starts/ends/axes: load_param
#: returns -1 otherwise; checked against the ncnn wheel). type -> groups of param ids
_SAME_LENGTH: dict[str, list[tuple[int, ...]]] = {"Crop": [(9, 10, 11)]}


def _check_same_length(f: NcnnFile, node: Node, ll: LayerLine | None) -> Iterator[Diagnostic]:
    for group in _SAME_LENGTH.get(node.op_type, ()):
        given: list[tuple[int, int]] = []
        for k in group:
            try:
                v = node.attrs[k].value if k in node.attrs else None
            except (ValueError, TypeError, OverflowError):  # an unreadable value: NCNN017/NCNN018 say why
                return
            if isinstance(v, list):
                given.append((k, len(v)))
        if len({n for _k, n in given}) > 1:
            lens = ", ".join(f"{k}: {n}" for k, n in given)
            yield f.at(NCNN021, node, ll.param(given[0][0]) if ll is not None else None,
                       f"{node.op_type} arrays {', '.join(str(k) for k, _p in given)} have different lengths "
                       f"({lens}); ncnn's load_param fails", hint="give every one of them the same number of values")


#: products of params ncnn computes in a 32-bit int (a kernel's area, a constant matrix's size): when
#: they overflow, load_param or load_model fails. type prefix -> [(condition {id: value}, ids)]
_PRODUCTS: dict[str, list[tuple[dict[int, int], list[int]]]] = {
    "Pooling": [({}, [1, 11])],
    "Convolution": [({}, [1, 11])],
    "Deconvolution": [({}, [1, 11])],
    "Gemm": [({5: 1}, [8, 9]), ({4: 1}, [7, 9])],
}


def _check_products(f: NcnnFile, node: Node, ll: LayerLine | None) -> Iterator[Diagnostic]:
    t = node.op_type
    for prefix, rules in _PRODUCTS.items():
        if not t.startswith(prefix):
            continue
        for cond, ids in rules:
            if any((_int_param(node, ll, k) or 0) != v for k, v in cond.items()):
                continue
            vals: list[int | None] = []
            for k in ids:
                v = _int_param(node, ll, k)
                if v is None and k == 11 and vals:
                    v = vals[0]  # kernel_h defaults to kernel_w
                vals.append(v)
            nums = [v for v in vals if v is not None and v > 0]
            product = 1
            for v in nums:
                product *= v
            if len(nums) >= 2 and product > _I32[1]:
                tok = ll.param(ids[0]) if ll is not None else None
                yield f.at(NCNN021, node, tok, f"{t} params {', '.join(map(str, ids[:len(nums)]))} multiply to "
                           f"{product}, beyond a 32-bit int; ncnn's load_param/load_model fails")
                return


def _check_conditional(f: NcnnFile, node: Node, ll: LayerLine | None, entry: dict) -> Iterator[Diagnostic]:
    """Rules that apply when other params have given values (absent params count as 0, ncnn's default for
    every flag used here)."""
    t = node.op_type
    for cond_rule in entry.get("when", ()):
        cond = cond_rule["if"]
        if any((_int_param(node, ll, int(k)) or 0) != v for k, v in cond.items()):
            continue
        given = " ".join(f"{k}={v}" for k, v in cond.items())
        tok_type = ll.type if ll else None
        blobs = cond_rule.get("blobs")
        if blobs is not None and [len(node.inputs), len(node.outputs)] not in blobs:
            yield f.at(NCNN022, node, tok_type, f"{t} with {given} takes {blobs[0][0]} bottom(s) and {blobs[0][1]} "
                       f"top(s), this layer has {len(node.inputs)} and {len(node.outputs)}; ncnn's load_param fails")
        for key in cond_rule.get("required", ()):
            present = ll.param(int(key)) is not None if ll is not None else int(key) in node.attrs
            if not present:
                yield f.at(NCNN021, node, tok_type, f"{t} with {given} needs param {key}; ncnn's load_param "
                           "fails without it", hint=f"add {key}=<value>")
        for key, (lo, hi) in cond_rule.get("ranges", {}).items():
            v = _int_param(node, ll, int(key))
            if v is not None and not lo <= v <= hi:
                tok = ll.param(int(key)) if ll is not None else None
                yield f.at(NCNN021, node, tok, f"{t} param {key} = {v}: with {given} ncnn accepts "
                           f"{_accepts({'min': lo, 'max': hi})}; its load_param fails")


def _int_param(node: Node, ll: LayerLine | None, pid: int) -> int | None:
    """The int value of param ``pid`` (None: absent, or not an int ncnn reads as written)."""
    if ll is not None:
        return _int_value(ll.param(pid))
    p = node.attrs.get(pid)
    try:
        v = p.value if p is not None else None
    except ValueError:  # text the reader kept but cannot decode: NCNN018 reports it
        return None
    return v if isinstance(v, int) else None


def _check_weight_size(f: NcnnFile, node: Node, ll: LayerLine | None, entry: dict) -> Iterator[Diagnostic]:
    """weight_data_size must be a multiple of what one input element needs, as ncnn's load_param checks:
    num_output x kernel (Convolution/Deconvolution/InnerProduct), hidden x gates x directions (RNN/LSTM/GRU)."""
    t = node.op_type
    if not t.startswith(_WEIGHTED) and t not in _GATES:
        return
    ids = {spec.get("name"): int(k) for k, spec in entry.get("params", {}).items()}
    if t in _GATES:  # num_output 0, weight_data_size 1, direction 2, hidden_size 3 (LSTM)
        ids = {"num_output": 0, "weight_data_size": 1}
    if "weight_data_size" not in ids or "num_output" not in ids:
        return
    wds = _int_param(node, ll, ids["weight_data_size"])
    factor = _int_param(node, ll, ids["num_output"])
    if wds is None or factor is None or wds <= 0 or factor <= 0:
        return  # missing or not positive: NCNN021 says so
    if t in _GATES:
        hidden = _int_param(node, ll, 3) if t == "LSTM" else None
        factor = (hidden if hidden is not None and hidden > 0 else factor) * _GATES[t]
        factor *= 2 if _int_param(node, ll, 2) == 2 else 1
    kw = _int_param(node, ll, ids["kernel_w"]) if "kernel_w" in ids else None
    if kw is not None:
        kernel = [kw]
        for name in ("kernel_h", "kernel_d"):
            if name in ids:
                v = _int_param(node, ll, ids[name])
                kernel.append(kw if v is None else v)
        for k in kernel:
            if k <= 0:
                return
            factor *= k
    if wds % factor:
        tok = ll.param(ids["weight_data_size"]) if ll is not None else None
        what = "hidden x gates x directions" if t in _GATES else "num_output x kernel"
        yield f.at(NCNN021, node, tok, f"{t} weight_data_size {wds} is not a multiple of {what} ({factor}); "
                   "ncnn's load_param fails")
