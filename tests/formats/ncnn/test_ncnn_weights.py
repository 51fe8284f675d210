"""ncnn .bin spans and the WeightStore, cross-checked against ncnn's own loader.

Two independent checks tie the per-layer size logic to the runtime:

* synthetic ``.bin`` files written from the spans of corpus params (with fp32,
  fp16, int8 and lookup-table storage) must load with rc 0 and must fail when
  4 bytes short;
* a Python ``ncnn.DataReader`` logs every read ``Net::load_model`` performs;
  the sequence of read sizes must equal the one the spans predict, blob by
  blob (this also covers params no corpus file uses: the layer "zoo").

ncnn runs in child processes because it can crash on bad input.
"""

from __future__ import annotations

import io
import json
import struct
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import modelfile
from conftest import CORPUS, FIXTURES, needs_ncnn
from modelfile.errors import ModelfileError
from modelfile.formats.ncnn.params import Param
from modelfile.formats.ncnn.reader import read_text
from modelfile.formats.ncnn.weights import (
    FLAG_FP16, FLAG_FP32_MARKED, FLAG_INT8, BlobSpec, Span, WeightStore, layer_layout, layer_spans,
    memorydata_bytes, memorydata_dims, register_layout, tagged_bytes, trailing_bytes,
)
from modelfile.graph import Graph, Node, Value
from ncnn_runner import run_ncnn

CORPUS_NCNN = CORPUS / "ncnn"
PREFIX = "Tencent__ncnn__benchmark__models__"


def _fixture_params() -> list[Path]:
    out = sorted((FIXTURES / "ncnn").glob("*.ncnn.param"))
    for d in sorted((FIXTURES / "sherpa").glob("*")):
        # (zipformer-bilingual is committed as a .param only: no weights to cover)
        out += [p for part in ("encoder", "decoder", "joiner")
                if (p := d / f"{part}.ncnn.param").exists() and p.with_suffix(".bin").exists()]
    return out


FIXTURE_PARAMS = _fixture_params()


def _corpus(name: str) -> Path:
    p = CORPUS_NCNN / name
    if not p.exists():
        pytest.skip(f"corpus file {name} not available")
    return p


def _graph(text: str) -> Graph:
    return read_text(textwrap.dedent(text).lstrip())[0]


def _check_cover(spans: list[Span | None], size: int) -> None:
    pos = 0
    for s in spans:
        if s is None:
            continue
        assert s.status == "known", s
        assert s.offset == pos, (s.name, s.offset, pos)
        assert s.offset % 4 == 0 and s.nbytes % 4 == 0  # type: ignore[operator]
        bpos = s.offset
        for b in s.blobs:
            assert b.offset == bpos
            bpos = b.end
        assert bpos == s.end
        pos = s.end  # type: ignore[assignment]
    assert pos == size


# ---------------------------------------------------------------------------
# spans of real files
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("param", FIXTURE_PARAMS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_spans_exactly_cover_fixture_bins(param: Path) -> None:
    m = modelfile.load(param)
    data = param.with_name(param.name[: -len(".param")] + ".bin").read_bytes()
    spans = layer_spans(m.graph, data)
    _check_cover(spans, len(data))
    assert trailing_bytes(spans, len(data)) == 0
    weighted = {n.op_type for n, s in zip(m.graph.nodes, spans) if s is not None}
    assert weighted  # every fixture has weights


def test_fixture_span_details() -> None:
    m = modelfile.load(FIXTURES / "ncnn" / "convlstm.ncnn.param")
    st = WeightStore.from_model(m)
    conv, lstm, gemm = (m.find_node(n) for n in ("conv1drelu_0", "lstm_2", "gemm_0"))
    s = st.spans_of(conv)
    assert s is not None and (s.offset, s.nbytes) == (0, 4 + 384 * 4 + 16 * 4)
    assert [(b.role, b.encoding, b.count) for b in s.blobs] == [("weight", "f32", 384), ("bias", "raw", 16)]
    assert [b.role for b in st.spans_of(lstm).blobs] == ["weight_xc", "bias_c", "weight_hc"]  # type: ignore[union-attr]
    # pnnx's Linear -> Gemm: constant B (N x K, transB) and C broadcast over rows
    gemm_span = st.spans_of(gemm)
    assert gemm_span is not None
    assert [(b.role, b.shape) for b in gemm_span.blobs] == [("B", (10, 24)), ("C", (1, 10))]
    assert st.spans_of(m.find_node("in0")) is None and st.spans_of(m.find_node("transpose_4")) is None
    w, bias = st.blobs_of(conv)
    assert w.dtype == np.float32 and w.shape == (384,) and bias.shape == (16,)
    raw = np.fromfile(m.meta["bin_path"], dtype="<f4")
    np.testing.assert_array_equal(w, raw[1:385])
    np.testing.assert_array_equal(bias, raw[385:401])


# ---------------------------------------------------------------------------
# synthetic .bin from corpus params, loaded by ncnn
# ---------------------------------------------------------------------------

_TABLE_FLAG = 0x00000001  # caffe2ncnn's lookup-table tag (ncnn reads any other non-zero word so too; lint flags those)


def _blob_bytes(spec: BlobSpec, enc: str, rng: np.random.Generator) -> bytes:
    if spec.kind == "bytes":
        body = rng.integers(0, 256, spec.count, dtype=np.uint8).tobytes()
        return body + b"\0" * (-len(body) % 4)
    if spec.kind == "raw":
        if "scale" in spec.role or spec.role in ("var", "slope"):
            vals = rng.uniform(0.5, 2.0, spec.count)  # keep int8 scales and variances sane
        else:
            vals = rng.standard_normal(spec.count) * 0.1
        return vals.astype("<f4").tobytes()
    if enc == "table":
        table = (rng.standard_normal(256) * 0.1).astype("<f4").tobytes()
        idx = rng.integers(0, 256, spec.count, dtype=np.uint8).tobytes()
        return struct.pack("<I", _TABLE_FLAG) + table + idx + b"\0" * (-len(idx) % 4)
    if enc == "i8":
        return tagged_bytes(rng.integers(-127, 128, spec.count, dtype=np.int8), "i8")
    if enc == "f32m":
        return struct.pack("<I", FLAG_FP32_MARKED) + (rng.standard_normal(spec.count) * 0.1).astype("<f4").tobytes()
    return tagged_bytes((rng.standard_normal(spec.count) * 0.1).astype(np.float32), enc)


def _is_int8_layer(node: Node) -> bool:
    p = node.attrs.get(8)
    return node.op_type in ("Convolution", "ConvolutionDepthWise", "InnerProduct") and p is not None and p.value != 0


def synth_bin(graph: Graph, path: Path, encoding: str = "f32", seed: int = 0) -> list[tuple[str, str]]:
    """Write random weights laid out as the spans say; returns (layer, encoding) of tagged blobs."""
    rng = np.random.default_rng(seed)
    written = []
    with open(path, "wb") as f:
        for node in graph.nodes:
            specs = layer_layout(node)
            assert specs is not None, node.op_type
            for s in specs:
                enc = "i8" if _is_int8_layer(node) and s.role == "weight" else encoding
                f.write(_blob_bytes(s, enc, rng))
                if s.kind == "tagged":
                    written.append((node.name, enc))
    return written


_LOAD_CHILD = r"""
import sys, ncnn
net = ncnn.Net()
net.opt.use_vulkan_compute = False
net.opt.num_threads = 1
param, bin_path = sys.argv[1], sys.argv[2]
rc = net.load_param_bin(param) if param.endswith(".param.bin") else net.load_param(param)
print("param", rc, flush=True)
print("model", net.load_model(bin_path), flush=True)
"""


def ncnn_load_rc(param: Path, bin_path: Path) -> int:
    """``Net.load_model`` rc in a child; a crash counts as a failure (-999).

    ncnn does not check its int8 scale loads: when those run out it crashes
    on the empty Mat instead of returning -1 (squeezenet_int8, mobilenet_ssd_int8).
    """
    r = subprocess.run([sys.executable, "-c", _LOAD_CHILD, str(param), str(bin_path)], capture_output=True,
                       text=True, timeout=300)
    lines = dict(ln.split() for ln in r.stdout.splitlines() if ln.startswith(("param ", "model ")))
    assert lines.get("param") == "0", f"ncnn refused the param: {r.stderr[-400:]}"
    return int(lines["model"]) if r.returncode == 0 and "model" in lines else -999


LOAD_CASES = [
    ("squeezenet.param", "f32"),
    ("mobilenet.param", "f16"),
    ("resnet18.param", "f32"),
    ("googlenet.param", "table"),
    ("mobilenet_ssd.param", "f16"),
    ("mobilenet_v3.param", "f32m"),
    ("shufflenet_v2.param", "f16"),
    ("efficientnet_b0.param", "table"),
    ("nanodet_m.param", "f32"),
    ("yolov4-tiny.param", "f16"),
    ("blazeface.param", "f32"),
    ("squeezenet_int8.param", "f32"),
    ("mobilenet_ssd_int8.param", "f16"),
    ("googlenet_int8.param", "f32"),
    ("vision_transformer.param", "table"),
    ("llm__tinyllama_1.1b_proj_out.ncnn.param", "table"),
]


@needs_ncnn
@pytest.mark.parametrize("name,encoding", LOAD_CASES, ids=[c[0].rsplit(".", 1)[0] for c in LOAD_CASES])
def test_corpus_synthetic_bin_loads_in_ncnn(name: str, encoding: str, tmp_path: Path) -> None:
    param = _corpus(PREFIX + name)
    m = modelfile.load(param)
    bin_path = tmp_path / "w.bin"
    written = synth_bin(m.graph, bin_path, encoding)
    size = bin_path.stat().st_size
    # our own reader finds exactly what was written, in the encodings written
    st = WeightStore(m.graph, np.memmap(bin_path, dtype=np.uint8, mode="r"), path=bin_path)
    _check_cover(st.spans, size)
    found = [(s.name, b.encoding) for s in st.spans if s is not None for b in s.blobs if b.encoding not in ("raw", "bytes")]
    assert found == written

    assert ncnn_load_rc(param, bin_path) == 0
    short = tmp_path / "short.bin"
    with open(bin_path, "rb") as src, open(short, "wb") as dst:
        dst.write(src.read(size - 4))
    assert ncnn_load_rc(param, short) != 0, "ncnn accepted a .bin 4 bytes shorter than the spans need"


@needs_ncnn
def test_binary_param_bin_spans(tmp_path: Path) -> None:
    pbin = _corpus("Tencent__ncnn__examples__squeezenet_v1.1.param.bin")
    text = _corpus("Tencent__ncnn__examples__squeezenet_v1.1.param")
    mb, mt = modelfile.load(pbin), modelfile.load(text)
    bin_path = tmp_path / "w.bin"
    synth_bin(mb.graph, bin_path, "f16")
    data = bin_path.read_bytes()
    sb, stt = layer_spans(mb.graph, data), layer_spans(mt.graph, data)
    _check_cover(sb, len(data))
    assert [(s.offset, s.nbytes) for s in sb if s] == [(s.offset, s.nbytes) for s in stt if s]
    assert ncnn_load_rc(pbin, bin_path) == 0
    (tmp_path / "short.bin").write_bytes(data[:-4])
    assert ncnn_load_rc(pbin, tmp_path / "short.bin") != 0


# ---------------------------------------------------------------------------
# ncnn's own read sequence (Python DataReader) vs the spans
# ---------------------------------------------------------------------------

_READS_CHILD = r"""
import ctypes, json, sys
import ncnn
get = ctypes.pythonapi.PyCapsule_GetPointer
get.restype, get.argtypes = ctypes.c_void_p, [ctypes.py_object, ctypes.c_char_p]
cname = ctypes.pythonapi.PyCapsule_GetName
cname.restype, cname.argtypes = ctypes.c_char_p, [ctypes.py_object]

class Zeros(ncnn.DataReader):
    # hands out zeros (= fp32 flag words and data) and logs every read size
    def __init__(self):
        super().__init__()
        self.log = []
    def scan(self, fmt, p):
        return 0
    def read(self, buf, size):
        ctypes.memset(get(buf, cname(buf)), 0, size)
        self.log.append(size)
        return size

for job in json.load(open(sys.argv[1])):
    net = ncnn.Net()
    net.opt.use_vulkan_compute = False
    net.opt.num_threads = 1
    ok = net.load_param(job["path"]) if "path" in job else net.load_param_mem(job["text"])
    if ok != 0:
        print(json.dumps({"id": job["id"], "param": ok}), flush=True)
        continue
    r = Zeros()
    rc = net.load_model(r)
    print(json.dumps({"id": job["id"], "rc": rc, "reads": r.log}), flush=True)
"""


def _expected_reads(graph: Graph) -> list[int]:
    """The reads ModelBin makes for all-zero data (flag 0 = fp32), from the spans logic."""
    out: list[int] = []
    for node in graph.nodes:
        specs = layer_layout(node)
        assert specs is not None, node.op_type
        for s in specs:
            if s.kind == "tagged":
                out.append(4)  # the flag word is read even for an empty blob
            if s.count:
                out.append(s.count * 4 if s.kind != "bytes" else (s.count + 3) & ~3)
    return out


def _ncnn_reads(jobs: list[dict[str, str]], tmp_path: Path) -> dict[str, dict[str, object]]:
    spec = tmp_path / "jobs.json"
    spec.write_text(json.dumps(jobs))
    r = subprocess.run([sys.executable, "-c", _READS_CHILD, str(spec)], capture_output=True, text=True, timeout=600)
    got = {}
    for ln in r.stdout.splitlines():
        d = json.loads(ln)
        got[d["id"]] = d
    if len(got) != len(jobs):
        crashed = jobs[len(got)]["id"]
        pytest.fail(f"ncnn child died ({r.returncode}) on {crashed}: {r.stderr[-400:]}")
    return got


# every weighted built-in type, with the param variants that change what is read
ZOO = """
Convolution 0=4 1=3 6=108
Convolution 0=4 1=3 5=1 6=108
Convolution 0=4 1=3 5=1 6=108 8=1
Convolution 0=4 1=3 5=1 6=108 8=101
Convolution 0=4 1=3 5=1 6=108 19=1 @2
ConvolutionDepthWise 0=4 1=3 5=1 6=36 7=4
ConvolutionDepthWise 0=4 1=3 5=1 6=36 7=4 8=1
ConvolutionDepthWise 0=4 1=3 5=1 6=36 7=4 8=2
ConvolutionDepthWise 0=4 1=3 5=1 6=36 7=4 8=101
ConvolutionDepthWise 0=4 1=3 5=1 6=36 7=4 8=102
ConvolutionDepthWise 0=4 1=3 5=1 6=36 7=4 19=1 @2
Convolution1D 0=4 1=3 5=1 6=36
Convolution1D 0=4 1=3 5=1 6=36 19=1 @2
ConvolutionDepthWise1D 0=4 1=3 5=1 6=12 7=4
ConvolutionDepthWise1D 0=4 1=3 5=1 6=12 7=4 19=1 @2
Convolution3D 0=4 1=3 5=1 6=324
ConvolutionDepthWise3D 0=4 1=3 5=1 6=108 7=4
Deconvolution 0=4 1=3 5=1 6=108
Deconvolution 0=4 1=3 5=1 6=108 28=1 @2
DeconvolutionDepthWise 0=4 1=3 5=1 6=36 7=4
DeconvolutionDepthWise 0=4 1=3 5=1 6=36 7=4 28=1 @2
Deconvolution1D 0=4 1=3 5=1 6=36
Deconvolution1D 0=4 1=3 5=1 6=36 28=1 @2
DeconvolutionDepthWise1D 0=4 1=3 5=1 6=12 7=4
DeconvolutionDepthWise1D 0=4 1=3 5=1 6=12 7=4 28=1 @2
Deconvolution3D 0=4 1=3 5=1 6=324
DeconvolutionDepthWise3D 0=4 1=3 5=1 6=108 7=4
DeformableConv2D 0=4 1=3 5=1 6=108 @3
InnerProduct 0=10 1=1 2=320
InnerProduct 0=10 2=320
InnerProduct 0=10 1=1 2=320 8=1
Embed 0=16 1=10 3=160
Embed 0=16 1=10 2=1 3=160 18=1
BatchNorm 0=8
Scale 0=8
Scale 0=8 1=1
Scale 0=-233 1=1 @2
Bias 0=8
PReLU 0=8
MemoryData 0=5 @0
MemoryData 0=5 1=3 @0
MemoryData 0=5 1=3 2=2 @0
MemoryData 0=5 1=3 11=4 2=2 @0
MemoryData 0=5 1=3 21=0 @0
MemoryData 2=0 @0
LayerNorm 0=8
LayerNorm 0=8 2=0
GroupNorm 0=2 1=8
GroupNorm 0=2 1=8 3=0
InstanceNorm 0=8
InstanceNorm 0=8 2=0
RMSNorm 0=8
RMSNorm 0=8 2=0
RNN 0=8 1=80
RNN 0=8 1=160 2=2
RNN 0=8 1=80 8=2
LSTM 0=8 1=320
LSTM 0=8 1=640 2=2
LSTM 0=6 1=320 3=8
LSTM 0=6 1=640 2=2 3=8
LSTM 0=8 1=320 8=2
GRU 0=8 1=240
GRU 0=8 1=480 2=2
GRU 0=8 1=240 8=2
MultiHeadAttention 0=32 1=4 2=1024
MultiHeadAttention 0=32 1=4 2=768 3=16 4=20 @3
MultiHeadAttention 0=32 1=4 2=1024 18=1
Gemm 10=4 2=0 3=1 4=0 5=1 6=1 7=12 8=64 9=32
Gemm 10=-1 2=0 3=1 4=0 5=1 6=1 7=1 8=10 9=24
Gemm 4=1 5=1 6=1 7=3 8=4 9=5 10=0
Gemm 4=1 5=1 6=1 7=3 8=4 9=5 10=1
Gemm 4=1 5=1 6=1 7=3 8=4 9=5 10=2
Gemm 4=1 5=1 6=1 7=3 8=4 9=5 10=3
Gemm 4=1 5=1 6=1 7=3 8=4 9=5 10=4
Gemm 2=1 3=1 4=1 5=1 7=3 8=4 9=5
Gemm 4=1 5=1 6=1 7=3 8=4 9=5 10=3 18=1
Gemm 4=0 5=0 6=1 7=3 8=4 9=5 10=3 @2
Gemm 3=1 5=1 7=1 8=5 9=13 18=400
Gemm 3=1 5=1 7=1 8=3 9=100 18=601
Gemm 3=1 5=1 6=1 10=4 7=1 8=7 9=65 18=812
Gemm 3=1 5=1 7=1 8=8 9=3 18=410
Normalize 3=8
Normalize 0=1 1=1 3=1
Quantize 0=8
Quantize
Dequantize 0=8 1=8
Dequantize 0=8
Requantize 0=8 1=8 2=8
Requantize
Padding 0=1 1=1 6=8
Padding 0=1 1=1
SDPA 18=1 @3
RotaryEmbed @3
Split @1
"""


def _zoo_lines() -> list[tuple[str, str]]:
    out = []
    for k, ln in enumerate(x.strip() for x in ZOO.strip().splitlines()):
        body, _, nb = ln.partition(" @")
        t, _, params = body.partition(" ")
        n_in = int(nb) if nb else 1
        bottoms = " ".join(["in0"] * n_in)
        layer = f"{t} zoo{k} {n_in} 1 {bottoms} out {params}".replace("  ", " ").strip()
        out.append((f"zoo{k}:{ln}", f"7767517\n2 2\nInput in0 0 1 in0\n{layer}\n"))
    return out


@needs_ncnn
def test_layer_zoo_reads_match_ncnn(tmp_path: Path) -> None:
    zoo = _zoo_lines()
    got = _ncnn_reads([{"id": k, "text": t} for k, t in zoo], tmp_path)
    bad = []
    for k, t in zoo:
        g = read_text(t)[0]
        d = got[k]
        assert "reads" in d, f"ncnn refused {k}"
        if d["reads"] != _expected_reads(g):
            bad.append((k, d["reads"], _expected_reads(g)))
    assert not bad, bad
    assert all(got[k]["rc"] == 0 for k, _ in zoo)  # every zoo layer really loads


READ_CORPUS_MAX_BYTES = 120_000_000  # keep the test quick; LLM decoders were checked the same way by hand


def _read_corpus() -> list[Path]:
    out = []
    for p in sorted(CORPUS_NCNN.glob("*.param")):
        try:
            g = modelfile.load(p).graph
        except ModelfileError:
            continue
        layouts = [layer_layout(n) for n in g.nodes]
        if any(lay is None for lay in layouts):
            continue  # custom layers: ncnn cannot load those params without the plugin
        need = sum(s.fixed_nbytes or 4 + 4 * s.count for lay in layouts for s in lay or [])
        if need <= READ_CORPUS_MAX_BYTES:
            out.append(p)
    return out


@needs_ncnn
def test_corpus_reads_match_ncnn(tmp_path: Path) -> None:
    if not CORPUS_NCNN.is_dir():
        pytest.skip("corpus not available")
    files = _read_corpus()
    assert len(files) >= 30
    got = _ncnn_reads([{"id": p.name, "path": str(p)} for p in files], tmp_path)
    bad = []
    for p in files:
        d = got[p.name]
        assert d.get("rc") == 0, (p.name, d.get("rc"), d.get("param"))
        if d["reads"] != _expected_reads(modelfile.load(p).graph):
            bad.append(p.name)
    assert not bad, bad


# ---------------------------------------------------------------------------
# decoding / encoding
# ---------------------------------------------------------------------------

def test_decode_every_encoding() -> None:
    g = _graph("""
        7767517
        2 2
        Input in0 0 1 in0
        InnerProduct fc 1 1 in0 out 0=3 1=1 2=6
        """)
    vals = np.arange(6, dtype=np.float32) / 4 - 0.5
    bias = np.array([1, 2, 3], "<f4").tobytes()
    fc = g.nodes[1]
    table = np.linspace(-1, 1, 256, dtype=np.float32)
    idx = np.array([0, 255, 128, 7, 9, 200], np.uint8)
    cases = {
        "f32": tagged_bytes(vals, "f32"),
        "f16": tagged_bytes(vals, "f16"),
        "i8": tagged_bytes(np.arange(-3, 3), "i8"),
        "f32m": struct.pack("<I", FLAG_FP32_MARKED) + vals.astype("<f4").tobytes(),
        "table": struct.pack("<I", 0x12345678) + table.astype("<f4").tobytes() + idx.tobytes() + b"\0\0",
    }
    assert struct.unpack("<I", cases["f16"][:4])[0] == FLAG_FP16 and len(cases["f16"]) == 4 + 12
    assert struct.unpack("<I", cases["i8"][:4])[0] == FLAG_INT8 and len(cases["i8"]) == 4 + 8
    for enc, blob in cases.items():
        st = WeightStore(g, blob + bias)
        w, b = st.blobs_of(fc)
        assert [x.encoding for x in st.blob_info(fc)] == [enc, "raw"]
        np.testing.assert_array_equal(b, [1, 2, 3])
        if enc == "i8":
            assert w.dtype == np.int8 and list(w) == [-3, -2, -1, 0, 1, 2]
        elif enc == "table":
            assert w.dtype == np.float32
            np.testing.assert_array_equal(w, table[idx])
        else:
            assert w.dtype == np.float32
            np.testing.assert_array_equal(w, vals)


def test_memorydata_helpers() -> None:
    assert memorydata_dims((7,)) == {0: 7}
    assert memorydata_dims((2, 7)) == {1: 2, 0: 7}
    assert memorydata_dims((3, 2, 7)) == {2: 3, 1: 2, 0: 7}
    assert memorydata_dims((3, 4, 2, 7)) == {2: 3, 11: 4, 1: 2, 0: 7}
    with pytest.raises(ModelfileError):
        memorydata_dims((1, 2, 3, 4, 5))
    a = np.arange(6, dtype=np.float64).reshape(2, 3)
    assert memorydata_bytes(a) == a.astype("<f4").tobytes()
    g = _graph("""
        7767517
        1 1
        MemoryData md 0 1 out 0=3 1=2
        """)
    st = WeightStore(g, memorydata_bytes(a))
    [blob] = st.blobs_of(g.nodes[0])
    assert blob.shape == (2, 3)
    np.testing.assert_array_equal(blob, a)


# ---------------------------------------------------------------------------
# errors
# ---------------------------------------------------------------------------

def test_short_bin_names_layer_and_line(tmp_path: Path) -> None:
    src = FIXTURES / "ncnn" / "convlstm.ncnn.param"
    data = src.with_name("convlstm.ncnn.bin").read_bytes()
    m = modelfile.load(src)
    with pytest.raises(ModelfileError) as e:
        layer_spans(m.graph, data[:2000])
    msg = str(e.value)
    assert "lstm_2" in msg and "line 6" in msg and "offset 1604" in msg and "2000" in msg
    assert e.value.diagnostic.line == 6 and e.value.diagnostic.file.endswith("convlstm.ncnn.param")
    # the weights file of another model
    (tmp_path / "a.param").write_bytes(src.read_bytes())
    (tmp_path / "a.bin").write_bytes((FIXTURES / "ncnn" / "block.ncnn.bin").read_bytes()[:1000])
    with pytest.raises(ModelfileError, match="conv1drelu_0|lstm_2"):
        WeightStore.from_model(modelfile.load(tmp_path / "a.param"))
    (tmp_path / "a.bin").unlink()
    with pytest.raises(ModelfileError, match="not found"):
        WeightStore.from_model(modelfile.load(tmp_path / "a.param"))


def test_trailing_bytes_are_reported_and_kept(tmp_path: Path) -> None:
    src = FIXTURES / "ncnn" / "convlstm.ncnn.param"
    data = src.with_name("convlstm.ncnn.bin").read_bytes() + b"JUNKJUNK"
    st = WeightStore(modelfile.load(src).graph, data)
    assert st.trailing == 8
    out = io.BytesIO()
    st.write_to(out)
    assert out.getvalue() == data


def test_bad_layouts_are_errors() -> None:
    g = _graph("""
        7767517
        2 2
        Input in0 0 1 in0
        MemoryData md 0 1 out 0=4 21=3
        """)
    with pytest.raises(ModelfileError, match="load_type"):
        layer_spans(g, b"\0" * 64)
    g = _graph("""
        7767517
        2 2
        Input in0 0 1 in0
        Convolution c 1 1 in0 out 0=4 6=-5
        """)
    with pytest.raises(ModelfileError, match="negative"):
        layer_spans(g, b"\0" * 64)


# ---------------------------------------------------------------------------
# write_to: round trips and edits
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("param", FIXTURE_PARAMS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_unchanged_store_writes_identical_bytes(param: Path) -> None:
    m = modelfile.load(param)
    st = WeightStore.from_model(m)
    assert m.meta["weights"] is st and not st.dirty
    out = io.BytesIO()
    n = st.write_to(out, m.graph, chunk_size=1000)  # small chunks exercise the streaming loop
    assert out.getvalue() == Path(m.meta["bin_path"]).read_bytes() and n == st.size
    assert st.plan() == [(0, st.size)]  # coalesced into one copy


def test_remove_last_weighted_layer_drops_its_span() -> None:
    m = modelfile.load(FIXTURES / "ncnn" / "convlstm.ncnn.param")
    st = WeightStore.from_model(m)
    gemm = m.find_node("gemm_0")
    span = st.spans_of(gemm)
    assert span is not None and span.end == st.size
    m.graph.remove(gemm)
    assert st.dirty
    out = io.BytesIO()
    st.write_to(out, m.graph)
    assert out.getvalue() == Path(m.meta["bin_path"]).read_bytes()[: span.offset]


def test_weightless_edits_keep_the_bin(tmp_path: Path) -> None:
    m = modelfile.load(FIXTURES / "ncnn" / "convlstm.ncnn.param")
    st = WeightStore.from_model(m)
    perm = m.find_node("transpose_4")
    perm.outputs[0].replace_all_uses_with(perm.inputs[0])
    m.graph.remove(perm)
    m.find_node("gemm_0").name = "renamed"
    assert not st.dirty
    assert m.save(tmp_path / "x.param").weights == "copied"


def test_save_in_place_rewrites_from_the_old_mapping(tmp_path: Path) -> None:
    for ext in ("param", "bin"):
        (tmp_path / f"c.{ext}").write_bytes((FIXTURES / "ncnn" / f"convlstm.ncnn.{ext}").read_bytes())
    orig = (tmp_path / "c.bin").read_bytes()
    m = modelfile.load(tmp_path / "c.param")
    st = WeightStore.from_model(m)
    conv = m.find_node("conv1drelu_0")
    span = st.spans_of(conv)
    assert span is not None
    m.graph.remove(m.find_node("gemm_0"))
    payload = memorydata_bytes(np.arange(4))
    md = Node("MemoryData", "k", outputs=[Value("k")], attrs={0: Param.of(0, 4)})
    m.graph.insert(0, md)
    st.set_layer_data(md, payload)
    assert m.save().weights == "rewritten"
    gemm_off = 1604 + 15756
    assert (tmp_path / "c.bin").read_bytes() == payload + orig[:gemm_off]
    # the store still reads the replaced file's bytes through its mapping
    np.testing.assert_array_equal(st.blobs_of(conv)[1], np.frombuffer(orig, "<f4")[385:401])
    m2 = modelfile.load(tmp_path / "c.param")
    _check_cover(layer_spans(m2.graph, (tmp_path / "c.bin").read_bytes()), len(payload) + gemm_off)


def test_unwritable_weights_fail_before_the_param_is_touched(tmp_path: Path) -> None:
    for ext in ("param", "bin"):
        (tmp_path / f"c.{ext}").write_bytes((FIXTURES / "ncnn" / f"convlstm.ncnn.{ext}").read_bytes())
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    m = modelfile.load(tmp_path / "c.param")
    WeightStore.from_model(m)
    m.graph.insert(1, Node("MemoryData", "k", outputs=[Value("k")], attrs={0: Param.of(0, 3)}))
    with pytest.raises(ModelfileError, match="layer k .*reads weights but has none"):
        m.save()
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


@needs_ncnn
def test_remove_middle_weighted_layer(tmp_path: Path) -> None:
    m = modelfile.load(FIXTURES / "ncnn" / "block.ncnn.param")
    st = WeightStore.from_model(m)
    ln = m.find_node("ln_4")
    span = st.spans_of(ln)
    assert span is not None and 0 < span.offset < span.end < st.size  # type: ignore[operator]
    ln.outputs[0].replace_all_uses_with(ln.inputs[0])
    m.graph.remove(ln)
    res = m.save(tmp_path / "b.param")
    assert res.weights == "rewritten"
    orig = Path(m.meta["bin_path"]).read_bytes()
    assert (tmp_path / "b.bin").read_bytes() == orig[: span.offset] + orig[span.end:]
    x = np.random.default_rng(1).standard_normal((12, 32)).astype(np.float32)
    out = run_ncnn(tmp_path / "b.param", tmp_path / "b.bin", {"in0": x}, ["out0"])["out0"]
    assert out.shape == (12, 32) and np.isfinite(out).all()


def _freeze_input(m: modelfile.Model, name: str, value: np.ndarray) -> Node:
    """Turn Input ``name`` into a MemoryData layer holding ``value`` at the same position."""
    g = m.graph
    inp = g.find_node(name)
    assert inp is not None
    v = inp.outputs[0]
    idx = g.nodes.index(inp)
    inp.remove_output(0)
    g.remove(inp)
    md = Node("MemoryData", name + "_frozen",
              attrs={k: Param.of(k, d) for k, d in memorydata_dims(value.shape).items()})
    md.append_output(v)
    g.insert(idx, md)
    g.inputs.remove(v)
    m.meta["weights"].set_layer_data(md, memorydata_bytes(value))
    return md


@needs_ncnn
def test_inserted_memorydata_runs_in_ncnn(tmp_path: Path) -> None:
    src = FIXTURES / "ncnn" / "decoder.ncnn.param"
    rng = np.random.default_rng(7)
    tokens = np.array([3, 7], np.int32)
    h, c = (rng.standard_normal((1, 24)).astype(np.float32) for _ in range(2))
    outs = ["out0", "out1", "out2"]
    want = run_ncnn(src, src.with_name("decoder.ncnn.bin"), {"in0": tokens, "in1": h, "in2": c}, outs)

    m = modelfile.load(src)
    st = WeightStore.from_model(m)
    md = _freeze_input(m, "in1", h)
    assert m.graph.nodes.index(md) == 1 and st.dirty
    res = m.save(tmp_path / "f.param")
    assert res.weights == "rewritten"
    data = (tmp_path / "f.bin").read_bytes()
    orig = src.with_name("decoder.ncnn.bin").read_bytes()
    # the MemoryData bytes come first: it is the first layer with weights
    assert data == memorydata_bytes(h) + orig
    got = run_ncnn(tmp_path / "f.param", tmp_path / "f.bin", {"in0": tokens, "in2": c}, outs)
    for k in outs:
        np.testing.assert_allclose(got[k], want[k], rtol=1e-5, atol=1e-6)
    # the new layer reads back through the store, and its spans show where it landed
    st2 = WeightStore.from_model(modelfile.load(tmp_path / "f.param"))
    node = st2.graph.find_node("in1_frozen")
    np.testing.assert_array_equal(st2.blobs_of(node)[0], h)
    assert st2.spans_of(node).offset == 0  # type: ignore[union-attr]


def test_memorydata_between_weighted_layers() -> None:
    m = modelfile.load(FIXTURES / "ncnn" / "convlstm.ncnn.param")
    st = WeightStore.from_model(m)
    lstm = m.find_node("lstm_2")
    at = m.graph.nodes.index(lstm)
    md = Node("MemoryData", "k", outputs=[Value("k")], attrs={0: Param.of(0, 3)})
    m.graph.insert(at, md)
    assert st.dirty
    with pytest.raises(ModelfileError, match="new layer that reads weights"):
        st.write_to(io.BytesIO())
    payload = memorydata_bytes(np.array([1, 2, 3]))
    st.set_layer_data(md, payload)
    out = io.BytesIO()
    st.write_to(out)
    orig = Path(m.meta["bin_path"]).read_bytes()
    cut = st.spans_of(lstm).offset  # type: ignore[union-attr]
    assert out.getvalue() == orig[:cut] + payload + orig[cut:]
    assert layer_spans(m.graph, out.getvalue())[at].offset == cut  # type: ignore[union-attr]


def test_reorder_weighted_layers() -> None:
    m = modelfile.load(FIXTURES / "ncnn" / "convlstm.ncnn.param")
    st = WeightStore.from_model(m)
    orig = Path(m.meta["bin_path"]).read_bytes()
    conv, gemm = m.find_node("conv1drelu_0"), m.find_node("gemm_0")
    sc, sg = st.spans_of(conv), st.spans_of(gemm)
    nodes = list(m.graph.nodes)
    i, j = nodes.index(conv), nodes.index(gemm)
    nodes[i], nodes[j] = nodes[j], nodes[i]
    m.graph.nodes = nodes
    out = io.BytesIO()
    st.write_to(out)
    mid = orig[sc.end: sg.offset]  # type: ignore[union-attr, misc]
    assert out.getvalue() == orig[sg.offset: sg.end] + mid + orig[sc.offset: sc.end]  # type: ignore[union-attr, misc]


def test_changed_params_must_match_bytes() -> None:
    m = modelfile.load(FIXTURES / "ncnn" / "convlstm.ncnn.param")
    st = WeightStore.from_model(m)
    conv = m.find_node("conv1drelu_0")
    conv.attrs[9] = Param.of(9, 0)  # activation: weights unchanged, still writable
    out = io.BytesIO()
    st.write_to(out)
    assert out.getvalue() == Path(m.meta["bin_path"]).read_bytes()
    conv.attrs[5] = Param.of(5, 0)  # no bias any more: 64 bytes too many
    assert st.dirty
    with pytest.raises(ModelfileError, match="conv1drelu_0.*holds 1604 bytes.*read 1540"):
        st.write_to(io.BytesIO())
    st.set_layer_data(conv, bytes(st.layer_bytes(conv))[:1540])
    out = io.BytesIO()
    st.write_to(out)
    assert len(out.getvalue()) == st.size - 64
    with pytest.raises(ModelfileError, match="multiple of 4"):
        st.set_layer_data(conv, b"abc")


@needs_ncnn
def test_fp16_and_table_reencoding_run_in_ncnn(tmp_path: Path) -> None:
    """Re-encode every tagged blob; ncnn must compute what an fp32 .bin of the decoded values gives."""
    src = FIXTURES / "ncnn" / "convlstm.ncnn.param"
    x = np.random.default_rng(3).standard_normal((8, 20)).astype(np.float32)
    for enc in ("f16", "table"):
        m, ref_m = modelfile.load(src), modelfile.load(src)
        st, ref = WeightStore.from_model(m), WeightStore.from_model(ref_m)
        for node, ref_node in zip(m.graph.nodes, ref_m.graph.nodes):
            infos = st.blob_info(node)
            if not infos:
                continue
            parts = []
            for info, vals in zip(infos, st.blobs_of(node)):
                flat = vals.reshape(-1)
                if info.encoding == "raw":
                    parts.append(flat.astype("<f4").tobytes())
                elif enc == "f16":
                    parts.append(tagged_bytes(flat, "f16"))
                else:
                    lo, hi = float(flat.min()), float(flat.max())
                    table = np.linspace(lo, hi, 256, dtype=np.float32)
                    idx = np.clip(np.rint((flat - lo) / (hi - lo) * 255), 0, 255).astype(np.uint8)
                    parts.append(struct.pack("<I", _TABLE_FLAG) + table.tobytes() + idx.tobytes()
                                 + b"\0" * (-idx.size % 4))
            st.set_layer_data(node, b"".join(parts))
            # the reference holds exactly the values the store decodes from the new bytes, as fp32
            ref.set_layer_data(ref_node, b"".join(
                v.astype("<f4").tobytes() if i.encoding == "raw" else tagged_bytes(v.reshape(-1), "f32")
                for i, v in zip(st.blob_info(node), st.blobs_of(node))))
        assert [b.encoding for b in st.blob_info(m.find_node("lstm_2"))] == [enc] * 3
        m.save(tmp_path / f"{enc}.param")
        ref_m.save(tmp_path / f"{enc}_ref.param")
        assert (tmp_path / f"{enc}.bin").stat().st_size < (tmp_path / f"{enc}_ref.bin").stat().st_size
        got = run_ncnn(tmp_path / f"{enc}.param", tmp_path / f"{enc}.bin", {"in0": x}, ["out0"])["out0"]
        want = run_ncnn(tmp_path / f"{enc}_ref.param", tmp_path / f"{enc}_ref.bin", {"in0": x}, ["out0"])["out0"]
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)


# ---------------------------------------------------------------------------
# layers of unknown layout
# ---------------------------------------------------------------------------

_CUSTOM = """
7767517
6 6
Input in0 0 1 in0
Convolution c1 1 1 in0 a 0=2 1=1 6=4
FooLayer foo 1 1 a b 0=3
Convolution c2 1 1 b c 0=2 1=1 6=4 5=1
ReLU r 1 1 c d
InnerProduct fc 1 1 d out 0=2 1=0 2=8
"""


def _custom_bin() -> bytes:
    conv = tagged_bytes(np.ones(4, np.float32))
    return conv + b"\x11" * 12 + conv + b"\0" * 8 + tagged_bytes(np.ones(8, np.float32))


def test_unknown_layer_makes_later_spans_unresolved() -> None:
    g = _graph(_CUSTOM)
    data = _custom_bin()
    spans = layer_spans(g, data)
    assert spans[1] is not None and spans[1].status == "known" and spans[1].nbytes == 20
    assert [s.status if s else None for s in spans[2:]] == ["unresolved", "unresolved", None, "unresolved"]
    assert spans[3].group_offset == 20 and spans[3].group_nbytes == len(data) - 20  # type: ignore[union-attr]
    assert trailing_bytes(spans, len(data)) is None

    st = WeightStore(g, data)
    assert not st.dirty
    out = io.BytesIO()
    st.write_to(out)
    assert out.getvalue() == data
    c2 = g.find_node("c2")
    with pytest.raises(ModelfileError, match="c2 .*foo \\(FooLayer\\)"):
        st.blobs_of(c2)
    # a new MemoryData before the unknown layer is fine
    md = Node("MemoryData", "k", outputs=[Value("k")], attrs={0: Param.of(0, 1)})
    g.insert(1, md)
    st.set_layer_data(md, memorydata_bytes(np.array([5.0])))
    out = io.BytesIO()
    st.write_to(out)
    assert out.getvalue() == memorydata_bytes(np.array([5.0])) + data
    # removing a layer whose bytes cannot be told apart is refused
    g.remove(g.find_node("fc"))
    with pytest.raises(ModelfileError, match="fc .*foo \\(FooLayer\\)"):
        st.write_to(io.BytesIO())


def test_unknown_layer_last_gets_opaque_span() -> None:
    g = _graph("""
        7767517
        3 3
        Input in0 0 1 in0
        Convolution c1 1 1 in0 a 0=2 1=1 6=4
        FooLayer foo 1 1 a b 0=3
        """)
    data = tagged_bytes(np.ones(4, np.float32)) + b"\x11" * 12
    spans = layer_spans(g, data)
    assert spans[2] is not None and (spans[2].status, spans[2].offset, spans[2].nbytes) == ("opaque", 20, 12)
    st = WeightStore(g, data)
    assert bytes(st.layer_bytes(g.nodes[2])) == b"\x11" * 12
    g.nodes = [g.nodes[0], g.nodes[2], g.nodes[1], *g.nodes[3:]]
    out = io.BytesIO()
    st.write_to(out)
    assert out.getvalue() == b"\x11" * 12 + tagged_bytes(np.ones(4, np.float32))


def test_register_layout_for_custom_type() -> None:
    register_layout("FooLayer", lambda p: [BlobSpec("w", p(0, 0), "raw")])
    try:
        g = _graph(_CUSTOM)
        spans = layer_spans(g, _custom_bin())
        _check_cover(spans, len(_custom_bin()))
        assert spans[2].nbytes == 12  # type: ignore[union-attr]
    finally:
        register_layout("FooLayer", None)
    assert layer_layout(_graph(_CUSTOM).nodes[2]) == []  # now registered as weight-less


def test_known_weightless_custom_types() -> None:
    g = _graph("""
        7767517
        3 2
        SherpaMetaData sherpa_meta_data1 0 0 0=2 1=32
        Input in0 0 1 in0
        PoolingModuleNoProj p 1 1 in0 out
        """)
    assert all(s is None for s in layer_spans(g, b""))


# ---------------------------------------------------------------------------
# speed
# ---------------------------------------------------------------------------

def test_spans_are_fast_on_big_models(tmp_path: Path) -> None:
    lines = ["7767517", "2001 2001", "Input in0 0 1 b0"]
    for i in range(1000):
        lines.append(f"Convolution conv{i} 1 1 b{2 * i} b{2 * i + 1} 0=16 1=3 5=1 6=25000")
        lines.append(f"ReLU relu{i} 1 1 b{2 * i + 1} b{2 * i + 2}")
    g = read_text("\n".join(lines) + "\n")[0]
    path = tmp_path / "big.bin"
    size = (4 + 25000 * 4 + 64) * 1000  # ~100 MB
    with open(path, "wb") as f:
        f.truncate(size)  # sparse zeros: flag words 0 = fp32
    # (how fast: tools/bench_ncnn.py; timings do not belong in unit tests)
    st = WeightStore(g, np.memmap(path, dtype=np.uint8, mode="r"), path=path)
    assert not st.dirty and st.trailing == 0 and len(st.spans) == 2001
