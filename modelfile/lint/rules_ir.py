"""OpenVINO IR ``.xml`` rules: edges, reachability, tensor names, state, weights, opsets.

IR lint reads the XML directly with a safe lxml parser (no DTD, no entities,
no network) rather than through the IR reader, because it must also work on
files the reader refuses: edges to missing layers, missing ports and so on.
Each ``<body>``/``<then_body>``/``<else_body>`` is checked as its own graph
(its own id space). Facts: ``shared/docs/openvino-ir.md`` §2, §6, §8.
"""

from __future__ import annotations

import functools
import math
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # lxml is imported when an IR is linted, not on every command's start
    from lxml import etree

from ..errors import Diagnostic
from ..gcpause import paused_gc
from .rules import Rule, rule

__all__ = ["IrFile", "KNOWN_OPSETS", "check_ir", "read_ir"]

IR000 = rule("IR000", "ir-syntax", "error",
             "The .xml cannot be read as an OpenVINO IR (XML error, DOCTYPE, not <net>).",
             "fix the XML at the position shown")
IR001 = rule("IR001", "edge-missing-layer", "error",
             "An edge names a layer id that does not exist in its graph.",
             "point the edge at an existing layer id or remove it")
IR002 = rule("IR002", "edge-missing-port", "error",
             "An edge names a port the layer does not declare: 'Can not find input port with id X'.",
             "from-port must be an <output> port id of the source, to-port an <input> port id of the target")
IR003 = rule("IR003", "dangling-layer", "warning",
             "A layer no Result or Assign depends on; OpenVINO silently drops it when reading.",
             "remove it (and its Const bytes), or connect it to a Result")
IR004 = rule("IR004", "duplicate-tensor-name", "warning",
             "Two output ports carry the same tensor name; OpenVINO renames the later one with a suffix.",
             "give each tensor its own name")
IR005 = rule("IR005", "assign-without-readvalue", "error",
             "An Assign whose variable_id no ReadValue has; OpenVINO fails with std::map::at out_of_range.",
             "add the ReadValue with the same variable_id, or remove the Assign")
IR006 = rule("IR006", "const-outside-bin", "error",
             "A Const whose offset+size lies outside the .bin, or whose size is too small for its shape.",
             "the .bin does not belong to this .xml, or the Const's offset/size are wrong")
IR007 = rule("IR007", "unknown-opset", "error",
             "A layer version that is not an OpenVINO opset (opset1..opset17, experimental, extension).",
             "'Cannot create ... from unsupported opset': use a newer runtime or load the extension")
IR008 = rule("IR008", "missing-bin", "warning",
             "Const layers need weights but the .bin next to the .xml is missing or a git-lfs pointer.",
             "put the .bin next to the .xml (git lfs pull)")
IR009 = rule("IR009", "unconnected-input", "error",
             "An input port no edge feeds: OpenVINO fails with 'layer ... is inconsistent'.",
             "add the edge, or remove the port")
IR010 = rule("IR010", "duplicate-layer-id", "error",
             "Two layers with the same id in one graph; edges reach only one of them and the model is mis-wired.",
             "give every layer a unique id")
IR011 = rule("IR011", "ir-version", "error",
             "<net version> is not 10 or 11; OpenVINO's IR frontend does not claim the file.",
             "write version=\"11\"")
IR012 = rule("IR012", "input-port-multiple-edges", "error",
             "Several edges feed the same input port: OpenVINO fails ('has incorrect input'); older versions "
             "silently kept the last.",
             "keep one edge per input port")
IR013 = rule("IR013", "v10-io-name-collision", "error",
             "In a v10 IR two inputs/outputs share a name, counting the names read_model derives from layers "
             "(Parameter name; producing layer name for a Result): 'Model tensor names have collisions'.",
             "rename one of the layers or tensors (modelfile rename), or save as v11")
IR101 = rule("IR101", "ir-bin-surplus", "warning",
             "The .bin is longer than its Consts need: bytes after the last Const's data that nothing reads "
             "(the .bin belongs to another version of the .xml, or was padded).",
             "check that the .xml and the .bin come from the same save")
IR014 = rule("IR014", "bad-shape", "error",
             "A shape OpenVINO cannot parse: a Parameter/Const shape that is not a list of dims, a <dim> that is "
             "not an integer >= -1.",
             "write dims as integers (-1 or ? for dynamic in a shape attribute, -1 in <dim>)")
IR015 = rule("IR015", "bad-element-type", "error",
             "An element_type or port precision OpenVINO does not know ('is not a member of enum element::Type_t').",
             "use f32, f16, i64, i32, u8, boolean... (precision: FP32, FP16, I64...)")
IR016 = rule("IR016", "missing-attribute", "error",
             "A mandatory attribute is missing or empty: layer id/type/version, port id, edge ends, Const "
             "offset/size/shape/element_type.",
             "add the attribute; OpenVINO says 'missing mandatory attribute'")
IR017 = rule("IR017", "cycle", "error",
             "The edges form a cycle (or a layer feeds itself): OpenVINO fails ('Attempt to access node ... that "
             "not in graph').",
             "break the cycle; recurrence belongs in a TensorIterator/Loop body with back edges")
IR018 = rule("IR018", "missing-body", "error",
             "A TensorIterator/Loop without <body>, or an If without <then_body>/<else_body>: OpenVINO fails "
             "('TensorIterator has no body').",
             "add the body graph, or replace the layer")
IR019 = rule("IR019", "duplicate-port-id", "error",
             "Two input ports or two output ports of one layer share an id: edges reach only one of them "
             "(OpenVINO: 'node index is out of range').",
             "give every port of a layer its own id")
IR020 = rule("IR020", "openvino-refuses", "error",
             "OpenVINO's read_model refuses the file (shape inference, op attributes...); checked when OpenVINO "
             "is installed and no other rule found an error.",
             "fix what OpenVINO's message names")
IR021 = rule("IR021", "modelfile-refuses", "error",
             "modelfile's IR reader refuses the file for a reason no other rule reports, so no modelfile command "
             "can open it.",
             "fix what the message names")

#: opset names the IR frontend resolves (2026.4 ships opset1..opset17)
KNOWN_OPSETS = frozenset({f"opset{i}" for i in range(1, 18)} | {"experimental", "extension"})

_BITS = {
    "f64": 64, "f32": 32, "f16": 16, "bf16": 16, "f8e4m3": 8, "f8e5m2": 8, "f8e8m0": 8, "f4e2m1": 4,
    "i64": 64, "i32": 32, "i16": 16, "i8": 8, "i4": 4, "u64": 64, "u32": 32, "u16": 16, "u8": 8, "u4": 4,
    "u3": 3, "u6": 6, "u2": 2, "u1": 1, "nf4": 4, "boolean": 8,
}
_PRECISION = {"fp64": "f64", "fp32": "f32", "fp16": "f16", "bin": "u1", "bool": "boolean"}
_LFS = b"version https://git-lfs.github.com/spec/"


@dataclass
class IrFile:
    """A parsed IR: the root element and the text (its lines, for columns, are split on first use)."""

    path: str
    root: etree._Element
    text: str
    bin_path: Path | None = None
    #: why modelfile's own reader refused the file, if it did (reported as IR021 when nothing else is)
    load_error: Any = None
    _same_line: dict[tuple[str, int], list[etree._Element]] = field(default_factory=dict)
    _lines: list[str] | None = None
    _scan: tuple[bool, bool] | None = None

    @property
    def scan_dims(self) -> bool:
        """Whether the rules must look at each ``<dim>`` (the text does not already show them all sound)."""
        if self._scan is None:
            self._scan = (not _all_dims_clean(self.text), not _all_precisions_known(self.text))
        return self._scan[0]

    @property
    def scan_precisions(self) -> bool:
        """Whether the rules must look at each port ``precision`` (see :attr:`scan_dims`)."""
        self.scan_dims  # noqa: B018  (computes both)
        assert self._scan is not None
        return self._scan[1]

    @property
    def lines(self) -> list[str]:
        if self._lines is None:
            self._lines = self.text.splitlines()
        return self._lines

    def pos(self, el: etree._Element, attr: str | None = None) -> tuple[int, int]:
        """``(line, column)`` of ``el`` (of its ``attr="`` when given)."""
        line = el.sourceline or 0
        if not 0 < line <= len(self.lines):
            return line, 1 if line else 0
        text = self.lines[line - 1]
        tag = el.tag if isinstance(el.tag, str) else ""
        if not self._same_line:
            for e in self.root.iter():
                if isinstance(e.tag, str):
                    self._same_line.setdefault((e.tag, e.sourceline or 0), []).append(e)
        # several <port> on one line: the k-th element of that tag on the line is the k-th "<tag"
        siblings = self._same_line.get((tag, line), [el])
        k = next((i for i, e in enumerate(siblings) if e is el), 0)
        start = -1
        for _ in range(k + 1):
            start = text.find(f"<{tag}", start + 1)
            while start >= 0 and not re.match(r"[\s/>]", text[start + len(tag) + 1:start + len(tag) + 2] or ">"):
                start = text.find(f"<{tag}", start + 1)  # <port must not match <ports
            if start < 0:
                return line, 1
        if attr:
            m = re.compile(rf"\s{re.escape(attr)}\s*=").search(text, start)
            if m:
                return line, m.start() + 2
        return line, start + 1

    def at(self, r: Rule, el: etree._Element, message: str, attr: str | None = None, *,
           hint: str | None = None) -> Diagnostic:
        line, col = self.pos(el, attr)
        return r.diag(message, self.path, line, col, hint=hint)


class IrUnreadable(Exception):
    """The file is not an IR we can lint: carries the IR000 finding."""

    def __init__(self, diag: Diagnostic) -> None:
        super().__init__(diag.message)
        self.diagnostic = diag


def _parse(xml: bytes) -> etree._Element:
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=True,
                             remove_comments=False, encoding="utf-8")
    return etree.fromstring(xml, parser)


class ParseAhead:
    """The lxml tree of an IR file, parsed in a thread while the caller does something else (the save gate:
    its re-read). lxml parses without holding the GIL, so on a second core this costs the caller nothing."""

    def __init__(self, path: Path, data: bytes | None = None) -> None:
        self._result: tuple[str, etree._Element] | None = None
        self._thread = threading.Thread(target=self._run, args=(Path(path), data), name="modelfile-lint-parse",
                                        daemon=True)
        self._thread.start()

    def _run(self, path: Path, data: bytes | None) -> None:
        from ..formats.openvino.reader import _decode

        try:
            raw = path.read_bytes() if data is None else data
            text, enc = _decode(raw, str(path))
            # the reader's text of UTF-8 bytes encodes back to the same bytes: parse them as they are
            self._result = (text, _parse(raw if enc == "utf-8" else text.encode("utf-8")))
        except Exception:  # anything odd: read_ir parses (and reports) it the usual way
            self._result = None

    def tree(self, text: str) -> etree._Element | None:
        """The tree, if it was parsed from ``text`` (the reader's decoded text of the file)."""
        self._thread.join()
        if self._result is None or self._result[0] != text:
            return None
        return self._result[1]


#: files from this size on are parsed by lxml in a thread while modelfile's reader reads them
_AHEAD_BYTES = 1 << 20


def parse_ahead(path: Path) -> ParseAhead:
    """Start parsing ``path``'s XML in a thread; give the result to :func:`read_ir` as ``parsed``."""
    return ParseAhead(path)


def _tree_ahead(parsed: "ParseAhead | None", text: str) -> etree._Element | None:
    return parsed.tree(text) if parsed is not None else None


def _document_of(preread: Any, path: Path) -> Any:
    """The reader's document of ``preread`` when it is a model read from ``path`` (else None)."""
    if preread is None:
        return None
    from ..formats.openvino.api import document

    doc = document(preread)
    if doc is None or doc.path is None or Path(doc.path) != Path(path):
        return None
    return doc


def read_ir(path: Path, data: bytes | None = None, *, preread: Any = None, parsed: "ParseAhead | None" = None,
            ) -> IrFile:
    """Parse ``path`` safely; raise :class:`IrUnreadable` with an IR000 finding when it cannot be read.

    The file goes through modelfile's own IR reader first, so that lint and every other command agree on
    what is well-formed XML (the reader's XML errors are IR000 here, at the reader's position); its other
    refusals are kept in :attr:`IrFile.load_error` (rule IR021). The rules then look at an lxml tree of the
    same decoded text (lxml is told the encoding, so a declaration only the reader knows is no error).

    ``preread``: a model modelfile's reader already read from this very file (the save gate's re-read);
    when the file still holds the bytes it was read from, its decoded text is used and the reader is not
    run again (it accepted the file: no IR021).
    ``parsed``: :func:`parse_ahead` of the file, started before; its tree is used when it is of the same text.
    """
    from ..errors import ModelfileError
    from ..formats.openvino.reader import XML_ERROR, read_bytes

    p = str(path)
    load_error: ModelfileError | None = None
    text0: str | None = None
    doc = _document_of(preread, path)
    if doc is not None:
        if data is None:
            data = path.read_bytes()
        if doc.raw != data:  # the file changed since, or the model was read from other text: read the file
            doc = None
    if doc is not None:
        text0 = doc.text
    else:
        if data is None:
            data = path.read_bytes()
        if data.startswith(_LFS):
            raise IrUnreadable(IR000.diag("this is a git-lfs pointer, not the model (run git lfs pull)", p, 1, 1))
        if not data or data.isspace():
            raise IrUnreadable(IR000.diag("empty file", p, 1, 1))
        if parsed is None and len(data) >= _AHEAD_BYTES:
            parsed = ParseAhead(path, data)  # lxml parses on another core while the reader runs
        try:
            text0 = read_bytes(data, path, check_weights=False)[1].text
        except ModelfileError as e:
            d = e.diagnostic
            if d.code == XML_ERROR:
                raise IrUnreadable(IR000.diag(d.message, p, d.line or 1, d.column or 1)) from None
            load_error = e
    if text0 is None:
        from ..formats.openvino.reader import _decode

        assert data is not None
        try:
            text0, _enc = _decode(data, p)
        except ModelfileError as e:  # pragma: no cover - the reader above raised it already
            d = e.diagnostic
            raise IrUnreadable(IR000.diag(d.message, p, d.line or 1, d.column or 1)) from None
    from lxml import etree

    root = _tree_ahead(parsed, text0)
    try:
        if root is None:
            root = _parse(text0.encode("utf-8"))
    except etree.XMLSyntaxError as e:
        line, col = (e.position if e.position else (1, 1))
        raise IrUnreadable(IR000.diag(f"XML error: {e.msg}", p, line or 1, col or 1)) from None
    if root.getroottree().docinfo.doctype:
        raise IrUnreadable(IR000.diag("a DOCTYPE is not allowed in an IR (refused for safety)", p, 1, 1))
    if not isinstance(root.tag, str) or root.tag.lower() != "net":
        raise IrUnreadable(IR000.diag(f"root element is <{root.tag}>, not <net>: not an OpenVINO IR", p,
                                      root.sourceline or 1, 1))
    bin_path = path.with_suffix(".bin")
    return IrFile(p, root, text0, bin_path, load_error=load_error)


_BODY_ORDER = {"body": 0, "then_body": 1, "else_body": 2}


#: the children of a <layer> the rules read (only the first of each counts, as OpenVINO reads it)
_LAYER_PARTS = ("data", "input", "output")


def _first_children(el: etree._Element, tags: tuple[str, ...]) -> dict[str, etree._Element]:
    """The first child of ``el`` with each of ``tags`` (comments have a non-str tag, which equals no name)."""
    first: dict[str, etree._Element] = {}
    for c in el:
        tag = c.tag
        if tag in tags and tag not in first:
            first[tag] = c
    return first


class _Layer:
    """One ``<layer>`` and what the rules look at in it, found in one pass over its children.

    Only the first ``<input>``/``<output>``/``<data>`` counts (as OpenVINO reads it); ``bodies`` are all
    ``<body>``, then all ``<then_body>``, then all ``<else_body>`` children.
    """

    __slots__ = ("el", "id", "t", "data", "ins", "outs", "bodies")

    def __init__(self, el: etree._Element) -> None:
        self.el = el
        self.id = el.get("id", "")
        self.t = (el.get("type") or "").lower()
        first = _first_children(el, _LAYER_PARTS)
        data, inp, out = first.get("data"), first.get("input"), first.get("output")
        bodies = [c for c in el if c.tag in _BODY_ORDER] if len(first) < len(el) else None
        self.data: etree._Element | None = data
        self.ins: list[etree._Element] = [p for p in inp if p.tag == "port"] if inp is not None else []
        self.outs: list[etree._Element] = [p for p in out if p.tag == "port"] if out is not None else []
        if bodies is not None and len(bodies) > 1:
            bodies.sort(key=lambda b: _BODY_ORDER[b.tag])  # stable: document order within a tag
        self.bodies: list[etree._Element] = bodies or []

    def has_body(self, tag: str) -> bool:
        return any(b.tag == tag for b in self.bodies)


class _Graph:
    """One graph (``<net>`` or a body): its layers and edges, gathered once and shared by every rule."""

    __slots__ = ("el", "has_layers", "layers", "by_id", "edges", "ends")

    def __init__(self, g: etree._Element) -> None:
        self.el = g
        first = _first_children(g, ("layers", "edges"))
        layers_el, edges_el = first.get("layers"), first.get("edges")
        self.has_layers = layers_el is not None
        self.layers = [_Layer(c) for c in layers_el if c.tag == "layer"] if layers_el is not None else []
        #: id -> layer; with a repeated id the last such layer, at the place of the first (as a dict fills)
        self.by_id: dict[str, _Layer] = {layer.id: layer for layer in self.layers}
        self.edges: list[etree._Element] = [c for c in edges_el if c.tag == "edge"] if edges_el is not None else []
        #: (from-layer, from-port, to-layer, to-port) of each edge, "" for a missing attribute
        self.ends: list[tuple[str, str, str, str]] = [
            (e.get("from-layer", ""), e.get("from-port", ""), e.get("to-layer", ""), e.get("to-port", ""))
            for e in self.edges]


def _split_names(text: str) -> list[str]:
    if "\\" not in text:  # no escaped comma: a plain split
        return [x.strip() for x in text.split(",") if x.strip()]
    items = text.split(",")
    out: list[str] = []
    for it in items:
        if out and out[-1].endswith("\\"):
            out[-1] = out[-1][:-1] + "," + it
        else:
            out.append(it)
    return [x.strip() for x in out if x.strip()]


def _graphs(root: etree._Element) -> Iterator[_Graph]:
    """The top graph (``<net>``) and every nested body, depth first, each indexed once."""
    stack = [root]
    while stack:
        g = _Graph(stack.pop())
        yield g
        for layer in g.layers:
            stack.extend(layer.bodies)


def check_ir(f: IrFile, enabled: set[str] | None = None) -> Iterator[Diagnostic]:
    """Every IR finding of ``f`` (of the ``enabled`` codes); IR021 (modelfile's reader refuses) and IR020
    (OpenVINO refuses) only when no other rule found an error, so one root cause gives one error."""
    # the rules make an index of every layer and port and none of it can be garbage until they end:
    # pausing the cyclic GC spares full collections over the whole heap (as the IR reader does)
    with paused_gc():
        out = [d for d in _check_static(f) if enabled is None or d.code in enabled]
    if f.load_error is not None and not _has_error(out) and (enabled is None or "IR021" in enabled):
        d = f.load_error.diagnostic
        out.append(IR021.diag(f"modelfile cannot load this file: {d.message}", f.path, d.line or 1, d.column or 1))
    if not _has_error(out) and (enabled is None or "IR020" in enabled):
        out.extend(_check_openvino(f))
    yield from out


def _has_error(diags: list[Diagnostic]) -> bool:
    return any(d.severity.value == "error" for d in diags)


_core: Any = None


def _check_openvino(f: IrFile) -> Iterator[Diagnostic]:
    """One IR020 finding with OpenVINO's own message when ``read_model`` refuses the file."""
    global _core
    import importlib.util

    if importlib.util.find_spec("openvino") is None:
        return
    if any(not re.fullmatch(r"opset\d+", layer.get("version") or "") for layer in f.root.iter("layer")):
        return  # extension ops: only the app that loads the extension can read the model
    has_weights = any((c.get("type") or "").lower() == "const" for c in f.root.iter("layer"))
    bin_ok = f.bin_path is not None and f.bin_path.is_file()
    if has_weights and bin_ok:
        with open(f.bin_path, "rb") as fh:  # type: ignore[arg-type]
            bin_ok = fh.read(len(_LFS)) != _LFS
    if has_weights and not bin_ok:
        return  # IR008 already says the weights are missing; read_model would only repeat it
    try:
        import openvino as ov

        if _core is None:
            _core = ov.Core()
        _core.read_model(f.path)
    except Exception as e:  # OpenVINO raises RuntimeError subclasses; any refusal is the finding
        msg = _ov_message(str(e))
        line, col = _ov_position(f, msg)
        yield IR020.diag(f"OpenVINO read_model refuses the file: {msg}", f.path, line, col)


def _ov_message(text: str) -> str:
    """The informative line of an OpenVINO exception (without 'Check ... failed at src/...cpp' noise)."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    useful = [ln for ln in lines if not re.match(r"(Exception from |Check .* failed at )", ln) and ".cpp:" not in ln]
    msg = " ".join(useful[-2:]) if useful else (lines[-1] if lines else "unknown error")
    return msg[:300]


def _ov_position(f: IrFile, msg: str) -> tuple[int, int]:
    """The line of the layer OpenVINO's message names (its name or id), else the <net> element."""
    for m in re.finditer(r"[\"'`]([^\"'`]{1,200})[\"'`]|\bid:? ?(\d+)", msg):
        key, lid = m.group(1), m.group(2)
        for layer in f.root.iter("layer"):
            if (key is not None and layer.get("name") == key) or (lid is not None and layer.get("id") == lid):
                return f.pos(layer)
    return f.pos(f.root)


def _check_static(f: IrFile) -> Iterator[Diagnostic]:
    root = f.root
    version = root.get("version")
    if version not in ("10", "11"):
        yield f.at(IR011, root, f"IR version {version!r} is not 10 or 11; OpenVINO cannot read this file",
                   "version")
    every: list[_Layer] = []
    consts: list[_Layer] = []
    top: _Graph | None = None
    for g in _graphs(root):
        if top is None:
            top = g
        yield from _check_graph(f, g)
        yield from _check_layers(f, g)
        yield from _check_cycles(f, g)
        for layer in g.layers:
            every.append(layer)
            if layer.t == "const":
                consts.append(layer)
            v = layer.el.get("version")
            if v is not None and v not in KNOWN_OPSETS:
                yield from _check_opset(f, layer.el)
    yield from _check_state(f, every)
    yield from _check_consts(f, consts)
    if version == "10" and top is not None:
        yield from _check_v10_io_names(f, top)


def _check_state(f: IrFile, layers: list[_Layer]) -> Iterator[Diagnostic]:
    """Every Assign writes a variable some ReadValue (of any graph) reads."""
    read_ids = {layer.data.get("variable_id", "") for layer in layers
                if layer.t == "readvalue" and layer.data is not None}
    for a in layers:
        if a.t != "assign":
            continue
        vid = a.data.get("variable_id", "") if a.data is not None else ""
        if vid not in read_ids:
            yield f.at(IR005, a.el, f"Assign {a.el.get('name', '')!r} writes variable {vid!r} that no ReadValue "
                       "reads; OpenVINO fails with 'map::at' out_of_range")


def _check_v10_io_names(f: IrFile, g: _Graph) -> Iterator[Diagnostic]:
    """``update_v10_model``'s checks on the top graph's inputs and outputs (see formats/openvino/ionames)."""
    from ..formats.openvino.ionames import IoEntry, name_problems

    if not g.has_layers:
        return
    layers = g.by_id
    src: dict[str, tuple[str, str]] = {}
    for fl, fp, tl, _tp in g.ends:
        src[tl] = (fl, fp)
    entries: list[IoEntry] = []
    where: dict[str, etree._Element] = {}
    for lid, layer in layers.items():
        el = layer.el
        t = layer.t
        if t == "parameter":
            ports = layer.outs
            names = tuple(_split_names(ports[0].get("names", ""))) if ports else ()
            entries.append(IoEntry("input", (lid, ports[0].get("id", "") if ports else ""), names,
                                   el.get("name", ""), el.get("name", "")))
            where[el.get("name", "")] = el
        elif t == "result" and lid in src:
            pl, pp = src[lid]
            prod = layers.get(pl)
            if prod is None:
                continue
            outs = prod.outs
            port = next((p for p in outs if p.get("id", "") == pp), None)
            names = tuple(_split_names(port.get("names", ""))) if port is not None else ()
            k = next((i for i, p in enumerate(outs) if p.get("id", "") == pp), 0)
            pname = prod.el.get("name", "")
            legacy = pname + (f".{k}" if len(outs) > 1 else "")
            entries.append(IoEntry("output", (pl, pp), names, legacy, pname))
            where.setdefault(pname, prod.el)  # the layer to rename
    for prob in name_problems(entries, 10):
        el = where.get(prob.layers[-1]) if prob.layers else None
        yield f.at(IR013, el if el is not None else f.root, prob.message)


def _check_opset(f: IrFile, layer: etree._Element) -> Iterator[Diagnostic]:
    v = layer.get("version")
    if v is None or v in KNOWN_OPSETS:
        return
    m = re.fullmatch(r"opset(\d+)", v)
    why = (f"{v} is newer than the opsets OpenVINO ships (opset1..opset17)" if m
           else f"{v!r} is not an OpenVINO opset; the runtime needs an extension that provides it")
    yield f.at(IR007, layer, f"layer {layer.get('name', '')!r} ({layer.get('type')}): {why}", "version")


def _check_graph(f: IrFile, g: _Graph) -> Iterator[Diagnostic]:
    layers = g.by_id
    if len(layers) != len(g.layers):
        first: dict[str, _Layer] = {}
        for layer in g.layers:
            lid = layer.id
            if lid in first:
                yield f.at(IR010, layer.el, f"layer id {lid} is also used by {first[lid].el.get('name', '')!r} "
                           f"(line {first[lid].el.sourceline}); edges with this id reach only one of them", "id")
            first[lid] = layer
    # (layer id, port id) -> port: the last port with an id wins, as in a dict per layer
    in_ports: dict[tuple[str, str], etree._Element] = {}
    out_ports: set[tuple[str, str]] = set()
    for lid, layer in layers.items():
        for p in layer.ins:
            in_ports[(lid, p.get("id", ""))] = p
        for p in layer.outs:
            out_ports.add((lid, p.get("id", "")))
    fed: dict[tuple[str, str], etree._Element] = {}
    producers: dict[str, set[str]] = {}
    for e, (fl, fp, tl, tp) in zip(g.edges, g.ends):
        if fl not in layers:
            yield f.at(IR001, e, f"edge {fl}:{fp} -> {tl}:{tp}: no layer with id {fl!r}; OpenVINO fails to build "
                       "the target's input", "from-layer")
        if tl not in layers:
            yield f.at(IR001, e, f"edge {fl}:{fp} -> {tl}:{tp}: no layer with id {tl!r}; OpenVINO ignores the edge, "
                       "so whatever it was meant to feed is not connected", "to-layer")
        if fl in layers and (fl, fp) not in out_ports:
            yield f.at(IR002, e, f"edge {fl}:{fp} -> {tl}:{tp}: layer {layers[fl].el.get('name', '')!r} has no "
                       f"output port {fp}", "from-port")
        if tl not in layers:
            continue
        ps = producers.get(tl)
        if ps is None:
            producers[tl] = {fl}
        else:
            ps.add(fl)
        if (tl, tp) not in in_ports:
            yield f.at(IR002, e, f"edge {fl}:{fp} -> {tl}:{tp}: layer {layers[tl].el.get('name', '')!r} has no "
                       f"input port {tp} ('Can not find input port with id {tp}')", "to-port")
            continue
        prev = fed.get((tl, tp))
        if prev is not None:
            yield f.at(IR012, e, f"input port {tp} of {layers[tl].el.get('name', '')!r} is already fed by the edge "
                       f"at line {prev.sourceline}; OpenVINO fails with 'has incorrect input'", "to-port")
        fed[(tl, tp)] = e
    if len(fed) != len(in_ports):
        for (lid, pid), port in in_ports.items():
            if (lid, pid) not in fed:
                el = layers[lid].el
                yield f.at(IR009, port, f"input port {pid} of layer {el.get('name', '')!r} "
                           f"({el.get('type')}) has no edge")
    # reachability: everything a Result or Assign depends on, plus Parameters
    roots = [lid for lid, layer in layers.items() if layer.t in ("result", "assign")]
    seen = set(roots)
    stack = list(roots)
    while stack:
        for src in producers.get(stack.pop(), ()):
            if src in layers and src not in seen:
                seen.add(src)
                stack.append(src)
    for lid, layer in layers.items():
        if lid not in seen and layer.t != "parameter":
            el = layer.el
            yield f.at(IR003, el, f"layer {el.get('name', '')!r} ({el.get('type')}, id {lid}) feeds no Result or "
                       "Assign; OpenVINO drops it when reading")
    # tensor names, per graph
    names: dict[str, tuple[str, str, etree._Element]] = {}
    for lid, layer in layers.items():
        for port in layer.outs:
            text = port.get("names")
            if not text:
                continue
            for n in _split_names(text):
                prev = names.get(n)
                if prev is None:
                    names[n] = (lid, port.get("id", ""), port)
                elif prev[:2] != (lid, port.get("id", "")):
                    yield f.at(IR004, port, f"tensor name {n!r} is also on layer "
                               f"{layers[prev[0]].el.get('name', '')!r} port {prev[1]} (line {prev[2].sourceline}); "
                               "OpenVINO renames one of them", "names")


_DIM = re.compile(r"\s*-?[0-9]+\s*")
_BODIES = {"tensoriterator": ("body",), "loop": ("body",), "if": ("then_body", "else_body")}
_TYPED = ("element_type", "destination_type")


def _canonical(precision: str) -> str:
    """The element type a port precision names (``FP32`` -> ``f32``, ``I64`` -> ``i64``, ``BOOL`` -> ``boolean``)."""
    from ..formats.openvino.names import element_type_of_precision

    return element_type_of_precision(precision)


@functools.lru_cache(maxsize=1)
def _precisions() -> frozenset[str]:
    """Port precisions OpenVINO 2026 reads (checked against it): the legacy upper-case names, every
    element type name, and the upper-case form of the integer and small-float types ("F32" and "fp32" fail)."""
    from ..formats.openvino.names import BITS, ELEMENT_TYPES

    legacy = {"FP64", "FP32", "FP16", "BF16", "BIN", "BOOL", "STRING", "UNSPECIFIED"}
    upper = {t.upper() for t in BITS if t not in ("f64", "f32", "f16", "bf16", "boolean")}
    return frozenset(legacy | upper | (ELEMENT_TYPES - {"undefined"}))


_ODD_DIM = re.compile(r"<dim>(?!(?:-1|[0-9]{1,18})</dim>)")


def _all_dims_clean(text: str) -> bool:
    """Whether every ``<dim`` in the text is ``<dim>DIGITS</dim>`` (at most 18 digits) or ``<dim>-1</dim>``,
    so no <dim> element can be bad and the rules need not look at each one. Anything else (``<dim/>``, an
    entity, a child, a ``<dim`` in a comment) says no, and every dim is checked."""
    return text.count("<dim") == text.count("<dim>") and _ODD_DIM.search(text) is None


@functools.lru_cache(maxsize=1)
def _odd_precision() -> re.Pattern[str]:
    known = "|".join(re.escape(p) for p in sorted(_precisions(), key=len, reverse=True))
    return re.compile(rf'precision="(?!(?:{known})")')


def _all_precisions_known(text: str) -> bool:
    """Whether every ``precision`` in the text is a ``precision="..."`` attribute with a known value (see
    :func:`_all_dims_clean`)."""
    attrs = sum(text.count(f'{ws}precision="') for ws in (" ", "\t", "\n", "\r"))
    return text.count("precision") == attrs and _odd_precision().search(text) is None


def _bad_dim(text: str) -> bool:
    """Whether a ``<dim>`` text is not an integer in -1 .. 2**63-1 (as OpenVINO parses it)."""
    if (len(text) < 19 and text.isdigit() and text.isascii()) or text == "-1":  # the usual cases, without a regex
        return False
    return not _DIM.fullmatch(text) or not -1 <= int(text) < 2**63


def _check_layers(f: IrFile, g: _Graph) -> Iterator[Diagnostic]:
    """Attributes, ports, dims, element types and bodies of each layer of one graph."""
    from ..formats.openvino.names import ELEMENT_TYPES, parse_shape

    precisions = _precisions()
    dims, precs = f.scan_dims, f.scan_precisions  # False: the text shows none can be bad
    for li in g.layers:
        layer = li.el
        name = layer.get("name")
        lid, typ = layer.get("id"), layer.get("type")
        if name is None or not lid or not typ or layer.get("version") is None or not lid.strip() or not typ.strip():
            name = name or ""
            for attr in ("id", "name", "type", "version"):
                v = layer.get(attr)
                if v is None or (attr in ("id", "type") and not v.strip()):
                    what = "has no" if v is None else "has an empty"
                    yield f.at(IR016, layer, f"layer {name!r} {what} {attr} attribute; OpenVINO refuses it"
                               + (" ('missing mandatory attribute')" if v is None else ""),
                               attr if v is not None else None)
        t = li.t
        for tag in _BODIES.get(t, ()):
            if not li.has_body(tag):
                yield f.at(IR018, layer, f"{layer.get('type')} {name!r} has no <{tag}>; OpenVINO fails "
                           f"('{layer.get('type')} has no body')")
        for kind, ports in (("input", li.ins), ("output", li.outs)):
            seen: dict[str, etree._Element] = {}
            for port in ports:
                pid = port.get("id")
                if pid is None or not pid.strip():
                    yield f.at(IR016, port, f"an {kind} port of {name!r} has no id")
                    continue
                if pid in seen:
                    yield f.at(IR019, port, f"{kind} port id {pid} of {name!r} is already used at line "
                               f"{seen[pid].sourceline}; edges reach only one of them", "id")
                seen[pid] = port
                if dims:
                    for dim in port:
                        if dim.tag != "dim":
                            continue
                        text = dim.text or ""
                        if _bad_dim(text):
                            yield f.at(IR014, dim, f"<dim>{text.strip()[:20]}</dim> of {name!r} port {pid} is not "
                                       "a dimension; OpenVINO needs an integer >= -1 ('-1' = dynamic)")
                if not precs:
                    continue
                prec = port.get("precision")
                if prec is not None and prec not in precisions:
                    yield f.at(IR015, port, f"precision {prec[:20]!r} of {name!r} port {pid} is not an element "
                               "type; OpenVINO fails ('Unsupported element type')", "precision")
        data = li.data
        if t == "const":
            missing = [a for a in ("element_type", "shape", "offset", "size")
                       if data is None or data.get(a) is None]
            if missing and data is not None:  # no <data> at all is IR006
                yield f.at(IR016, data, f"Const {name!r} has no {', '.join(missing)}; OpenVINO refuses it "
                           "('missing mandatory attribute')")
        if data is None:
            continue
        if t in ("parameter", "const") and data.get("shape") is not None:
            try:
                shape = parse_shape(data.get("shape", ""))
                bad = shape is not None and any(not isinstance(d, tuple) and d < -1 for d in shape)
                # a constant has a static shape: no dynamic dims, ranges or dynamic rank
                bad = bad or (t == "const" and (shape is None or any(isinstance(d, tuple) or d < 0 for d in shape)))
            except ValueError:
                bad = True
            if bad:
                what = "a static shape" if t == "const" else "a shape OpenVINO can parse"
                yield f.at(IR014, data, f"shape {data.get('shape', '')[:40]!r} of {name!r} is not {what} "
                           "('Cannot parse dimension' / 'Attribute and shape size are inconsistent')", "shape")
        for attr in _TYPED:
            et = data.get(attr)
            if et is not None and et not in ELEMENT_TYPES:
                yield f.at(IR015, data, f"{attr} {et[:20]!r} of {name!r} is not an OpenVINO element type "
                           "('is not a member of enum element::Type_t'; names are lower case)", attr)
        if t not in ("parameter", "const"):
            continue
        et = data.get("element_type")
        outs = li.outs
        prec = outs[0].get("precision") if outs else None
        if et in ELEMENT_TYPES and prec in precisions and et not in ("dynamic", "undefined") and \
                _canonical(prec) not in (et, "dynamic", "undefined"):
            yield f.at(IR015, data, f"element_type {et!r} of {name!r} disagrees with its port precision {prec!r}; "
                       "consumers are checked against one of them and fail ('do not have the same element type')",
                       "element_type")
    for e, ends in zip(g.edges, g.ends):
        if "" not in ends:
            continue  # every end is there (a missing attribute reads as "")
        missing = [a for a in ("from-layer", "from-port", "to-layer", "to-port") if e.get(a) is None]
        if missing:
            yield f.at(IR016, e, f"<edge> has no {', '.join(missing)}")


def _check_cycles(f: IrFile, g: _Graph) -> Iterator[Diagnostic]:
    """Self-loops and cycles among one graph's layers (an IR graph must be acyclic)."""
    layers = g.by_id
    succ: dict[str, list[str]] = {lid: [] for lid in layers}
    indeg = dict.fromkeys(layers, 0)
    first_edge: dict[tuple[str, str], etree._Element] = {}
    for e, (fl, _fp, tl, _tp) in zip(g.edges, g.ends):
        if fl not in layers or tl not in layers:
            continue
        if fl == tl:
            yield f.at(IR017, e, f"layer {layers[fl].el.get('name', '')!r} (id {fl}) feeds itself; OpenVINO fails "
                       "('Attempt to access node ... that not in graph')", "to-layer")
            continue
        first_edge.setdefault((fl, tl), e)
        succ[fl].append(tl)
        indeg[tl] += 1
    ready = [lid for lid, n in indeg.items() if n == 0]
    while ready:
        lid = ready.pop()
        for nxt in succ[lid]:
            indeg[nxt] -= 1
            if indeg[nxt] == 0:
                ready.append(nxt)
    left = {lid for lid, n in indeg.items() if n > 0}
    if not left:
        return
    # every remaining layer has a remaining producer: walk producers until a layer repeats, that is a cycle
    pred: dict[str, list[str]] = {}
    for a, bs in succ.items():
        for b in bs:
            pred.setdefault(b, []).append(a)
    start = next(lid for lid in layers if lid in left)
    path, at = [start], {start: 0}
    while True:
        prv = next(x for x in pred[path[-1]] if x in left)
        if prv in at:
            cycle = (path[at[prv]:] + [prv])[::-1]
            break
        at[prv] = len(path)
        path.append(prv)
    names = " -> ".join(repr(layers[x].el.get("name", x)) for x in cycle)
    yield f.at(IR017, first_edge[(cycle[-2], cycle[-1])], f"the edges form a cycle: {names} "
               f"({len(left)} layer(s) on cycles); OpenVINO fails ('Attempt to access node ... that not in graph')")


def _elements(shape: str) -> int | None:
    s = shape.strip().strip("[]").strip()
    if not s:
        return 1
    dims = []
    for d in s.split(","):
        d = d.strip()
        if not (d.isdigit() and d.isascii()):  # [0-9]+
            return None
        dims.append(int(d))
    return math.prod(dims)


def _check_consts(f: IrFile, consts: list[_Layer]) -> Iterator[Diagnostic]:
    needing = []
    short: list[bool] = []  # per needing Const: its size is too small for its shape (a missing shape counts as [])
    for layer in consts:
        c, data = layer.el, layer.data
        if data is None:
            yield f.at(IR006, c, f"Const {c.get('name', '')!r} has no <data> (offset, size, shape, element_type)")
            continue
        try:
            size = int(data.get("size", "0"))
            offset = int(data.get("offset", "0"))
        except ValueError:
            yield f.at(IR006, data, f"Const {c.get('name', '')!r}: offset/size are not integers")
            continue
        et = (data.get("element_type") or "").lower()
        et = _PRECISION.get(et, et)
        shape = data.get("shape")
        n = _elements(shape) if shape is not None and data.get("size") is not None else None
        bits = _BITS.get(et)
        if n is not None and bits is not None and size < math.ceil(n * bits / 8):
            yield f.at(IR006, data, f"Const {c.get('name', '')!r}: size {size} is too small for shape "
                       f"[{data.get('shape')}] of {et} ({math.ceil(n * bits / 8)} bytes); 'Attribute and shape "
                       "size are inconsistent'", "size")
        if size > 0:
            needing.append((c, data, offset, size))
            n = n if shape is not None else 1  # (size is there: it is > 0)
            short.append(n is not None and bits is not None and size < math.ceil(n * bits / 8))
    if not needing:
        return
    bin_path = f.bin_path
    if bin_path is None or not bin_path.is_file():
        yield f.at(IR008, needing[0][0], f"{len(needing)} Const layer(s) need weights but "
                   f"{bin_path.name if bin_path else 'the .bin'} is missing")
        return
    bin_size = bin_path.stat().st_size
    with open(bin_path, "rb") as fh:
        head = fh.read(len(_LFS))
    if head == _LFS:
        yield f.at(IR008, needing[0][0], f"{bin_path.name} is a git-lfs pointer, not the weights")
        return
    bad = 0
    for k, (c, data, offset, size) in enumerate(needing):
        name = c.get("name", "")
        if offset < 0 or offset + size > bin_size:
            bad += 1
            yield f.at(IR006, data, f"Const {name!r} reads bytes {offset}..{offset + size} but {bin_path.name} has "
                       f"{bin_size}; OpenVINO fails with 'Incorrect weights in bin file'", "offset")
            continue
        if short[k]:
            bad += 1  # reported above, with or without the .bin
    if bad:
        return  # the sizes are wrong: what lies after them says nothing
    end = max(offset + size for _c, _d, offset, size in needing)
    if end < bin_size:
        last = max(needing, key=lambda t: t[2] + t[3])
        yield f.at(IR101, last[1], f"{bin_path.name} has {bin_size - end} bytes after the end of the last Const's "
                   f"data ({last[0].get('name', '')!r} ends at {end} of {bin_size})", "offset")
