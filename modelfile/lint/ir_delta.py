"""The save gate's IR lint, from the re-read instead of a second parse of the whole file.

The gate blocks a write only on lint errors the source did not already have. Here:

- a layer whose text is byte for byte a layer of the source has the source's layer-local findings, so the
  layer rules run only on the layers the writer re-rendered (parsed together by lxml);
- ids, edges, ports and cycles: the reader that just re-read the file refuses repeated ids and edges to
  missing layers or ports; one edge per input port, each from a source or an earlier layer, leaves no
  other error. Otherwise the graph rules run on every layer, on views of the reader's records instead of
  an lxml tree;
- state pairs, weights ranges and v10 input/output names are checked on the records.

Any error, or what this does not model (bodies, a config raising a warning to an error), sends the caller
to the full lint, which gives the exact findings and compares them with the source's.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import Diagnostic, Severity
from . import rules_ir as R

if TYPE_CHECKING:
    from ..formats.openvino.reader import IRDocument, LayerSource

__all__ = ["DeltaSource", "delta_errors", "ir_document"]


class DeltaSource:
    """What :func:`delta_errors` compares the staged file with: the model the edit started from."""

    __slots__ = ("model", "detail")

    def __init__(self, model: Any) -> None:
        self.model = model
        #: how the last :func:`delta_errors` that found nothing checked the file (for the gate's report)
        self.detail = ""


class _Rec:
    """An element as the rules see it (``get``, ``tag``, no position), made from the reader's records."""

    __slots__ = ("tag", "attrs", "names")

    sourceline = 0

    def __init__(self, tag: str, attrs: dict[str, str], names: "list[str] | tuple[()]" = ()) -> None:
        self.tag = tag
        self.attrs = attrs
        self.names = names

    def get(self, key: str, default: Any = None) -> Any:
        if key == "names" and self.names:  # the attribute as written: commas in a name escaped
            return ",".join(n.replace(",", "\\,") for n in self.names)
        return self.attrs.get(key, default)


def ir_document(model: Any) -> "IRDocument | None":
    from ..formats.openvino.api import document

    return document(model) if model is not None else None


def _records(doc: "IRDocument") -> "list[LayerSource] | None":
    top = doc.top
    if top is None:
        return None
    recs = []
    for n in top.nodes0:
        rec = n.source
        if rec is None or rec.doc is not doc or n.subgraphs:
            return None
        recs.append(rec)
    return recs


def _layer(rec: "LayerSource", ports: dict[str, _Rec]) -> R._Layer:
    """The rules' view of a layer from its record (``ports``: the input port views, shared by id)."""
    layer = R._Layer.__new__(R._Layer)
    attrs = {"id": rec.id, "name": rec.name0, "type": rec.type0}
    if rec.version0 is not None:
        attrs["version"] = rec.version0
    layer.el = _Rec("layer", attrs)
    layer.id = rec.id
    layer.t = rec.type0.lower()
    layer.data = _Rec("data", rec.attrs0) if rec.attrs0 is not None else None
    ins = []
    for i in rec.in_ids:
        port = ports.get(i)
        if port is None:
            port = ports[i] = _Rec("port", {"id": i})
        ins.append(port)
    layer.ins = ins
    layer.outs = [_Rec("port", {"id": p[0]}, p[3]) for p in rec.ports0]
    layer.bodies = []
    return layer


def _graph(layers: list[R._Layer], ends: list[tuple[str, str, str, str]]) -> R._Graph:
    g = R._Graph.__new__(R._Graph)
    g.el = _Rec("net", {})
    g.has_layers = True
    g.layers = layers
    g.by_id = {layer.id: layer for layer in layers}
    g.ends = ends
    g.edges = [_Rec("edge", {"from-layer": a, "from-port": b, "to-layer": c, "to-port": d}) for a, b, c, d in ends]
    return g


def _touched(staged: "IRDocument", recs: "list[LayerSource]", source: "IRDocument",
             src_recs: "list[LayerSource]") -> list[int]:
    """Indexes of the staged layers whose text is not (one more time) the text of a source layer."""
    st = source.text
    have = Counter(st[r.start:r.end] for r in src_recs)
    text = staged.text
    out = []
    for i, r in enumerate(recs):
        t = text[r.start:r.end]
        n = have.get(t, 0)
        if n:
            have[t] = n - 1
        else:
            out.append(i)
    return out


def _wiring_sound(recs: "list[LayerSource]", edges: list[tuple[str, str, str, str]]) -> bool:
    """Whether ids, edges and ports give no error, known from the re-read: the reader refuses a repeated
    layer id and an edge to a missing layer or port, so what is left is a port fed twice (IR012), a port
    fed by nothing (IR009) and a cycle (IR017), which cannot be when every input port has exactly one edge
    and every edge comes from a layer without inputs (a Parameter, a Const) or from an earlier layer."""
    fed = {(tl, tp) for _fl, _fp, tl, tp in edges}
    if len(fed) != len(edges) or len(fed) != sum(len(r.in_ids) for r in recs):
        return False
    pos = {r.id: (i if r.in_ids else -1) for i, r in enumerate(recs)}
    return all(pos[fl] < pos[tl] for fl, _fp, tl, _tp in edges)


def _same_bin(path: Path, source: "IRDocument") -> bool:
    """Whether the staged ``.bin`` has the source's size (all the weights rules look at besides the Consts)."""
    src = source.bin_path
    if src is None:
        return False
    try:
        a, b = path.with_suffix(".bin").stat(), Path(src).stat()
    except OSError:
        return False
    return a.st_size == b.st_size and a.st_size > len(R._LFS)


def _local(path: str, staged: "IRDocument", touched: "list[LayerSource]") -> Iterator[Diagnostic]:
    """The layer rules on the re-rendered layers, parsed together as one document of their own (positions
    are that document's: any finding sends the caller to the full lint anyway)."""
    from lxml import etree

    if not touched:
        return
    text = staged.text
    frag = "<net>" + "".join(text[r.start:r.end] for r in touched) + "</net>"
    try:
        root = R._parse(frag.encode("utf-8"))
    except etree.XMLSyntaxError:
        yield R.IR000.diag("the re-rendered layers do not parse on their own", path, 1, 1)
        return
    f = R.IrFile(path, root, frag)
    layers = [R._Layer(el) for el in root]
    if len(layers) != len(touched):
        yield R.IR000.diag("the re-rendered layers are not one element each", path, 1, 1)
        return
    yield from R._check_layers(f, _graph(layers, []))
    for layer in layers:
        v = layer.el.get("version")
        if v is not None and v not in R.KNOWN_OPSETS:
            yield from R._check_opset(f, layer.el)


def delta_errors(path: Path, reread: Any, delta: DeltaSource, settings: Any) -> list[Diagnostic] | None:
    """The lint errors of the staged IR ``path`` found without parsing it again (see the module doc):
    ``[]`` when it has none the source lacks, else None (run the full lint)."""
    staged, source = ir_document(reread), ir_document(delta.model)
    if staged is None or source is None or staged.path is None or Path(staged.path) != Path(path):
        return None
    if any(c.startswith("IR") and s == Severity.ERROR for c, s in settings.severity.items()):
        return None  # a warning made an error: the rules this skips might count
    recs, src_recs = _records(staged), _records(source)
    if staged.version not in (10, 11) or recs is None or src_recs is None:
        return None
    touched = _touched(staged, recs, source, src_recs)
    p = str(path)
    found: list[Diagnostic] = list(_local(p, staged, [recs[i] for i in touched]))
    f = R.IrFile(p, _Rec("net", {}), "", path.with_suffix(".bin"))  # type: ignore[arg-type]
    views: dict[int, R._Layer] = {}
    ports: dict[str, _Rec] = {}

    def view(i: int) -> R._Layer:
        v = views.get(i)
        if v is None:
            v = views[i] = _layer(recs[i], ports)
        return v

    edges = list(staged.top.edges0) if staged.top is not None else []
    if staged.version == 10 or not _wiring_sound(recs, edges):
        top = _graph([view(i) for i in range(len(recs))], edges)
        found += R._check_graph(f, top)  # (its tensor names too)
        found += R._check_cycles(f, top)
        if staged.version == 10:
            found += R._check_v10_io_names(f, top)
    # else: those rules find no error (reachability, IR003, and tensor names, IR004, give only warnings)
    types = [r.type0.lower() for r in recs]
    found += R._check_state(f, [view(i) for i, t in enumerate(types) if t in ("readvalue", "assign")])
    # an untouched Const reads what it read in the source when the .bin has the source's size
    which = touched if _same_bin(path, source) else range(len(recs))
    found += R._check_consts(f, [view(i) for i in which if types[i] == "const"])
    enabled = settings.selection.enabled()
    if any(d.code in enabled and d.severity == Severity.ERROR for d in found):
        return None
    delta.detail = (f"layer rules on the {len(touched)} re-rendered layer(s) (the other {len(recs) - len(touched)} "
                    "are the source's text); graph rules on the re-read")
    return []
