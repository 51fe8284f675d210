"""Read ncnn text ``.param`` files into a :class:`~modelfile.graph.Graph`.

Plain lines (ASCII, single-space separated, no quotes or tabs) take a fast
``str.split`` path; every other line, and every line that fails, is parsed by
the Lark grammar ``grammars/ncnn_param.lark``, which also produces the error
positions (Lark is imported on the first such line only).
``tests/formats/ncnn/test_ncnn_grammar.py`` checks that both paths agree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from operator import attrgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..._grammars import grammar_text
from ...errors import ModelfileError
from ...gcpause import paused_gc
from ...graph import Graph, Node, SourcePos, Value, build_node
from .params import Param

if TYPE_CHECKING:
    from lark import Lark, Token, UnexpectedInput

__all__ = ["LineMemo", "LineSource", "NcnnDocument", "line_memo", "parse_layer_line", "read_text", "signature"]

MAGIC = "7767517"
#: ncnn reads names with "%255s": longer tokens are split and misparsed.
MAX_TOKEN = 255
#: ncnn's Net::load_param refuses larger layer or blob counts ("invalid layer_count or blob_count")
MAX_COUNT = 1_000_000
_UNUSUAL = re.compile(r'["\t\r\v\f\x1c-\x1f]')


@dataclass(slots=True)
class LineSource:
    """Where an ncnn layer came from: its raw line (with line ending) and a snapshot.

    The writer emits ``raw`` unchanged while :func:`signature` of the node still
    equals ``sig``.
    """

    lineno: int
    raw: str
    prefix: str
    sig: tuple[Any, ...]


@dataclass(slots=True)
class NcnnDocument:
    """File-level details of a text ``.param`` kept for a lossless write."""

    path: str
    magic_raw: str
    counts_raw: str
    declared_layers: int
    declared_blobs: int
    blobs_at_load: int
    trailing: str
    newline: str
    lines: list[str] = field(default_factory=list)
    #: (line, column, message) for count problems found in lenient mode
    problems: list[tuple[int, int, str, str]] = field(default_factory=list)
    #: layers read (differs from ``declared_layers`` only in lenient mode); -1: unknown
    layers_at_load: int = -1
    #: write the true counts instead of the file's own (``lint --fix``)
    true_counts: bool = False


_NAME = attrgetter("name")


def signature(node: Node) -> tuple[Any, ...]:
    """What a layer line is rendered from; a change means the line must be re-rendered."""
    # (the writer and lint compute this for every layer: map() over the port tuples runs in C)
    ins = node._inputs
    return (
        node.op_type,
        node.name,
        tuple(map(_NAME, ins)) if None not in ins else tuple(v.name if v is not None else "" for v in ins),
        tuple(map(_NAME, node._outputs)),
        tuple(node.attrs.values()),
    )


# -- the grammar (slow path) ------------------------------------------------

_to_line: Any = None


def _transformer() -> Any:
    """The tree-to-tuple transformer (lark, like the grammar, is imported only when a line needs it)."""
    global _to_line
    if _to_line is None:
        from lark import Token, Transformer

        class _ToLine(Transformer):  # type: ignore[type-arg]
            def layer_line(self, items: list[Any]) -> tuple[Any, ...]:
                t, n, nb, nt, *rest = items
                names = [x for x in rest if isinstance(x, Token)]
                params = [x for x in rest if isinstance(x, tuple)]
                cols = [(x.column if isinstance(x, Token) else 0) for x in names]
                return (str(t), str(n), int(nb), int(nt), [str(x) for x in names], params, cols,
                        (t.column, n.column, nb.column, nt.column))

            def blob(self, items: list[Token]) -> Token:
                return items[0]

            def param(self, items: list[Any]) -> tuple[str, str, int]:
                key, value = items
                return (str(key)[:-1], value, key.column)

            def quoted(self, items: list[Token]) -> str:
                return str(items[0])

            def elems(self, items: list[Token]) -> str:
                return ",".join(str(x) for x in items)  # filled in from the source text below

        _to_line = _ToLine()
    return _to_line


_parsers: dict[str, Lark] = {}


def _parser(start: str) -> Lark:
    p = _parsers.get(start)
    if p is None:
        from lark import Lark

        p = Lark(grammar_text("ncnn_param.lark"), parser="lalr", lexer="contextual", start=start,
                 propagate_positions=False, maybe_placeholders=False)
        _parsers[start] = p
    return p


def _grammar_error(e: UnexpectedInput, path: str, lineno: int, line: str, what: str) -> ModelfileError:
    col = getattr(e, "column", 0) or 1
    tok = getattr(e, "token", None)
    if tok is not None and getattr(tok, "type", "") == "$END":
        col = len(line.rstrip("\r\n")) + 1
        msg = f"{what} ends too early"
    elif tok is not None:
        expected = sorted(getattr(e, "expected", []) or [])
        pretty = {"INT": "a number", "TOKEN": "a name", "KEY": "key=value", "ELEM": "a value",
                  "QUOTED": "a quoted string", "MAGIC": "7767517"}
        exp = " or ".join(dict.fromkeys(pretty.get(x, x) for x in expected if x in pretty)) or "something else"
        msg = f"unexpected {str(tok)[:40]!r} in {what}, expected {exp}"
    else:
        ch = line[col - 1:col] if 0 < col <= len(line) else ""
        msg = f"unexpected character {ch!r} in {what}"
    return ModelfileError(msg, code="NCNN-SYNTAX", file=path, line=lineno, column=col, source_line=line)


def parse_layer_line(line: str, path: str = "", lineno: int = 0) -> tuple[Any, ...]:
    """Parse one layer line with the grammar.

    Returns ``(type, name, nbottom, ntop, names, params, name_columns, head_columns)``
    where ``params`` is a list of ``(key_text, value_text, column)``.
    """
    from lark import UnexpectedInput

    try:
        tree = _parser("layer_line").parse(line)
    except UnexpectedInput as e:
        raise _grammar_error(e, path, lineno, line, "layer line") from None
    result = _transformer().transform(tree)
    # Value texts come from the source so that separators are kept exactly.
    params = []
    spans = [m for m in re.finditer(r"(?<![^\s])([-+]?[0-9]+)=", line)]
    starts = {m.start() + 1: m for m in spans}
    for key, _value, col in result[5]:
        m = starts.get(col)
        if m is None:  # the lexer split a glued token such as "1-23300=": ncnn would not
            raise ModelfileError(f"missing space before {key}=", code="NCNN-SYNTAX", file=path, line=lineno,
                                 column=col, source_line=line)
        end = _value_end(line, m.end())
        params.append((key, line[m.end():end], col))
    return result[:5] + (params,) + result[6:]


def _value_end(line: str, start: int) -> int:
    i = start
    if i < len(line) and line[i] == '"':
        j = line.find('"', i + 1)
        i = j + 1 if j >= 0 else len(line)
    while i < len(line) and line[i] not in " \t\r\n\v\f":
        i += 1
    return i


# -- the reader ----------------------------------------------------------------

def _decode(data: bytes, path: str) -> str:
    if not data.strip():
        raise ModelfileError("empty file: expected the ncnn magic number 7767517", code="NCNN-EMPTY",
                             file=path, line=1, column=1)
    if b"\x00" in data[:4096]:
        off = data.index(b"\x00")
        line = data.count(b"\n", 0, off) + 1
        col = off - (data.rfind(b"\n", 0, off) + 1) + 1
        raise ModelfileError("binary data, not a text .param file", code="NCNN-BINARY", file=path,
                             line=line, column=col)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        col = e.start - (data.rfind(b"\n", 0, e.start) + 1) + 1
        raise ModelfileError(f"not UTF-8 text (byte 0x{data[e.start]:02x})", code="NCNN-ENCODING",
                             file=path, line=line, column=col) from None


def _is_pnnx_ir(lines: list[str]) -> bool:
    for ln in lines[2:8]:
        toks = ln.split()
        if not toks:
            continue
        if toks[0].startswith(("pnnx.", "nn.", "F.", "torch.", "Tensor.")) and any(
            t[:1] in "@#$" or re.match(r"[A-Za-z_]\w*=", t) for t in toks[4:]
        ):
            return True
        if toks[0] == "pnnx.Input" or any(t.startswith(("@", "#")) and "=" in t for t in toks[4:]):
            return True
    return False


#: raw layer line (with its line ending) -> the :func:`signature` the reader makes of it
LineMemo = dict[str, tuple[Any, ...]]


def line_memo(graph: Graph) -> LineMemo:
    """What the reader made of each layer line ``graph`` was read from: ``{raw line: signature}``.

    Every :class:`LineSource` holds a raw line and the signature the reader parsed from exactly
    that text (a snapshot, whatever edits did to the node since), and a layer line parses the
    same wherever it stands: passed to :func:`read_text` as ``memo``, the lines of another file
    with the same text are not parsed again (the save gate's re-read of a staged file, whose
    untouched lines are the source's, byte for byte).
    """
    memo: LineMemo = {}
    for node in graph.nodes:
        src = node.source
        if isinstance(src, LineSource):
            memo[src.raw] = src.sig
    return memo


def read_text(text: str, path: str = "", *, strict: bool = True,
              memo: LineMemo | None = None) -> tuple[Graph, NcnnDocument]:
    """Parse a whole text ``.param``.

    ``strict`` refuses a declared layer count larger than the layers present
    (ncnn fails to load such a file); without it the problem is recorded in
    ``NcnnDocument.problems`` and all present layers are read. ``memo`` (:func:`line_memo`):
    layer lines already parsed, by their exact text; the result is the same as without it.
    """
    # The graph is a few objects per line and holds no cycles the collector
    # needs to find while we build it; collection passes would make loading superlinear.
    with paused_gc():
        return _read_text(text, path, strict, memo)


def _read_text(text: str, path: str, strict: bool, memo: LineMemo | None = None) -> tuple[Graph, NcnnDocument]:
    pieces = text.split("\n")
    # raw lines with their '\n' (the last piece has none: '' when the file ended with one)
    raw = [p + "\n" for p in pieces[:-1]]
    if pieces[-1]:
        raw.append(pieces[-1])
    newline = "\r\n" if raw and raw[0].endswith("\r\n") else "\n"
    if _is_pnnx_ir(raw):
        raise ModelfileError(
            "this is a pnnx .pnnx.param file (PyTorch-level IR), not an ncnn param; "
            "use the .ncnn.param that pnnx wrote next to it",
            code="NCNN-PNNX-IR", file=path, line=3, column=1, source_line=raw[2] if len(raw) > 2 else None)

    i = 0
    # blank lines before the header are tolerated by ncnn's scanf
    while i < len(raw) and not raw[i].strip():
        i += 1
    if i >= len(raw):
        raise ModelfileError("empty file: expected the ncnn magic number 7767517", code="NCNN-EMPTY",
                             file=path, line=1, column=1)
    magic_line = raw[i]
    mtoks = magic_line.split()
    if mtoks != [MAGIC]:
        col = len(magic_line) - len(magic_line.lstrip()) + 1
        got = mtoks[0][:20] if mtoks else ""
        hint = " (param is too old or not an ncnn file)" if got.lstrip("-").isdigit() else ""
        raise ModelfileError(f"expected magic number 7767517, found {got!r}{hint}", code="NCNN-MAGIC",
                             file=path, line=i + 1, column=col, source_line=magic_line)
    magic_raw = "".join(raw[: i + 1])
    i += 1
    start_counts = i
    while i < len(raw) and not raw[i].strip():
        i += 1
    if i >= len(raw):
        raise ModelfileError("missing the line with layer and blob counts", code="NCNN-COUNTS",
                             file=path, line=i + 1 if i < len(raw) else len(raw) + 1, column=1)
    counts_line = raw[i]
    ctoks = counts_line.split()
    counts_lineno = i + 1
    bad = None
    if len(ctoks) != 2:
        bad = (1, f"expected two counts 'layer_count blob_count', found {len(ctoks)} fields")
    else:
        for k, t in enumerate(ctoks):
            col = counts_line.index(t) + 1 if k == 0 else counts_line.index(t, counts_line.index(ctoks[0]) + len(ctoks[0])) + 1
            if not re.fullmatch(r"[+-]?[0-9]+", t):
                bad = (col, f"bad number {t[:20]!r} in the counts line")
                break
            if int(t) <= 0:
                bad = (col, f"{'layer' if k == 0 else 'blob'} count must be > 0, found {t}")
                break
            if int(t) > MAX_COUNT:
                bad = (col, f"{'layer' if k == 0 else 'blob'} count {t} is more than ncnn accepts ({MAX_COUNT}): "
                            "'invalid layer_count or blob_count'")
                break
    if bad:
        raise ModelfileError(bad[1], code="NCNN-COUNTS", file=path, line=counts_lineno, column=bad[0],
                             source_line=counts_line)
    declared_layers, declared_blobs = int(ctoks[0]), int(ctoks[1])
    counts_raw = "".join(raw[start_counts: i + 1])
    i += 1

    graph = Graph(name=Path(path).name if path else "")
    blobs: dict[str, Value] = {}
    nodes = graph.nodes
    inputs = graph.inputs
    prefix_start = i
    fast_ok = _UNUSUAL.search
    problems: list[tuple[int, int, str, str]] = []
    shadowed = 0
    while len(nodes) < declared_layers:
        if i >= len(raw):
            msg = (f"the counts line declares {declared_layers} layers but the file has {len(nodes)}; "
                   "ncnn fails with 'parse layer_type failed'")
            if strict:
                raise ModelfileError(msg, code="NCNN-LAYER-COUNT", file=path, line=counts_lineno,
                                     column=counts_line.index(ctoks[0]) + 1, source_line=counts_line)
            problems.append((counts_lineno, counts_line.index(ctoks[0]) + 1, "NCNN-LAYER-COUNT", msg))
            break
        line = raw[i]
        lineno = i + 1
        if memo is not None and (known := memo.get(line)) is not None:
            # a line read before: its signature is what parsing it gives (see line_memo)
            op_type, name, ins, outs, pvals = sig = known
            attrs = {p.id: p for p in pvals}
        else:
            body = line[:-1] if line.endswith("\n") else line
            if body.endswith("\r"):
                body = body[:-1]
            if not body.strip():
                i += 1
                continue
            if body.isascii() and fast_ok(body) is None:
                toks = body.split()
                try:
                    nb = int(toks[2])
                    nt = int(toks[3])
                except (IndexError, ValueError):
                    toks = None  # let the grammar explain
                if toks is not None:
                    end = 4 + nb + nt
                    ptoks = toks[end:]
                    if nb < 0 or nt < 0 or len(toks) < end or "=" in "".join(toks[4:end]) \
                            or (len(body) > MAX_TOKEN and any(len(t) > MAX_TOKEN for t in toks[:end])):
                        toks = None
                    else:
                        params: list[tuple[str, str]] = []
                        for pt in ptoks:
                            k, sep, v = pt.partition("=")
                            if not sep or not k or not (k.isdigit() or (k[0] in "+-" and k[1:].isdigit())):
                                toks = None
                                break
                            params.append((k, v))
                if toks is not None:
                    op_type, name = toks[0], toks[1]
                    names = toks[4:end]
                else:
                    op_type, name, nb, nt, names, params = _slow(body, path, lineno)
            else:
                op_type, name, nb, nt, names, params = _slow(body, path, lineno)

            ins = names[:nb]
            outs = names[nb:]
            attrs = {}
            for k, v in params:
                p = Param.parse(k, v)
                attrs[p.id] = p
            # the same tuple signature() builds, from the names we already hold
            sig = (op_type, name, tuple(ins), tuple(outs), tuple(attrs.values()))
        # bottoms before tops: a layer reading a name it also writes reads the earlier blob
        invals = []
        for bn in ins:
            v = blobs.get(bn)
            if v is None:
                v = Value(bn)
                blobs[bn] = v
            invals.append(v)
        node = build_node(op_type, name, attrs, None, [(tn, None, None, ()) for tn in outs],
                          LineSource(lineno, line, "".join(raw[prefix_start:i]) if prefix_start < i else "", sig),
                          graph)
        node.pos = SourcePos(path, lineno, 1)
        if invals:
            node.set_inputs(invals)
        for v in node.outputs:
            if blobs.setdefault(v.name, v) is not v:
                shadowed += 1  # a top named like an earlier blob: a value of its own, not in blobs
        if op_type == "Input":
            inputs.extend(node.outputs)
        nodes.append(node)
        i += 1
        prefix_start = i

    trailing = "".join(raw[prefix_start:])
    n_values = len(blobs) + shadowed  # every value made above (each is some layer's bottom or top)
    doc = NcnnDocument(path, magic_raw, counts_raw, declared_layers, declared_blobs, n_values,
                       trailing, newline, problems=problems, layers_at_load=len(nodes))
    doc.lines = raw
    graph.source = doc
    return graph, doc


def _slow(body: str, path: str, lineno: int) -> tuple[str, str, int, int, list[str], list[tuple[str, str]]]:
    op_type, name, nb, nt, names, params, name_cols, head_cols = parse_layer_line(body, path, lineno)
    if nb < 0 or nt < 0:
        col = head_cols[2] if nb < 0 else head_cols[3]
        raise ModelfileError("negative blob count", code="NCNN-SYNTAX", file=path, line=lineno,
                             column=col, source_line=body)
    if len(names) != nb + nt:
        if len(names) < nb + nt:
            col = params[0][2] if params else len(body.rstrip()) + 1
            msg = (f"layer {name!r} declares {nb} bottom and {nt} top blobs but lists "
                   f"{len(names)} name{'s' if len(names) != 1 else ''}")
        else:
            col = name_cols[nb + nt]
            msg = (f"layer {name!r} declares {nb} bottom and {nt} top blobs but lists {len(names)} names; "
                   f"{names[nb + nt][:40]!r} is not key=value")
        raise ModelfileError(msg, code="NCNN-SYNTAX", file=path, line=lineno, column=col, source_line=body)
    for tok, col in zip([op_type, name, *names], [head_cols[0], head_cols[1], *name_cols]):
        if len(tok) > MAX_TOKEN:
            raise ModelfileError(f"name longer than {MAX_TOKEN} characters ({len(tok)}); ncnn would split it",
                                 code="NCNN-LONG-NAME", file=path, line=lineno, column=col,
                                 source_line=body)
    return op_type, name, nb, nt, names, [(k, v) for k, v, _c in params]


def read_path(path: Path, *, strict: bool = True, memo: LineMemo | None = None) -> tuple[Graph, NcnnDocument]:
    """Read and parse a text ``.param`` file (``memo``: see :func:`read_text`)."""
    try:
        data = path.read_bytes()
    except OSError as e:
        raise ModelfileError(f"cannot read: {e.strerror}", file=str(path)) from None
    return read_text(_decode(data, str(path)), str(path), strict=strict, memo=memo)
