"""SherpaMetaData values read off the encoder graph itself.

sherpa-ncnn builds the encoder's state inputs from the meta values
(``GetEncoderInitStates``) and feeds them by blob name, ``in1..`` / ``out1..``
in a fixed order per family. A pnnx export traces those states with static
shapes, so the graph around each state blob shows the numbers that made it:

* **lstm** (inputs ``in0`` x, ``in1`` x_lens, ``in2`` h, ``in3`` c): one ncnn
  ``LSTM`` layer per encoder layer; its ``0=`` is the output (projection) size
  = ``--encoder-dim`` and ``3=`` the cell size = ``--rnn-hidden-size``. All
  three fields are derived.
* **conv-emformer** (``in0`` + 4 states per layer: memory, left key, left
  value, conv cache), read the way icefall's ``emformer2.py`` ``infer`` slices
  them: ``--num-encoder-layers`` = (inputs - 1) / 4; the conv cache feeds the
  conv module's depthwise convolution (channels = ``--encoder-dim``, kernel =
  ``--cnn-module-kernel``), whose output is cut into the chunk ``[:U]``
  (``--chunk-length`` = 4U); the new conv cache is ``x[-R-(K-1):-R]``
  (``--right-context-length`` = 4R); the keys are ``[key[:M+R], left
  context, key[M+R:]]`` (``--memory-size`` = M); the new left key keeps the
  last ``left-context-length / 4`` frames. A graph cut differently (no
  visible right-context cut) leaves those flags to the user.
* **zipformer** (``in0`` + 7 states per stack, by kind then stack: len, avg,
  key, val, val2, conv1, conv2): N = (inputs - 1) / 7; per stack the layer
  count (how many ways a state is sliced, or the depth of the new state), the
  encoder dim and CNN kernel (the depthwise conv fed by the conv cache), the
  attention dim and left context ``lc`` (the key cache's Reshape / new-state
  shape) and the frames per chunk ``T`` (``cached_len + T``). Then
  ``--num-left-chunks`` = lc / T, the downsampling factors are proportional to
  1 / T, and ``--decode-chunk-len`` = 2 * T * factor. The frames fix the
  factors only up to a common multiple; the first stack's factor anchors them:
  given (``--zipformer-downsampling-factors`` or implied by
  ``--decode-chunk-len``), 1 when pnnx's module-path layer names show a plain
  first stack (``encoders.0.layers.J``), asked for when they show a
  downsampled one (``encoders.0.encoder.layers.J``), else taken as 1 (every
  icefall config; recorded in :attr:`Derivation.assumed`, never reported as a
  contradiction). ``pad-length`` (7) and ``model-version`` (1) are code
  constants, not graph facts.

Every value carries its evidence (the layer and line it was read from) so a
contradicting flag can be answered with "the graph has X at layer L, line N".
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from ..graph import Graph, Node, Value
from .schema import FIELDS, SUBSAMPLING, ZIPFORMER_CONSTANTS, ZIPFORMER_OPS

__all__ = ["Derivation", "Evidence", "derive", "detect_family"]

_DW_CONV = ("ConvolutionDepthWise1D", "ConvolutionDepthWise")
#: layers a state passes through unchanged in meaning on its way to the layer that shows a number
_PASS = frozenset({"Split", "Permute", "Concat", "Reshape", "Slice", "Crop", "Squeeze", "ExpandDims"})


@dataclass(frozen=True, slots=True)
class Evidence:
    """Where a derived number was read: ``node`` (with its source line) and what was read."""

    node: Node | None
    what: str

    def where(self) -> str:
        """``layer NAME (line N)`` or the description alone."""
        if self.node is None:
            return self.what
        line = self.node.pos.line if self.node.pos else 0
        return f"{self.what} at layer {self.node.name}" + (f" (line {line})" if line else "")


@dataclass
class Derivation:
    """What the graph says: the family, derived flag values with evidence, and what it cannot say."""

    family: str | None
    family_why: str = ""
    #: flag -> value as typed on the command line (lists for zipformer arrays)
    values: dict[str, Any] = field(default_factory=dict)
    #: flag -> evidence (one per stack for zipformer arrays)
    evidence: dict[str, list[Evidence]] = field(default_factory=dict)
    #: flag -> why the graph does not determine it
    undetermined: dict[str, str] = field(default_factory=dict)
    #: flag -> assumption made for it (a value chosen, not read)
    assumed: dict[str, str] = field(default_factory=dict)

    def where(self, flag: str, index: int | None = None) -> str:
        """Evidence text for ``flag`` (stack ``index`` for arrays)."""
        ev = self.evidence.get(flag) or []
        if not ev:
            return self.assumed.get(flag, "")
        if index is not None and index < len(ev):
            return ev[index].where()
        return ev[0].where()

    def evidence_node(self, flag: str, index: int | None = None) -> Node | None:
        """The layer a value was read from (for error positions)."""
        ev = self.evidence.get(flag) or []
        if not ev:
            return None
        return ev[index].node if index is not None and index < len(ev) else ev[0].node


# -- graph helpers ---------------------------------------------------------------

def _io(graph: Graph) -> tuple[dict[str, Value], dict[str, Value]]:
    """Encoder inputs (tops of Input layers) and outputs (unused tops) by blob name."""
    ins = {v.name: v for n in graph if n.op_type == "Input" for v in n.outputs}
    outs = {v.name: v for v in graph.dangling_values() if v.name not in ins}
    return ins, outs


def _p(node: Node, key: int, default: Any = None) -> Any:
    p = node.attrs.get(key)
    if p is None:
        return default
    try:
        return p.value
    except (ValueError, AttributeError):
        return default


def _consumers(v: Value) -> Iterator[Node]:
    """Consumers of ``v``, looking through ncnn's Split fan-out layers."""
    for n in v.consumers():
        if n.op_type == "Split":
            for o in n.outputs:
                yield from _consumers(o)
        else:
            yield n


def _forward(v: Value, want: Iterable[str], depth: int = 6) -> Node | None:
    """The first layer of a type in ``want`` reached from ``v`` through shape-only layers."""
    want = frozenset(want)
    frontier = [v]
    seen: set[int] = set()
    for _ in range(depth):
        nxt: list[Value] = []
        for val in frontier:
            for n in _consumers(val):
                if n.op_type in want:
                    return n
                if n.op_type in _PASS and id(n) not in seen:
                    seen.add(id(n))
                    nxt.extend(n.outputs)
        frontier = nxt
    return None


def _shape(node: Node) -> tuple[int, ...]:
    """A Reshape layer's target ``(w, h, c)`` (only the dims it sets, as positive ints)."""
    dims = [_p(node, k) for k in (0, 1, 2)]
    out: list[int] = []
    for d in dims:
        if not isinstance(d, int) or d <= 0:
            break
        out.append(d)
    return tuple(out)


def _slice_count(v: Value) -> tuple[int, Node] | None:
    """How many ways a state blob is split along its outer axis (per-layer slicing)."""
    for n in _consumers(v):
        if n.op_type == "Slice" and len(n.outputs) > 1:
            return len(n.outputs), n
    return None


def _state_reshape(v: Value) -> Node | None:
    """The Reshape a state (or one slice of it) goes through first."""
    for n in _consumers(v):
        if n.op_type == "Reshape":
            return n
        if n.op_type == "Slice" and n.outputs:
            return _state_reshape(n.outputs[0])
    return None


def _producer_reshape(v: Value | None) -> Node | None:
    if v is None or v.producer is None:
        return None
    return v.producer if v.producer.op_type == "Reshape" else None


# icefall zipformer2.py (the ncnn export model): stack I's layers, and its per-layer state selectors
_ZIP_PATH = re.compile(r"(?:^|\.)encoders\.(\d+)\.(encoder\.)?(?:layers|state_select_list)\.(\d+)(?:\.|$)")


@dataclass
class _Stack:
    layers: set[int] = field(default_factory=set)
    downsampled: bool = False
    node: Node | None = None


def _zipformer_paths(graph: Graph) -> dict[int, _Stack]:
    """Stacks seen in pnnx module-path layer names: ``encoders.I.layers.J.`` (a plain ZipformerEncoder,
    downsampling factor 1) or ``encoders.I.encoder.layers.J.`` (a DownsampledZipformerEncoder); its
    ``state_select_list.J`` selectors count layers too."""
    stacks: dict[int, _Stack] = {}
    for n in graph:
        if "encoders." not in n.name:
            continue
        m = _ZIP_PATH.search(n.name)
        if m is None:
            continue
        st = stacks.setdefault(int(m.group(1)), _Stack())
        st.layers.add(int(m.group(3)))
        st.downsampled |= m.group(2) is not None
        if st.node is None:
            st.node = n
    return stacks


# -- family ----------------------------------------------------------------------

def detect_family(graph: Graph) -> tuple[str | None, str]:
    """``(family, why)`` from the graph alone, or ``(None, why not)``."""
    ins, _outs = _io(graph)
    n_in = sum(1 for k in ins if k.startswith("in"))
    types = {n.op_type for n in graph}
    if "LSTM" in types and n_in == 4:
        return "lstm", "LSTM layers and 4 inputs (x, x_lens, h, c)"
    if types & ZIPFORMER_OPS:
        return "zipformer", f"zipformer custom layers ({', '.join(sorted(types & ZIPFORMER_OPS))})"
    zip_ok = n_in > 1 and (n_in - 1) % 7 == 0
    emf_ok = n_in > 1 and (n_in - 1) % 4 == 0
    if zip_ok and emf_ok:
        # 29, 57, ... inputs fit both: zipformer's first states (cached_len) grow by a constant per chunk
        n = (n_in - 1) // 7
        if all(_len_step(ins.get(f"in{1 + i}")) for i in range(n)):
            return "zipformer", f"{n_in} inputs = 1 + 7x{n} and cached_len states that grow per chunk"
        return "conv-emformer", f"{n_in} inputs = 1 + 4x{(n_in - 1) // 4}"
    if zip_ok:
        return "zipformer", f"{n_in} inputs = 1 + 7x{(n_in - 1) // 7} (7 states per stack)"
    if emf_ok:
        return "conv-emformer", f"{n_in} inputs = 1 + 4x{(n_in - 1) // 4} (4 states per layer)"
    return None, f"{n_in} inputs fit no sherpa-ncnn family (lstm 4, conv-emformer 1+4L, zipformer 1+7N)"


def _len_step(v: Value | None) -> tuple[int, Node] | None:
    """``cached_len + T``: the frames-per-chunk constant added to a zipformer length state."""
    if v is None:
        return None
    frontier = [v]
    for _ in range(4):
        nxt: list[Value] = []
        for val in frontier:
            for n in _consumers(val):
                if n.op_type == "BinaryOp" and _p(n, 0, 0) == 0 and _p(n, 1, 0) == 1:
                    b = _p(n, 2)
                    if isinstance(b, (int, float)) and float(b).is_integer() and b > 0:
                        return int(b), n
                if n.op_type in ("Slice", "Reshape", "Crop"):
                    nxt.extend(n.outputs)
        frontier = nxt
    return None


# -- per family ------------------------------------------------------------------

def derive(graph: Graph, given: dict[str, Any] | None = None, family: str | None = None) -> Derivation:
    """Derive the meta values of ``graph``; ``given`` flag values only anchor what the graph leaves
    relative (zipformer's first downsampling factor)."""
    why = "given"
    if family is None:
        family, why = detect_family(graph)
    d = Derivation(family, why)
    if family == "lstm":
        _lstm(graph, d)
    elif family == "conv-emformer":
        _conv_emformer(graph, d)
    elif family == "zipformer":
        _zipformer(graph, d, given or {})
    if family is not None:
        for f, _k, _t in FIELDS[family]:
            if f not in d.values and f not in d.undetermined:
                d.undetermined[f] = "not shown by the graph"
    return d


def _set(d: Derivation, flag: str, value: Any, ev: list[Evidence]) -> None:
    d.values[flag] = value
    d.evidence[flag] = ev


def _lstm(graph: Graph, d: Derivation) -> None:
    lstms = [n for n in graph if n.op_type == "LSTM"]
    if not lstms:
        d.undetermined.update({f: "no LSTM layer" for f, _k, _t in FIELDS["lstm"]})
        return
    _set(d, "num-encoder-layers", len(lstms), [Evidence(lstms[-1], f"{len(lstms)} LSTM layers, the last")])
    first = lstms[0]
    out = _p(first, 0)
    hidden = _p(first, 3, 0) or out
    if isinstance(out, int) and all(_p(n, 0) == out for n in lstms):
        _set(d, "encoder-dim", out, [Evidence(first, f"LSTM output size 0={out}")])
    else:
        d.undetermined["encoder-dim"] = "LSTM layers have different output sizes"
    if isinstance(hidden, int) and all((_p(n, 3, 0) or _p(n, 0)) == hidden for n in lstms):
        _set(d, "rnn-hidden-size", hidden,
             [Evidence(first, f"LSTM hidden size 3={hidden}" if _p(first, 3, 0) else f"LSTM size 0={hidden}")])
    else:
        d.undetermined["rnn-hidden-size"] = "LSTM layers have different hidden sizes"


def _conv_emformer(graph: Graph, d: Derivation) -> None:
    ins, outs = _io(graph)
    n_in = sum(1 for k in ins if k.startswith("in"))
    layers = (n_in - 1) // 4
    last = ins.get(f"in{n_in - 1}")
    _set(d, "num-encoder-layers", layers,
         [Evidence(last.producer if last else None, f"{n_in} inputs = 1 + 4 states x {layers} layers, the last")])
    dims, kernels, lcs, rights, chunks, heads = [], [], [], [], [], []
    for i in range(layers):
        conv = ins.get(f"in{4 + 4 * i}")
        dw = _forward(conv, _DW_CONV) if conv is not None else None
        if dw is not None:
            dims.append((_p(dw, 0), dw))
            kernels.append((_p(dw, 1), dw))
        crop = outs.get(f"out{2 + 4 * i}")
        crop_node = crop.producer if crop is not None else None
        if crop_node is not None and crop_node.op_type == "Crop":
            starts = _p(crop_node, 9)
            if isinstance(starts, list) and len(starts) == 1 and starts[0] < 0:
                lcs.append((-starts[0], crop_node))
        # icefall's ConvolutionModule.infer: new cache = x[-R-(K-1):-R] -> right context R (after subsampling)
        cache = outs.get(f"out{4 + 4 * i}")
        cn = cache.producer if cache is not None else None
        if cn is not None and cn.op_type == "Crop":
            st, en = _p(cn, 9), _p(cn, 10)
            if isinstance(st, list) and isinstance(en, list) and len(st) == len(en) == 1 and st[0] < en[0] < 0:
                rights.append((-en[0], cn))
        # the chunk: the conv output is cut into [:U] and [U:]
        if dw is not None:
            cut = _first_cut(dw.outputs[0])
            if cut is not None:
                chunks.append(cut)
        # EmformerAttention: key = [key[:M+R], left context, key[M+R:]]
        lk = ins.get(f"in{2 + 4 * i}")
        cat = next((n for n in _consumers(lk) if n.op_type == "Concat" and len(n.inputs) == 3), None) if lk else None
        if cat is not None and cat.inputs[1] is lk and cat.inputs[0] is not None:
            head = _head_length(cat.inputs[0])
            if head is not None:
                heads.append(head)
    _agree(d, "encoder-dim", dims, layers, "depthwise conv channels 0={v} (conv module)")
    _agree(d, "cnn-module-kernel", kernels, layers, "depthwise conv kernel 1={v} (conv module)")
    if len(lcs) == layers and len({v for v, _n in lcs}) == 1:
        v, node = lcs[0]
        _set(d, "left-context-length", v * SUBSAMPLING,
             [Evidence(node, f"new left key cache keeps the last {v} frames (x{SUBSAMPLING} subsampling)")])
    else:
        d.undetermined["left-context-length"] = "no Crop of the left key cache on out2"
    _agree(d, "right-context-length", [(v * SUBSAMPLING, n) for v, n in rights], layers,
           "new conv cache ends {q} frames before the end: right context {q} x 4")
    _agree(d, "chunk-length", [(v * SUBSAMPLING, n) for v, n in chunks], layers,
           "conv module output cut after {q} frames: chunk {q} x 4")
    r = d.values.get("right-context-length")
    if isinstance(r, int):
        _agree(d, "memory-size", [(v - r // SUBSAMPLING, n) for v, n in heads], layers,
               "{v} memory + right-context keys before the left context")
    else:
        d.undetermined["memory-size"] = "needs the right context length"
    for f in ("memory-size", "chunk-length", "right-context-length"):
        if f in d.undetermined:
            d.undetermined[f] = "leaves no number in the graph (" + d.undetermined[f] + ")"


def _first_cut(v: Value) -> tuple[int, Node] | None:
    """``x[:U]`` of a conv output: a two-way Slice ``U,-233`` or a Crop ``[0:U]``, within a few layers."""
    frontier = [v]
    for _ in range(5):
        nxt: list[Value] = []
        for val in frontier:
            for n in _consumers(val):
                if n.op_type == "Slice" and len(n.outputs) == 2:
                    sl = _p(n, 0)
                    if isinstance(sl, list) and len(sl) == 2 and isinstance(sl[0], int) and sl[0] > 0:
                        return sl[0], n
                if n.op_type == "Crop":
                    st, en = _p(n, 9), _p(n, 10)
                    if st == [0] and isinstance(en, list) and len(en) == 1 and 0 < en[0] < 100000:
                        return en[0], n
                nxt.extend(n.outputs)
        frontier = nxt
    return None


def _head_length(v: Value) -> tuple[int, Node] | None:
    """Length of ``key[:n]``: the first part of a two-way Slice, or a Crop ``[0:n]``."""
    n = v.producer
    if n is None:
        return None
    if n.op_type == "Slice" and v is n.outputs[0]:
        sl = _p(n, 0)
        if isinstance(sl, list) and sl and isinstance(sl[0], int) and sl[0] > 0:
            return sl[0], n
    if n.op_type == "Crop":
        st, en = _p(n, 9), _p(n, 10)
        if st == [0] and isinstance(en, list) and len(en) == 1 and en[0] > 0:
            return en[0], n
    return None


def _agree(d: Derivation, flag: str, found: list[tuple[Any, Node]], expect: int, what: str) -> None:
    """Set ``flag`` when every layer shows the same value (``what`` formats ``{v}``, and ``{q}`` = v / 4)."""
    vals = {v for v, _n in found}
    if len(found) == expect and len(vals) == 1 and isinstance(found[0][0], int):
        v, node = found[0]
        _set(d, flag, v, [Evidence(node, what.format(v=v, q=v // SUBSAMPLING))])
    elif len(vals) > 1:
        d.undetermined[flag] = f"layers disagree ({sorted(vals)})"
    else:
        d.undetermined[flag] = "not found next to every state"


def _zipformer(graph: Graph, d: Derivation, given: dict[str, Any]) -> None:
    ins, outs = _io(graph)
    n_in = sum(1 for k in ins if k.startswith("in"))
    n = (n_in - 1) // 7

    def state(kind: int, i: int) -> tuple[Value | None, Value | None]:
        name = 1 + kind * n + i
        return ins.get(f"in{name}"), outs.get(f"out{name}")

    paths = _zipformer_paths(graph)
    per: dict[str, list[tuple[int, Evidence] | None]] = {
        k: [] for k in ("num-encoder-layers", "encoder-dims", "attention-dims", "cnn-module-kernels", "lc", "T")}
    for i in range(n):
        avg_in, avg_out = state(1, i)
        key_in, key_out = state(2, i)
        conv_in, _conv_out = state(5, i)
        len_in, _len_out = state(0, i)
        # layers per stack: the new avg state is (E, 1, L), or the key cache is sliced L ways
        layers: tuple[int, Evidence] | None = None
        r = _producer_reshape(avg_out)
        if r is not None and len(_shape(r)) == 3:
            layers = (_shape(r)[2], Evidence(r, f"stack {i + 1} new cached_avg shape {_shape(r)} (E, 1, layers)"))
        elif key_in is not None:
            sc = _slice_count(key_in)
            if sc is not None:
                layers = (sc[0], Evidence(sc[1], f"stack {i + 1} cached_key sliced into {sc[0]} layers"))
            elif (rk := _producer_reshape(key_out)) is not None and len(_shape(rk)) == 3:
                layers = (_shape(rk)[2], Evidence(rk, f"stack {i + 1} new cached_key shape {_shape(rk)} (A, lc, layers)"))
        if layers is None and i in paths and paths[i].layers == set(range(len(paths[i].layers))):
            layers = (len(paths[i].layers), Evidence(paths[i].node, f"layer names encoders.{i}.*layers.0-"
                                                                    f"{len(paths[i].layers) - 1}"))
        per["num-encoder-layers"].append(layers)
        dw = _forward(conv_in, _DW_CONV) if conv_in is not None else None
        per["encoder-dims"].append((_p(dw, 0), Evidence(dw, f"stack {i + 1} conv module channels 0={_p(dw, 0)}"))
                                   if dw is not None else None)
        per["cnn-module-kernels"].append((_p(dw, 1), Evidence(dw, f"stack {i + 1} conv module kernel 1={_p(dw, 1)}"))
                                         if dw is not None else None)
        rk = _state_reshape(key_in) if key_in is not None else None
        shape = _shape(rk) if rk is not None else ()
        if len(shape) < 2:
            rk = _producer_reshape(key_out)
            shape = _shape(rk) if rk is not None else ()
        if rk is not None and len(shape) >= 2:
            per["attention-dims"].append((shape[0], Evidence(rk, f"stack {i + 1} key cache width {shape[0]}")))
            per["lc"].append((shape[1], Evidence(rk, f"stack {i + 1} key cache of {shape[1]} frames")))
        else:
            per["attention-dims"].append(None)
            per["lc"].append(None)
        step = _len_step(len_in)
        per["T"].append((step[0], Evidence(step[1], f"stack {i + 1} advances cached_len by {step[0]} frames"))
                        if step else None)
    for flag in ("num-encoder-layers", "encoder-dims", "attention-dims", "cnn-module-kernels"):
        items = per[flag]
        if n and all(x is not None and isinstance(x[0], int) for x in items):
            _set(d, flag, [x[0] for x in items], [x[1] for x in items])  # type: ignore[index]
        else:
            missing = [str(i + 1) for i, x in enumerate(items) if x is None]
            d.undetermined[flag] = f"not found for stack(s) {', '.join(missing) or '?'}"
    lcs, ts = per["lc"], per["T"]
    if n and all(lcs) and all(ts):
        lc = [x[0] for x in lcs]  # type: ignore[index]
        t = [x[0] for x in ts]  # type: ignore[index]
        nlc = {a // b for a, b in zip(lc, t) if b and a % b == 0}
        if len(nlc) == 1 and all(b and a % b == 0 for a, b in zip(lc, t)):
            _set(d, "num-left-chunks", nlc.pop(),
                 [Evidence(lcs[0][1].node, f"stack 1 key cache of {lc[0]} frames = {lc[0] // t[0]} chunks of "
                           f"{t[0]} frames (cached_len step at layer {ts[0][1].node.name})")])  # type: ignore[index]
        else:
            d.undetermined["num-left-chunks"] = f"key caches {lc} are not a common multiple of chunk frames {t}"
        _zipformer_rates(d, t, ts, given, paths.get(0))
    else:
        for f in ("num-left-chunks", "decode-chunk-len", "zipformer-downsampling-factors"):
            d.undetermined[f] = "no cached_len step or key cache shape for every stack"
    for f, v in ZIPFORMER_CONSTANTS.items():
        if f not in d.values:
            d.values[f] = v
            d.assumed[f] = f"{v}, icefall's code constant (not in the graph)"


_ASSUMED = "first stack's factor taken as 1, as in every icefall config"


def _zipformer_rates(d: Derivation, t: list[int], ts: list[Any], given: dict[str, Any],
                     first: _Stack | None) -> None:
    """Downsampling factors and chunk length from frames per chunk: T_i = decode_chunk_len / (2 * ds_i).

    The frames fix the factors up to a common multiple; the first stack's factor
    anchors them: given, implied by a given chunk length, 1 when the layer names
    show a plain (not downsampled) first stack, else taken as 1 (an assumption).
    """
    gf = given.get("zipformer-downsampling-factors")
    gdcl = given.get("decode-chunk-len")
    if isinstance(gf, list) and gf and isinstance(gf[0], int) and gf[0] > 0:
        ds0, anchor = gf[0], f"first factor {gf[0]} as given"
    elif isinstance(gdcl, int) and gdcl > 0 and gdcl % (2 * t[0]) == 0:
        ds0, anchor = gdcl // (2 * t[0]), f"--decode-chunk-len {gdcl} as given"
    elif isinstance(gdcl, int):  # no first factor makes it fit: the graph contradicts it
        ds0, anchor = 1, f"must be a multiple of {2 * t[0]}"
    elif first is not None and not first.downsampled and first.node is not None:
        ds0, anchor = 1, f"first stack not downsampled: layer {first.node.name}"
    elif first is not None and first.downsampled:
        for f in ("zipformer-downsampling-factors", "decode-chunk-len"):
            d.undetermined[f] = (f"the first stack is downsampled (layer {first.node.name if first.node else '?'}) "
                                 f"and frames per chunk {t} fix the factors only up to a common multiple")
        return
    else:
        ds0, anchor = 1, _ASSUMED
    total = t[0] * ds0
    factors = [total // x if x and total % x == 0 else None for x in t]
    if any(f is None for f in factors):
        d.undetermined["zipformer-downsampling-factors"] = f"frames per chunk {t} are not {total} / factor"
        return
    _set(d, "zipformer-downsampling-factors", factors,
         [Evidence(e[1].node, f"{total} / {x} frames per chunk ({anchor})") for e, x in zip(ts, t)])
    _set(d, "decode-chunk-len", 2 * total,
         [Evidence(ts[0][1].node, f"2 x {t[0]} frames per chunk x factor {ds0} ({anchor})")])
    if anchor.startswith("must"):  # the given chunk length is checked against 2 x T; the factors are not
        d.assumed["zipformer-downsampling-factors"] = anchor
    elif anchor == _ASSUMED:
        d.assumed["zipformer-downsampling-factors"] = anchor
        d.assumed["decode-chunk-len"] = anchor
