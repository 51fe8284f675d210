"""`modelfile convert --param-format binary|text`: ncnn2mem's .param.bin + .id.h and back."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import modelfile
from conftest import CORPUS, FIXTURES, needs_ncnn
from modelfile.cli import app
from modelfile.formats.ncnn import bin_path_for
from modelfile.formats.ncnn.layers import TYPE_INDEX
from modelfile.formats.ncnn.mem import ncnn_float, parse_id_header
from ncnn_runner import run_ncnn

runner = CliRunner()
PARAMS = sorted(p for p in FIXTURES.rglob("*.ncnn.param"))


def _to_binary(src: Path, out: Path) -> None:
    r = runner.invoke(app, ["convert", str(src), "--param-format", "binary", "-o", str(out)])
    assert r.exit_code == 0, r.output


def _words(p: Path) -> np.ndarray:
    return np.frombuffer(p.read_bytes(), "<i4")


@pytest.mark.parametrize("param", PARAMS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_text_binary_text_is_byte_identical(param: Path, tmp_path: Path) -> None:
    out = tmp_path / "sq.param.bin"
    _to_binary(param, out)
    if bin_path_for(param).exists():
        assert (tmp_path / "sq.bin").read_bytes() == bin_path_for(param).read_bytes()
    else:  # fixture params committed without weights
        assert not (tmp_path / "sq.bin").exists()
    header = (tmp_path / "sq.id.h").read_text()
    assert header.startswith("#ifndef NCNN_INCLUDE_GUARD_sq_id_h\n") and "namespace sq_param_id {" in header
    w = _words(out)
    m = modelfile.load(param)
    assert w[0] == 7767517 and w[1] == len(m.nodes) and (w == -233).sum() >= len(m.nodes)
    back = tmp_path / "back.ncnn.param"
    r = runner.invoke(app, ["convert", str(out), "--param-format", "text", "--id-header",
                            str(tmp_path / "sq.id.h"), "-o", str(back)])
    assert r.exit_code == 0, r.output
    if all(re.fullmatch(r"[0-9A-Za-z_]+", n.name) for n in m.nodes) and \
            all(re.fullmatch(r"[0-9A-Za-z_]+", v.name) for v in m.graph.values()):
        # same types, names, blobs and param keys; values are compared as words below (floats are respelt)
        def key(ln: str) -> list[str]:
            t = ln.split()
            return t[:4 + int(t[2]) + int(t[3])] + sorted(x.split("=")[0] for x in t[4 + int(t[2]) + int(t[3]):])
        want = [key(ln) for ln in param.read_text().splitlines()[2:]]
        got = [key(ln) for ln in back.read_text().splitlines()[2:]]
        assert got == want
    # and re-encoding the text gives the same words (params typed back exactly)
    _to_binary(back, tmp_path / "again.param.bin")
    assert (tmp_path / "again.param.bin").read_bytes() == out.read_bytes()


def test_names_generated_without_header(tmp_path: Path) -> None:
    src = FIXTURES / "ncnn" / "block.ncnn.param"
    _to_binary(src, tmp_path / "b.param.bin")
    r = runner.invoke(app, ["convert", str(tmp_path / "b.param.bin"), "--param-format", "text", "-o",
                            str(tmp_path / "t.param"), "--json"])
    assert r.exit_code == 0, r.output
    notes = " ".join(json.loads(r.stdout)["notes"])
    assert "names generated for 11 layer(s) and 13 blob(s)" in notes and "--id-header" in notes
    text = (tmp_path / "t.param").read_text()
    assert "layer0" in text and "blob12" in text
    assert "1.000000e-05" in text or "1e-05" in text or "1.0e-5" in text.replace("1.000000e-5", "1.0e-5")


def test_float_spelling_parses_to_the_same_bits() -> None:
    for x in (1e-5, 0.1, 3.4028235e38, 1.17549435e-38, -2.5, 0.7071067811865476):
        f = np.float32(x)
        assert np.float32(ncnn_float(np.format_float_scientific(f, unique=True))) == f


def test_id_header_parse_and_refusal(tmp_path: Path) -> None:
    h = tmp_path / "x.id.h"
    h.write_text("namespace x_id {\nconst int LAYER_in0 = 0;\nconst int BLOB_in0 = 0;\nconst int TYPEINDEX_My = 256;\n}\n")
    n = parse_id_header(h)
    assert n.layers == {0: "in0"} and n.blobs == {0: "in0"} and n.types == {256: "My"}
    h.write_text("int main() {}\n")
    r = runner.invoke(app, ["convert", str(FIXTURES / "ncnn" / "block.ncnn.param"), "--param-format", "binary",
                            "-o", str(tmp_path / "a.param.bin")])
    assert r.exit_code == 0
    r = runner.invoke(app, ["convert", str(tmp_path / "a.param.bin"), "--param-format", "text", "--id-header",
                            str(h), "-o", str(tmp_path / "t.param")])
    assert r.exit_code == 2 and "x.id.h" in r.stderr and "not an ncnn2mem .id.h" in r.stderr


def test_custom_layer_type_indexes(tmp_path: Path) -> None:
    src = tmp_path / "c.param"
    src.write_text("7767517\n4 4\nInput in0 0 1 in0\nMyOp a 1 1 in0 x 0=1\nMyOther b 1 1 x y\nMyOp c 1 1 y z 0=2.5\n")
    _to_binary(src, tmp_path / "c2.param.bin")
    w = _words(tmp_path / "c2.param.bin")
    assert [int(x) for x in w[3:7]] == [TYPE_INDEX["Input"], 0, 1, 0]
    assert [int(x) for x in w[8:11]] == [0x100, 1, 1]  # MyOp: the first custom type
    header = (tmp_path / "c2.id.h").read_text()
    assert "const int TYPEINDEX_MyOp = 256;" in header and "const int TYPEINDEX_MyOther = 257;" in header
    back = tmp_path / "c3.param"
    r = runner.invoke(app, ["convert", str(tmp_path / "c2.param.bin"), "--param-format", "text", "--id-header",
                            str(tmp_path / "c2.id.h"), "-o", str(back)])
    assert r.exit_code == 0, r.output
    got = [ln.split() for ln in back.read_text().splitlines()[2:]]
    assert [g[0] for g in got] == ["Input", "MyOp", "MyOther", "MyOp"]
    assert got[3][-1] == "0=2.5e+0" or float(got[3][-1].split("=")[1]) == 2.5


_BIN_CHILD = r"""
import json, sys
import numpy as np
import ncnn
spec = json.load(open(sys.argv[1]))
net = ncnn.Net()
for k in ("use_fp16_storage", "use_fp16_packed", "use_fp16_arithmetic", "use_bf16_storage"):
    setattr(net.opt, k, False)
net.opt.num_threads = 1
if net.load_param_bin(spec["param"]) != 0:
    sys.exit(3)
if net.load_model(spec["bin"]) != 0:
    sys.exit(4)
data = np.load(spec["inputs"])
ex = net.create_extractor()
arrays = {k: np.ascontiguousarray(data[k]) for k in data.files}  # alive until cloned: Mat borrows
for k, a in arrays.items():
    ex.input(int(k), ncnn.Mat(a).clone())
res = {}
for i in spec["outputs"]:
    rc, m = ex.extract(int(i))
    if rc != 0:
        sys.exit(6)
    res[str(i)] = np.array(m).copy()
np.savez(spec["out"], **res)
"""


def _run_bin(param: Path, binf: Path, inputs: dict[int, np.ndarray], outputs: list[int], tmp: Path) -> dict:
    np.savez(tmp / "in.npz", **{str(k): v for k, v in inputs.items()})
    spec = {"param": str(param), "bin": str(binf), "inputs": str(tmp / "in.npz"), "outputs": outputs,
            "out": str(tmp / "out.npz")}
    (tmp / "spec.json").write_text(json.dumps(spec))
    (tmp / "child.py").write_text(_BIN_CHILD)
    r = subprocess.run([sys.executable, str(tmp / "child.py"), str(tmp / "spec.json")], capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-500:]
    out = np.load(tmp / "out.npz")
    return {k: out[k] for k in out.files}


@needs_ncnn
@pytest.mark.parametrize("name", ["convlstm", "block", "decoder", "fp16/mixed.fp16"])
def test_param_bin_runs_in_ncnn_with_equal_outputs(name: str, tmp_path: Path) -> None:
    src = FIXTURES / "ncnn" / f"{name}.ncnn.param"
    _to_binary(src, tmp_path / "m.param.bin")
    ids = parse_id_header(tmp_path / "m.id.h")
    blob = {v: k for k, v in ids.blobs.items()}
    rng = np.random.default_rng(2)
    if name == "convlstm":
        inputs, outputs = {"in0": rng.standard_normal((8, 20)).astype(np.float32)}, ["out0"]
    elif name == "block":
        inputs, outputs = {"in0": rng.standard_normal((12, 32)).astype(np.float32)}, ["out0"]
    elif name == "decoder":
        inputs = {"in0": np.array([3, 7], np.int32), "in1": rng.standard_normal((1, 24)).astype(np.float32),
                  "in2": rng.standard_normal((1, 24)).astype(np.float32)}
        outputs = ["out0", "out1", "out2"]
    else:
        inputs = {"in0": rng.standard_normal((4, 8, 8)).astype(np.float32),
                  "in1": np.array([1, 5, 9, 2, 0, 10], np.int32)}
        outputs = ["out0", "out1"]
    want = run_ncnn(src, bin_path_for(src), inputs, outputs)
    got = _run_bin(tmp_path / "m.param.bin", tmp_path / "m.bin", {blob[k]: v for k, v in inputs.items()},
                   [blob[o] for o in outputs], tmp_path)
    for o in outputs:
        np.testing.assert_array_equal(got[str(blob[o])], want[o])


@needs_ncnn
def test_corpus_param_bin_to_text_loads_in_ncnn(tmp_path: Path) -> None:
    src = CORPUS / "ncnn" / "Tencent__ncnn__examples__squeezenet_v1.1.param.bin"
    if not src.exists():
        pytest.skip("corpus not available")
    out = tmp_path / "sq.param"
    r = runner.invoke(app, ["convert", str(src), "--param-format", "text", "-o", str(out)])
    assert r.exit_code == 0, r.output
    code = ("import ncnn,sys\nn=ncnn.Net()\nsys.exit(n.load_param(sys.argv[1]))\n")
    assert subprocess.run([sys.executable, "-c", code, str(out)], timeout=60).returncode == 0
    # back to binary: ncnn2mem's words again
    _to_binary(out, tmp_path / "again.param.bin")
    assert (tmp_path / "again.param.bin").read_bytes() == src.read_bytes()


def test_id_header_is_saved_with_the_param(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The .id.h is one of the files the save writes: through the API too, and not at all when the gate refuses."""
    from modelfile import saving
    from modelfile.passes.convert import convert_param_format
    from modelfile.report import Check

    out = tmp_path / "api.param.bin"
    m = modelfile.load(PARAMS[0])
    convert_param_format(m, "binary", out=out)
    saved = m.save(out)
    assert tmp_path / "api.id.h" in saved.files
    assert "namespace api_param_id {" in (tmp_path / "api.id.h").read_text()

    refused = tmp_path / "refused.param.bin"
    m = modelfile.load(PARAMS[0])
    convert_param_format(m, "binary", out=refused)
    monkeypatch.setattr(saving, "_verify", lambda *a, **k: [Check("lint", "failed", "injected")])
    with pytest.raises(modelfile.ModelfileError, match="injected"):
        m.save(refused)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in saved.files)
