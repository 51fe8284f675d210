"""Derive what ncnn's per-layer ``load_param``/``load_model`` refuse, by asking the installed ncnn.

Writes ``modelfile/data/ncnn_load_checks.json``, the table lint rule NCNN021/NCNN022 reads:

* per layer type, the bottom/top counts ncnn accepts (``one_blob_only`` layers refuse anything but 1/1);
* per int param, whether it is required (a baseline without it is refused) and the ranges of values
  ncnn accepts, found by probing a value grid and bisecting every pass/fail boundary exactly.

Each probe is a one-layer net (plus ``Input`` layers for its bottoms) loaded with ``load_param_mem`` and
``load_model(DataReaderFromEmpty())`` (zeros: what a weight file of the right size would hold) in a child
process per layer type (a crash costs one type, not the run). A value is refused only if it is refused
from every baseline: baselines are the distinct param sets of that type in ``fixtures/`` and
``../shared/corpus`` plus the hand-written minimal ones below, so the table never flags a value some
real file uses successfully. Names come from ``shared/docs/ncnn-layer-params.md`` when it is there.

    python tools/probe_ncnn_load_param.py            # needs the ncnn wheel; ~1-3 minutes
"""

from __future__ import annotations

import json
import re
import select
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from modelfile.formats.ncnn.layers import BUILTIN_LIST  # noqa: E402
from modelfile.formats.ncnn.reader import read_path  # noqa: E402
from modelfile.lint.ncnn_param_types import PARAM_TYPES  # noqa: E402

OUT = ROOT / "modelfile" / "data" / "ncnn_load_checks.json"
DOC = ROOT.parent / "shared" / "docs" / "ncnn-layer-params.md"
INT_MIN, INT_MAX = -(2**31), 2**31 - 1
GRID = [INT_MIN, -100000, -1000, -234, -233, -232, -100, -3, -2, -1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13,
        14, 15, 16, 17, 20, 32, 64, 100, 232, 233, 234, 1000, 100000, INT_MAX]

#: minimal params that load, for types that refuse an empty param list (checked by the tool)
BASELINES: dict[str, list[str]] = {
    "Convolution": ["0=8 1=3 6=216"], "ConvolutionDepthWise": ["0=8 1=3 6=72 7=8"],
    "Deconvolution": ["0=8 1=3 6=216"], "DeconvolutionDepthWise": ["0=8 1=3 6=72 7=8"],
    "InnerProduct": ["0=8 2=64"], "Pooling": ["1=2", "4=1"], "Pooling1D": ["1=2", "4=1"], "Pooling3D": ["1=2", "4=1"],
    "Reshape": ["0=4", "0=-1", "0=2 1=2", '6="1,2"'], "RNN": ["0=4 1=16"], "LSTM": ["0=4 1=64"], "GRU": ["0=4 1=48"],
    "Convolution1D": ["0=8 1=3 6=72"], "ConvolutionDepthWise1D": ["0=8 1=3 6=24 7=8"],
    "Convolution3D": ["0=8 1=3 6=648"], "ConvolutionDepthWise3D": ["0=8 1=3 6=216 7=8"],
    "Deconvolution1D": ["0=8 1=3 6=72"], "DeconvolutionDepthWise1D": ["0=8 1=3 6=24 7=8"],
    "Deconvolution3D": ["0=8 1=3 6=648"], "DeconvolutionDepthWise3D": ["0=8 1=3 6=216 7=8"],
    "DeformableConv2D": ["0=8 1=3 6=216"], "GroupNorm": ["0=2 1=8"], "ROIAlign": ["0=7 1=7"],
    "MultiHeadAttention": ["0=8 1=2 2=64"], "Fold": ["1=2 20=4"], "Unfold": ["1=2"], "Spectrogram": ["0=16"],
    "InverseSpectrogram": ["0=16"], "Einsum": ["0=3,105,106,107"], "PriorBox": ["-23300=1,30.0"],
    "YoloDetectionOutput": ["-23304=10,1.0,1.0,2.0,2.0,3.0,3.0,4.0,4.0,5.0,5.0"],
    "Yolov3DetectionOutput": ["0=1 1=1 -23304=2,10.0,13.0 -23305=1,0 -23306=1,32.0"],
    "ArgMax": [], "SPP": [],
}

_CHILD = r"""
import json, os, resource, sys
fd = os.open(os.devnull, os.O_WRONLY); os.dup2(fd, 2)  # ncnn's NCNN_LOGE messages
resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))  # a huge num_output must not take the machine
import ncnn
for line in sys.stdin:
    text, with_model = json.loads(line)
    net = ncnn.Net()
    net.opt.use_vulkan_compute = False
    rc = net.load_param_mem(text)
    if rc == 0 and with_model:
        rc = 10 if net.load_model(ncnn.DataReaderFromEmpty()) != 0 else 0
    print(rc, flush=True)
"""
#: load_model (which allocates the weights) is only tried for values this small; larger ones are judged by
#: load_param alone
MODEL_LIMIT = 1000
#: seconds one load may take before the value is given up on (and counted as accepted)
TIMEOUT = 5.0


def net_text(typ: str, nb: int, nt: int, params: str) -> str:
    lines = [f"Input in{i} 0 1 in{i}" for i in range(nb)]
    names = " ".join([f"in{i}" for i in range(nb)] + [f"out{i}" for i in range(nt)])
    lines.append(" ".join(x for x in (typ, "l", str(nb), str(nt), names, params) if x))
    return f"7767517\n{len(lines)} {nb + nt}\n" + "\n".join(lines) + "\n"


class Prober:
    """One long-lived ncnn child answering a load per line (restarted after a crash)."""

    def __init__(self) -> None:
        self.proc: subprocess.Popen[str] | None = None

    def _start(self) -> subprocess.Popen[str]:
        if self.proc is None or self.proc.poll() is not None:
            self.proc = subprocess.Popen([sys.executable, "-c", _CHILD], stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE, text=True)
        return self.proc

    def load(self, text: str, with_model: bool = True) -> int:
        """0 ok, -1 load_param refused, 10 load_model refused, 99 crashed."""
        proc = self._start()
        assert proc.stdin is not None and proc.stdout is not None
        try:
            proc.stdin.write(json.dumps([text, with_model]) + "\n")
            proc.stdin.flush()
            ready, _, _ = select.select([proc.stdout], [], [], TIMEOUT)
            line = proc.stdout.readline() if ready else None
        except BrokenPipeError:
            line = ""
        if line is None:  # still computing (a huge n_fft...): give up on it, call it accepted
            proc.kill()
            proc.wait()
            return 0
        if not line:
            proc.wait()
            return 99
        return int(line)


PROBER = Prober()


def run(texts: list[str], _tmp: object = None, values: list[int | None] | None = None) -> list[int]:
    """Load results; with ``values``, load_model only where the probed value is small (see MODEL_LIMIT)."""
    vals = values or [None] * len(texts)
    return [PROBER.load(t, v is None or abs(v) <= MODEL_LIMIT) for t, v in zip(texts, vals)]


def set_param(params: str, pid: int, value: str | None) -> str:
    keep = [t for t in params.split() if t.split("=")[0] not in (str(pid), str(-23300 - pid))]
    if value is not None:
        keep.append(f"{pid}={value}")
    return " ".join(keep)


def corpus_baselines() -> dict[str, list[tuple[int, int, str]]]:
    found: dict[str, list[tuple[int, int, str]]] = {}
    cands: dict[str, list[tuple[int, int, str]]] = {}
    files = list((ROOT / "fixtures").rglob("*.param")) + list((ROOT.parent / "shared" / "corpus").rglob("*.param"))
    for f in sorted(files):
        try:
            graph, _doc = read_path(f, strict=False)
        except Exception:
            continue
        for node in graph.nodes:
            src = node.source
            raw = getattr(src, "raw", "")
            toks = raw.split()
            if len(toks) < 4 or not toks[2].isdigit() or not toks[3].isdigit():
                continue
            nb, nt = int(toks[2]), int(toks[3])
            params = " ".join(t for t in toks[4 + nb + nt:] if not t.startswith("-23330=") and
                              not t.startswith("30="))
            found.setdefault(node.op_type, [])
            cands.setdefault(node.op_type, [])
            if (nb, nt, params) not in cands[node.op_type]:
                cands[node.op_type].append((nb, nt, params))
    # per type, one real layer for every small value (flags, modes, types: int8_scale_term=101...) any
    # real layer uses, so that every mode real files use is a baseline
    for typ, lst in cands.items():
        covered: set[str] = set()
        for cand in lst:
            small = {t for t in cand[2].split() if re.fullmatch(r"\d+=-?\d{1,3}", t)}
            if small - covered and len(found[typ]) < 60:
                covered |= small
                found[typ].append(cand)
    return found


def param_names() -> dict[str, dict[int, str]]:
    names: dict[str, dict[int, str]] = {}
    if not DOC.is_file():
        return names
    cur = None
    for line in DOC.read_text(encoding="utf-8").splitlines():
        if line.startswith("### "):
            cur = line[4:].strip()
            continue
        if cur and re.match(r"-?\d+ \w", line) and cur not in names:
            names[cur] = {int(m.group(1)): m.group(2) for m in re.finditer(r"(?:^|· )(\d+) ([A-Za-z_]\w*)", line)}
    return names


def _bisect(typ: str, nb: int, nt: int, base: str, pid: int, good: int, bad: int) -> int:
    """The accepted value nearest ``bad`` between ``good`` (accepted) and ``bad`` (refused), load_param only."""
    while abs(bad - good) > 1:
        mid = (good + bad) // 2
        if PROBER.load(net_text(typ, nb, nt, set_param(base, pid, str(mid))), False) == 0:
            good = mid
        else:
            bad = mid
    return good


def probe_param(typ: str, pid: int, bases: list[tuple[int, int, str]], full: list[bool]) -> dict | None:
    """``required``, ``min`` and (for range/enum-like params) ``max`` of one int param.

    Values are judged by ``load_param`` (pure validation; nothing is allocated). A param whose accepted
    grid values have holes depends on other params (``weight_data_size`` must divide by ``num_output``
    and the kernel): only its lower bound is kept, the relation itself is a ``divisible`` rule. Small
    values (-2..2) are also loaded with weights, which is where e.g. BatchNorm ``channels=0`` fails.
    """
    required = True
    own = {int(m.group(1)) for _nb, _nt, b in bases for m in re.finditer(rf"(?:^| ){pid}=(-?[0-9]+)(?= |$)", b)}
    grid = sorted(set(GRID) | own)  # a baseline's own value always loads from it
    passing: dict[int, tuple[int, int, str] | None] = {v: None for v in grid}
    # required: refused without it from every baseline that loads with weights (else every baseline)
    for (nb, nt, base), with_model in zip(bases, full):
        if with_model or not any(full):
            required = required and PROBER.load(net_text(typ, nb, nt, set_param(base, pid, None)), with_model) != 0
        for v in grid:
            if passing[v] is None and PROBER.load(net_text(typ, nb, nt, set_param(base, pid, str(v))), False) == 0:
                passing[v] = (nb, nt, base)
    good = [v for v in grid if passing[v] is not None]
    if not good:
        return {"required": required, "min": INT_MAX, "max": INT_MIN}  # nothing loads: flag every use
    lo, hi = good[0], good[-1]
    rule: dict = {"required": required}
    holes = any(passing[v] is None for v in grid if lo <= v <= hi)
    if lo > -10000:  # a lower limit below that is an overflow guard, not a range (and slow to bisect)
        prev = grid[grid.index(lo) - 1]
        nb, nt, base = passing[lo]  # type: ignore[misc]
        low = _bisect(typ, nb, nt, base, pid, lo, prev)
        # with holes the param is tied to others (divisibility): only a sign bound is safe to state
        if not holes or low <= 1:
            rule["min"] = low
        elif all(passing[v] is None for v in grid if v <= 0):
            rule["min"] = 1
    if hi < INT_MAX and not holes:
        nxt = grid[grid.index(hi) + 1]
        nb, nt, base = passing[hi]  # type: ignore[misc]
        rule["max"] = _bisect(typ, nb, nt, base, pid, hi, nxt)
    # with weights: the smallest of -2..2 that loads from some baseline, all smaller ones refused
    small = [v for v in (-2, -1, 0, 1, 2) if rule.get("min", INT_MIN) <= v <= rule.get("max", INT_MAX)]
    model_bases = [b for b, ok in zip(bases, full) if ok]
    loads = {v: any(PROBER.load(net_text(typ, nb, nt, set_param(base, pid, str(v)))) == 0
                    for nb, nt, base in model_bases) for v in small}
    first = next((v for v in small if loads[v]), None)
    if first is not None and small and first > small[0] and first > rule.get("min", INT_MIN) and not holes:
        rule["min"] = first
        rule["min_by"] = "load_model"
    if not required and "min" not in rule and "max" not in rule:
        return None
    return rule


def probe_type(typ: str, bases: list[tuple[int, int, str]], tmp: object = None) -> dict | None:
    # a baseline counts if load_param takes it; real files whose weights do not load from zeros (int8)
    # still show which values load_param accepts
    ok_bases = [b for b in bases if PROBER.load(net_text(typ, *b), False) == 0]
    full = [PROBER.load(net_text(typ, *b)) == 0 for b in ok_bases]
    if not ok_bases:
        print(f"  {typ}: no baseline loads", file=sys.stderr)
        return None
    entry: dict = {}
    nb0, nt0, p0 = ok_bases[full.index(True)] if any(full) else ok_bases[0]
    combos = [(nb, nt) for nb in range(4) for nt in range(0, 4)]
    accepted = [[nb, nt] for nb, nt in combos if PROBER.load(net_text(typ, nb, nt, p0), any(full)) == 0]
    if accepted and len(accepted) < len(combos):
        entry["blobs"] = accepted
    params: dict[str, dict] = {}
    for pid, kind in sorted(PARAM_TYPES.get(typ, {}).items()):
        if kind != "i" or pid >= 30:
            continue
        rule = probe_param(typ, pid, ok_bases, full)
        if rule is not None:
            params[str(pid)] = rule
    if params:
        entry["params"] = params
    return entry or None


#: params required unless another one is given (the probe only sees single-param changes): Reshape takes its
#: shape from w/h/d/c or from the shape expression 6
REQUIRED_UNLESS: dict[str, dict[str, list[int]]] = {"Reshape": {"0": [6]}}


#: rules that hold only when other params have given values (the single-param probe cannot see them):
#: each is checked against ncnn before it is written, with a refused and an accepted example
_ACT = {"required": ["10"]}
CONDITIONAL: dict[str, list[dict]] = {
    "Gemm": [
        {"if": {}, "ranges": {"4": [0, 1], "5": [0, 1], "6": [0, 1]},  # flags: other values crash ncnn
         "refused": "2=0 3=1 4=-1 5=1 6=1 7=1 8=16 9=8 10=-1", "accepted": "2=0 3=1 4=0 5=1 6=1 7=1 8=16 9=8 10=-1"},
        {"if": {"6": 1}, "ranges": {"10": [-1, 4]},
         "refused": "2=0 3=1 4=0 5=1 6=1 7=1 8=16 9=8 10=5", "accepted": "2=0 3=1 4=0 5=1 6=1 7=1 8=16 9=8 10=4"},
        {"if": {"5": 1}, "required": ["8", "9"], "ranges": {"8": [1, INT_MAX], "9": [1, INT_MAX]},
         "refused": "2=0 3=1 4=0 5=1 6=0 7=1 8=16", "accepted": "2=0 3=1 4=0 5=1 6=0 7=1 8=16 9=8"},
        {"if": {"4": 0, "5": 1, "6": 1}, "blobs": [[1, 1]], "nb": 2,
         "refused": "2=0 3=1 4=0 5=1 6=1 7=1 8=16 9=8 10=-1", "accepted": "2=0 3=1 4=0 5=1 6=1 7=1 8=16 9=8 10=-1"},
    ],
    "Pooling": [{"if": {"4": 0, "7": 0}, "required": ["1"], "ranges": {"1": [1, INT_MAX]},
                 "refused": "2=2", "accepted": "1=2 2=2"},
                {"if": {"4": 0, "7": 0}, "ranges": {"2": [1, INT_MAX]}, "refused": "1=2 2=0", "accepted": "1=2 2=1"}],
    # activation types 0..6 (the probe sees holes: 2, 3 and 6 need activation params)
    **{t: [{"if": {}, "ranges": {"9": [0, 6]}, "refused": f"{base} 9=7", "accepted": f"{base} 9=5"}]
       for t, base in (("Convolution1D", "0=8 1=3 6=72"), ("Deconvolution", "0=8 1=3 6=216"))},
    **{t: [{"if": {"9": a}, **_ACT, "refused": f"{base} 9={a}", "accepted": f"{base} 9={a} -23310=2,0.0,6.0"}
           for a in (2, 3, 6)] + [{"if": {}, "ranges": {"9": [0, 6]}, "refused": f"{base} 9=7",
                                   "accepted": f"{base} 9=5"}]
       for t, base in (("Convolution", "0=8 1=3 6=216"), ("ConvolutionDepthWise", "0=8 1=3 6=72 7=8"),
                       ("InnerProduct", "0=8 2=64"))},
}


#: params that must be given together (either alone is refused): Crop's starts and ends
TOGETHER: dict[str, list[dict]] = {
    "Crop": [{"ids": [9, 10], "refused": "-23309=1,0 -23311=1,0", "accepted": "-23309=1,0 -23310=1,1 -23311=1,0"}],
}


def verified_together() -> dict[str, list[list[int]]]:
    out: dict[str, list[list[int]]] = {}
    for typ, rules in TOGETHER.items():
        for r in rules:
            if PROBER.load(net_text(typ, 1, 1, r["refused"])) == 0 or PROBER.load(net_text(typ, 1, 1, r["accepted"])):
                raise SystemExit(f"{typ} {r['ids']}: ncnn does not confirm the rule")
            out.setdefault(typ, []).append(r["ids"])
    return out


def verified_conditionals() -> dict[str, list[dict]]:
    """:data:`CONDITIONAL` without the examples, each confirmed by ncnn (or the tool stops)."""
    out: dict[str, list[dict]] = {}
    for typ, rules in CONDITIONAL.items():
        for r in rules:
            nb = r.get("nb", 1)
            bad = PROBER.load(net_text(typ, nb, 1, r["refused"]))
            good = PROBER.load(net_text(typ, 1, 1, r["accepted"]))
            if bad == 0 or good != 0:
                raise SystemExit(f"{typ} {r['if']}: ncnn does not confirm the rule (refused {bad}, accepted {good})")
            out.setdefault(typ, []).append({k: v for k, v in r.items() if k not in ("refused", "accepted", "nb")})
    return out


def main() -> None:
    found = corpus_baselines()
    names = param_names()
    table: dict[str, dict] = {}
    tmp = None
    if True:
        for typ in BUILTIN_LIST:
            if typ in ("Input",):
                continue
            bases = [(1, 1, p) for p in BASELINES.get(typ, [""])] + found.get(typ, [])
            entry = probe_type(typ, bases, tmp)
            for pid, others in REQUIRED_UNLESS.get(typ, {}).items():
                if entry is not None:
                    entry.setdefault("params", {}).setdefault(pid, {})
                    entry["params"][pid].update({"required": True, "unless": others})
            if entry:
                if typ in names and "params" in entry:
                    for pid, rule in entry["params"].items():
                        if int(pid) in names[typ]:
                            rule["name"] = names[typ][int(pid)]
                table[typ] = entry
                print(typ, json.dumps(entry)[:200], flush=True)
    for typ, rules in verified_conditionals().items():
        table.setdefault(typ, {})["when"] = rules
    for typ, groups in verified_together().items():
        table.setdefault(typ, {})["together"] = groups
    import ncnn

    doc = {"ncnn": getattr(ncnn, "__version__", "?"), "generated_by": "tools/probe_ncnn_load_param.py",
           "layers": table}
    OUT.write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {OUT} ({len(table)} layer types)")


if __name__ == "__main__":
    main()
