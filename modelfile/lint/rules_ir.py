"""OpenVINO IR ``.xml`` rules: edges, reachability, tensor names, state, weights, opsets.

IR lint reads the XML directly with a safe lxml parser (no DTD, no entities,
no network) rather than through the IR reader, because it must also work on
files the reader refuses: edges to missing layers, missing ports and so on.
Each ``<body>``/``<then_body>``/``<else_body>`` is checked as its own graph
(its own id space). Facts: ``shared/docs/openvino-ir.md`` §2, §6, §8.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from ..errors import Diagnostic
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
    """A parsed IR: the root element and the text lines (for columns)."""

    path: str
    root: etree._Element
    lines: list[str]
    bin_path: Path | None = None
    _same_line: dict[tuple[str, int], list[etree._Element]] = field(default_factory=dict)

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


def read_ir(path: Path, data: bytes | None = None) -> IrFile:
    """Parse ``path`` safely; raise :class:`IrUnreadable` with an IR000 finding when it cannot be read."""
    p = str(path)
    if data is None:
        data = path.read_bytes()
    if data.startswith(_LFS):
        raise IrUnreadable(IR000.diag("this is a git-lfs pointer, not the model (run git lfs pull)", p, 1, 1))
    if not data.strip():
        raise IrUnreadable(IR000.diag("empty file", p, 1, 1))
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=True,
                             remove_comments=False)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as e:
        line, col = (e.position if e.position else (1, 1))
        raise IrUnreadable(IR000.diag(f"XML error: {e.msg}", p, line or 1, col or 1)) from None
    doc = root.getroottree()
    if doc.docinfo.doctype:
        raise IrUnreadable(IR000.diag("a DOCTYPE is not allowed in an IR (refused for safety)", p, 1, 1))
    if not isinstance(root.tag, str) or root.tag.lower() != "net":
        raise IrUnreadable(IR000.diag(f"root element is <{root.tag}>, not <net>: not an OpenVINO IR", p,
                                      root.sourceline or 1, 1))
    text = data.decode("utf-8", errors="replace")
    bin_path = path.with_suffix(".bin")
    return IrFile(p, root, text.splitlines(), bin_path)


def _children(el: etree._Element, tag: str) -> list[etree._Element]:
    return [c for c in el if isinstance(c.tag, str) and c.tag == tag]


def _child(el: etree._Element, tag: str) -> etree._Element | None:
    for c in el:
        if isinstance(c.tag, str) and c.tag == tag:
            return c
    return None


def _ports(layer: etree._Element, kind: str) -> list[etree._Element]:
    box = _child(layer, kind)
    return _children(box, "port") if box is not None else []


def _split_names(text: str) -> list[str]:
    items = text.split(",")
    out: list[str] = []
    for it in items:
        if out and out[-1].endswith("\\"):
            out[-1] = out[-1][:-1] + "," + it
        else:
            out.append(it)
    return [x.strip() for x in out if x.strip()]


def _graphs(root: etree._Element) -> Iterator[etree._Element]:
    """The top graph (``<net>``) and every nested body, depth first."""
    stack = [root]
    while stack:
        g = stack.pop()
        yield g
        layers = _child(g, "layers")
        if layers is None:
            continue
        for layer in _children(layers, "layer"):
            for tag in ("body", "then_body", "else_body"):
                for b in _children(layer, tag):
                    stack.append(b)


def check_ir(f: IrFile) -> Iterator[Diagnostic]:
    root = f.root
    version = root.get("version")
    if version not in ("10", "11"):
        yield f.at(IR011, root, f"IR version {version!r} is not 10 or 11; OpenVINO cannot read this file",
                   "version")
    read_ids: set[str] = set()
    assigns: list[etree._Element] = []
    consts: list[etree._Element] = []
    for g in _graphs(root):
        yield from _check_graph(f, g)
        layers = _child(g, "layers")
        for layer in _children(layers, "layer") if layers is not None else []:
            t = (layer.get("type") or "").lower()
            data = _child(layer, "data")
            if t == "readvalue" and data is not None:
                read_ids.add(data.get("variable_id", ""))
            elif t == "assign":
                assigns.append(layer)
            elif t == "const":
                consts.append(layer)
            yield from _check_opset(f, layer)
    for a in assigns:
        data = _child(a, "data")
        vid = data.get("variable_id", "") if data is not None else ""
        if vid not in read_ids:
            yield f.at(IR005, a, f"Assign {a.get('name', '')!r} writes variable {vid!r} that no ReadValue reads; "
                       "OpenVINO fails with 'map::at' out_of_range")
    yield from _check_consts(f, consts)
    if version == "10":
        yield from _check_v10_io_names(f, root)


def _check_v10_io_names(f: IrFile, root: etree._Element) -> Iterator[Diagnostic]:
    """``update_v10_model``'s checks on the top graph's inputs and outputs (see formats/openvino/ionames)."""
    from ..formats.openvino.ionames import IoEntry, name_problems

    layers_el = _child(root, "layers")
    edges_el = _child(root, "edges")
    if layers_el is None:
        return
    layers = {el.get("id", ""): el for el in _children(layers_el, "layer")}
    src: dict[str, tuple[str, str]] = {}
    for e in _children(edges_el, "edge") if edges_el is not None else []:
        src[e.get("to-layer", "")] = (e.get("from-layer", ""), e.get("from-port", ""))
    entries: list[IoEntry] = []
    where: dict[str, etree._Element] = {}
    for lid, el in layers.items():
        t = (el.get("type") or "").lower()
        if t == "parameter":
            ports = _ports(el, "output")
            names = tuple(_split_names(ports[0].get("names", ""))) if ports else ()
            entries.append(IoEntry("input", (lid, ports[0].get("id", "") if ports else ""), names,
                                   el.get("name", ""), el.get("name", "")))
            where[el.get("name", "")] = el
        elif t == "result" and lid in src:
            pl, pp = src[lid]
            prod = layers.get(pl)
            if prod is None:
                continue
            outs = _ports(prod, "output")
            port = next((p for p in outs if p.get("id", "") == pp), None)
            names = tuple(_split_names(port.get("names", ""))) if port is not None else ()
            k = next((i for i, p in enumerate(outs) if p.get("id", "") == pp), 0)
            legacy = prod.get("name", "") + (f".{k}" if len(outs) > 1 else "")
            entries.append(IoEntry("output", (pl, pp), names, legacy, prod.get("name", "")))
            where.setdefault(prod.get("name", ""), prod)  # the layer to rename
    for prob in name_problems(entries, 10):
        el = where.get(prob.layers[-1]) if prob.layers else None
        yield f.at(IR013, el if el is not None else root, prob.message)


def _check_opset(f: IrFile, layer: etree._Element) -> Iterator[Diagnostic]:
    v = layer.get("version")
    if v is None or v in KNOWN_OPSETS:
        return
    m = re.fullmatch(r"opset(\d+)", v)
    why = (f"{v} is newer than the opsets OpenVINO ships (opset1..opset17)" if m
           else f"{v!r} is not an OpenVINO opset; the runtime needs an extension that provides it")
    yield f.at(IR007, layer, f"layer {layer.get('name', '')!r} ({layer.get('type')}): {why}", "version")


def _check_graph(f: IrFile, g: etree._Element) -> Iterator[Diagnostic]:
    layers_el = _child(g, "layers")
    edges_el = _child(g, "edges")
    layers: dict[str, etree._Element] = {}
    for layer in _children(layers_el, "layer") if layers_el is not None else []:
        lid = layer.get("id", "")
        if lid in layers:
            yield f.at(IR010, layer, f"layer id {lid} is also used by {layers[lid].get('name', '')!r} "
                       f"(line {layers[lid].sourceline}); edges with this id reach only one of them", "id")
        layers[lid] = layer
    in_ports = {lid: {p.get("id", ""): p for p in _ports(el, "input")} for lid, el in layers.items()}
    out_ports = {lid: {p.get("id", "") for p in _ports(el, "output")} for lid, el in layers.items()}
    fed: dict[tuple[str, str], etree._Element] = {}
    producers: dict[str, set[str]] = {}
    for e in _children(edges_el, "edge") if edges_el is not None else []:
        fl, fp, tl, tp = (e.get("from-layer", ""), e.get("from-port", ""), e.get("to-layer", ""),
                          e.get("to-port", ""))
        if fl not in layers:
            yield f.at(IR001, e, f"edge {fl}:{fp} -> {tl}:{tp}: no layer with id {fl!r}; OpenVINO fails to build "
                       "the target's input", "from-layer")
        if tl not in layers:
            yield f.at(IR001, e, f"edge {fl}:{fp} -> {tl}:{tp}: no layer with id {tl!r}; OpenVINO ignores the edge, "
                       "so whatever it was meant to feed is not connected", "to-layer")
        if fl in layers and fp not in out_ports[fl]:
            yield f.at(IR002, e, f"edge {fl}:{fp} -> {tl}:{tp}: layer {layers[fl].get('name', '')!r} has no output "
                       f"port {fp}", "from-port")
        if tl not in layers:
            continue
        producers.setdefault(tl, set()).add(fl)
        if tp not in in_ports[tl]:
            yield f.at(IR002, e, f"edge {fl}:{fp} -> {tl}:{tp}: layer {layers[tl].get('name', '')!r} has no input "
                       f"port {tp} ('Can not find input port with id {tp}')", "to-port")
            continue
        prev = fed.get((tl, tp))
        if prev is not None:
            yield f.at(IR012, e, f"input port {tp} of {layers[tl].get('name', '')!r} is already fed by the edge at "
                       f"line {prev.sourceline}; OpenVINO fails with 'has incorrect input'", "to-port")
        fed[(tl, tp)] = e
    for lid, ports in in_ports.items():
        for pid, port in ports.items():
            if (lid, pid) not in fed:
                yield f.at(IR009, port, f"input port {pid} of layer {layers[lid].get('name', '')!r} "
                           f"({layers[lid].get('type')}) has no edge")
    # reachability: everything a Result or Assign depends on, plus Parameters
    roots = [lid for lid, el in layers.items() if (el.get("type") or "").lower() in ("result", "assign")]
    seen = set(roots)
    stack = list(roots)
    while stack:
        for src in producers.get(stack.pop(), ()):
            if src in layers and src not in seen:
                seen.add(src)
                stack.append(src)
    for lid, el in layers.items():
        if lid not in seen and (el.get("type") or "").lower() != "parameter":
            yield f.at(IR003, el, f"layer {el.get('name', '')!r} ({el.get('type')}, id {lid}) feeds no Result or "
                       "Assign; OpenVINO drops it when reading")
    # tensor names, per graph
    names: dict[str, tuple[str, str, etree._Element]] = {}
    for lid, el in layers.items():
        for port in _ports(el, "output"):
            for n in _split_names(port.get("names", "")):
                prev = names.get(n)
                if prev is None:
                    names[n] = (lid, port.get("id", ""), port)
                elif prev[:2] != (lid, port.get("id", "")):
                    yield f.at(IR004, port, f"tensor name {n!r} is also on layer {layers[prev[0]].get('name', '')!r} "
                               f"port {prev[1]} (line {prev[2].sourceline}); OpenVINO renames one of them", "names")


def _elements(shape: str) -> int | None:
    s = shape.strip().strip("[]").strip()
    if not s:
        return 1
    dims = []
    for d in s.split(","):
        d = d.strip()
        if not re.fullmatch(r"[0-9]+", d):
            return None
        dims.append(int(d))
    return math.prod(dims)


def _check_consts(f: IrFile, consts: list[etree._Element]) -> Iterator[Diagnostic]:
    needing = []
    for c in consts:
        data = _child(c, "data")
        if data is None:
            yield f.at(IR006, c, f"Const {c.get('name', '')!r} has no <data> (offset, size, shape, element_type)")
            continue
        try:
            size = int(data.get("size", "0"))
            offset = int(data.get("offset", "0"))
        except ValueError:
            yield f.at(IR006, data, f"Const {c.get('name', '')!r}: offset/size are not integers")
            continue
        if size > 0:
            needing.append((c, data, offset, size))
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
    for c, data, offset, size in needing:
        name = c.get("name", "")
        if offset < 0 or offset + size > bin_size:
            bad += 1
            yield f.at(IR006, data, f"Const {name!r} reads bytes {offset}..{offset + size} but {bin_path.name} has "
                       f"{bin_size}; OpenVINO fails with 'Incorrect weights in bin file'", "offset")
            continue
        et = (data.get("element_type") or "").lower()
        et = _PRECISION.get(et, et)
        n = _elements(data.get("shape", ""))
        bits = _BITS.get(et)
        if n is not None and bits is not None and size < math.ceil(n * bits / 8):
            bad += 1
            yield f.at(IR006, data, f"Const {name!r}: size {size} is too small for shape [{data.get('shape')}] of "
                       f"{et} ({math.ceil(n * bits / 8)} bytes); 'Attribute and shape size are inconsistent'", "size")
    if bad:
        return  # the sizes are wrong: what lies after them says nothing
    end = max(offset + size for _c, _d, offset, size in needing)
    if end < bin_size:
        last = max(needing, key=lambda t: t[2] + t[3])
        yield f.at(IR101, last[1], f"{bin_path.name} has {bin_size - end} bytes after the end of the last Const's "
                   f"data ({last[0].get('name', '')!r} ends at {end} of {bin_size})", "offset")
