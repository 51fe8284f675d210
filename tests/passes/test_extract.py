"""``modelfile extract``: the extracted model loads and runs in the runtime and computes what the same
nodes compute inside the original model (boundary tensors taken from a run of the original)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import modelfile
from conftest import CORPUS, FIXTURES, ROOT, corpus_files, needs_ncnn, needs_openvino
from modelfile.errors import ModelfileError
from modelfile.mo_input import parse_input, parse_output
from modelfile.passes.extract import extract_around, extract_between

JOINT = FIXTURES / "openvino/rnnt/joint.xml"
BLOCK = FIXTURES / "ncnn/block.ncnn.param"
F32 = {"INFERENCE_PRECISION_HINT": "f32"}


def _extract(src: Path, tmp: Path, fn, name: str):  # type: ignore[no-untyped-def]
    m = modelfile.load(src)
    report = fn(m)
    out = tmp / name
    m.save(out)
    return report, modelfile.load(out), out


def _bin(param: Path) -> Path:
    from modelfile.formats.ncnn import bin_path_for

    return bin_path_for(param)


def _names(m: modelfile.Model) -> tuple[list[str], list[str]]:
    return [v.name for v in m.inputs], [v.name for v in m.outputs]


# -- the graph --------------------------------------------------------------------------------------

def test_ir_region_inputs_outputs_and_weights(tmp_path: Path) -> None:
    report, sub, out = _extract(JOINT, tmp_path, lambda m: extract_around(m, "aten::relu/Relu", 1), "sub.xml")
    assert [c.target for c in report.changes if c.kind == "new-input"] == ["14", "17"]
    assert [n.op_type for n in sub.nodes] == ["Parameter", "Parameter", "Add", "ReLU", "Const", "MatMul", "Result"]
    assert [(v.name, v.dtype, v.shape) for v in sub.inputs] == [("14", "f32", (-1, -1, 24)), ("17", "f32", (-1, -1, 24))]
    # the MatMul's output fed something outside: it is the output now
    (res,) = [n for n in sub.nodes if n.op_type == "Result"]
    assert res.inputs[0].producer.name == "__module.out/aten::linear/MatMul"
    # only the MatMul weight is carried over, byte for byte
    from modelfile.formats.openvino import const_array

    w = sub.find_node("self.out.weight")
    np.testing.assert_array_equal(const_array(w), const_array(modelfile.load(JOINT).find_node("self.out.weight")))
    assert out.with_suffix(".bin").stat().st_size == 29 * 24 * 4


def test_ncnn_region_keeps_weights_and_declared_inputs(tmp_path: Path) -> None:
    report, sub, out = _extract(BLOCK, tmp_path, lambda m: extract_around(m, "ln_3", 1), "sub.ncnn.param")
    # ln_3 reads the Split top; the Split is inside at depth 1, and the declared input in0 comes along whole
    assert [n.name for n in sub.nodes] == ["in0", "splitncnn_0", "ln_3", "attention_5"]
    assert _names(sub) == (["in0"], ["1", "4"])
    assert [c.target for c in report.changes if c.kind == "new-input"] == []
    from modelfile.formats.ncnn.weights import WeightStore

    orig = modelfile.load(BLOCK)
    a = WeightStore.from_model(orig, attach=False)
    b = WeightStore.from_model(sub, attach=False)
    for name in ("ln_3", "attention_5"):
        assert len(a.layer_bytes(orig.find_node(name))) > 0
        assert bytes(a.layer_bytes(orig.find_node(name))) == bytes(b.layer_bytes(sub.find_node(name)))
    assert _bin(out).stat().st_size == sum(
        len(b.layer_bytes(n)) for n in sub.nodes)


def test_depth_zero_and_errors(tmp_path: Path) -> None:
    _r, sub, _o = _extract(BLOCK, tmp_path, lambda m: extract_around(m, "gelu_2", 0), "g.ncnn.param")
    assert [n.op_type for n in sub.nodes] == ["Input", "GELU"] and _names(sub) == (["9"], ["10"])
    with pytest.raises(ModelfileError, match="no node or tensor named 'gelu'"):
        extract_around(modelfile.load(BLOCK), "gelu", 1)
    with pytest.raises(ModelfileError, match="--depth must be >= 0"):
        extract_around(modelfile.load(BLOCK), "gelu_2", -1)


# -- runtimes ----------------------------------------------------------------------------------------

def _ov_port(model, label: str):  # type: ignore[no-untyped-def]
    """The output port of an openvino.Model that a modelfile boundary label names."""
    for op in model.get_ops():
        for o in op.outputs():
            if label in o.get_names():
                return o
    name, sep, idx = label.rpartition(":")
    if not (sep and idx.isdigit()):
        name, idx = label, "0"
    for op in model.get_ops():
        if op.get_friendly_name() == name:
            return op.output(int(idx))
    raise KeyError(label)


def _ov_check(src: Path, sub_path: Path, feeds: dict, atol: float = 1e-5) -> int:
    """Run the original with its boundary tensors as extra outputs, then the extracted model on them."""
    import openvino as ov

    core = ov.Core()
    sub = core.read_model(str(sub_path))
    orig = core.read_model(str(src))
    want = {}
    for k, p in enumerate(list(sub.inputs) + list(sub.outputs)):
        port = _ov_port(orig, p.get_any_name())
        port.get_tensor().add_names({f"__want{k}"})
        want[p.get_any_name()] = f"__want{k}"
    orig.add_outputs(list(want.values()))
    c = core.compile_model(orig, "CPU", F32)
    res = c.create_infer_request().infer(feeds)
    vals = {name: np.array(res[c.output(tag)]) for name, tag in want.items()}
    cs = core.compile_model(sub, "CPU", F32)
    got = cs.create_infer_request().infer({p.get_any_name(): vals[p.get_any_name()] for p in sub.inputs})
    for p in sub.outputs:
        np.testing.assert_allclose(np.array(got[cs.output(p.get_any_name())]), vals[p.get_any_name()],
                                   rtol=1e-5, atol=atol)
    return len(sub.outputs)


@needs_openvino
def test_ir_region_runs_in_openvino(tmp_path: Path) -> None:
    shutil.copy(JOINT, tmp_path / "joint.xml")
    shutil.copy(JOINT.with_suffix(".bin"), tmp_path / "joint.bin")
    _r, _sub, out = _extract(tmp_path / "joint.xml", tmp_path, lambda m: extract_around(m, "aten::relu/Relu", 1),
                             "sub.xml")
    rng = np.random.default_rng(1)
    feeds = {"f": rng.standard_normal((1, 3, 16)).astype(np.float32),
             "g": rng.standard_normal((1, 3, 16)).astype(np.float32)}
    assert _ov_check(JOINT, out, feeds) == 1


@needs_openvino
def test_ir_from_to_runs_in_openvino(tmp_path: Path) -> None:
    report, sub, out = _extract(JOINT, tmp_path, lambda m: extract_between(m, parse_input("14,17"),
                                                                            parse_output("10")), "ft.xml")
    assert report.transform == "extract"
    assert [v.names[0] for v in sub.inputs] == ["14", "17"] and [v.names[0] for v in sub.outputs][0] == "10"
    assert {n.op_type for n in sub.nodes} == {"Parameter", "Add", "ReLU", "Result"}
    rng = np.random.default_rng(2)
    feeds = {"f": rng.standard_normal((1, 4, 16)).astype(np.float32),
             "g": rng.standard_normal((1, 4, 16)).astype(np.float32)}
    _ov_check(JOINT, out, feeds)


@needs_openvino
def test_real_detector_region_runs_in_openvino(tmp_path: Path) -> None:
    src = CORPUS / "openvino-with-weights/face-detection-retail-0005-fp32.xml"
    if not src.exists():
        pytest.skip("corpus/openvino-with-weights not found")
    m = modelfile.load(src)
    convs = [n for n in m.nodes if n.op_type == "Convolution"]
    centre = convs[len(convs) // 2].name
    report, sub, out = _extract(src, tmp_path, lambda mm: extract_around(mm, centre, 3), "det.xml")
    assert report.changes and sub.find_node(centre) is not None
    assert out.with_suffix(".bin").stat().st_size < src.with_suffix(".bin").stat().st_size / 4
    feeds = {0: np.random.default_rng(3).uniform(0, 255, (1, 3, 300, 300)).astype(np.float32)}
    assert _ov_check(src, out, feeds, atol=1e-3) >= 1


def _zero_bin(xml: Path, dst: Path) -> Path:
    """A copy of an IR whose .bin is zeros of the size its Consts need."""
    text = xml.read_text(encoding="utf-8")
    end = max([int(o) + int(s) for o, s in re.findall(r'offset="(\d+)"\s+size="(\d+)"', text)] or [0])
    out = dst / xml.name
    out.write_text(text, encoding="utf-8")
    out.with_suffix(".bin").write_bytes(b"\0" * end)
    return out


@needs_openvino
def test_corpus_irs_regions_load_in_openvino(tmp_path: Path) -> None:
    import openvino as ov

    files = corpus_files("openvino")
    if not files:
        pytest.skip("no corpus")
    core = ov.Core()
    checked = 0
    for f in files:
        src = _zero_bin(f, tmp_path)
        try:
            core.read_model(str(src))
        except RuntimeError:
            continue  # the runtime cannot read the original (custom op): nothing to compare with
        m = modelfile.load(src)
        inner = [n for n in m.nodes if n.op_type not in ("Const", "Parameter", "Result") and n.inputs]
        if not inner:
            continue
        centre = inner[len(inner) // 2].name
        out = tmp_path / f"sub_{f.stem[-40:]}.xml"
        extract_around(m, centre, 1)
        m.save(out)
        sub = core.read_model(str(out))  # loads...
        core.compile_model(sub, "CPU", F32)  # ...and compiles
        assert centre in {op.get_friendly_name() for op in sub.get_ops()}, f
        checked += 1
    assert checked >= 5


@needs_ncnn
def test_ncnn_region_runs_in_ncnn(tmp_path: Path) -> None:
    from ncnn_runner import run_ncnn

    _r, sub, out = _extract(BLOCK, tmp_path, lambda m: extract_around(m, "gemm_0", 2), "sub.ncnn.param")
    ins, outs = _names(sub)
    assert ins == ["5"] and set(outs) == {"6", "11"}
    x = np.random.default_rng(4).standard_normal((12, 32)).astype(np.float32)
    full = run_ncnn(BLOCK, _bin(BLOCK), {"in0": x}, ["5", "11", "6"])
    got = run_ncnn(out, _bin(out), {"5": full["5"]}, ["11", "6"])
    np.testing.assert_allclose(got["11"], full["11"], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(got["6"], full["6"], rtol=0, atol=0)


@needs_ncnn
def test_ncnn_from_to_runs_in_ncnn(tmp_path: Path) -> None:
    from ncnn_runner import run_ncnn

    _r, sub, out = _extract(BLOCK, tmp_path, lambda m: extract_between(m, parse_input("7"), parse_output("10")),
                            "ft.ncnn.param")
    assert _names(sub) == (["7"], ["10"])
    assert [n.op_type for n in sub.nodes] == ["Input", "LayerNorm", "Gemm", "GELU"]
    x = np.random.default_rng(5).standard_normal((12, 32)).astype(np.float32)
    full = run_ncnn(BLOCK, _bin(BLOCK), {"in0": x}, ["7", "10"])
    got = run_ncnn(out, _bin(out), {"7": full["7"]}, ["10"])
    np.testing.assert_allclose(got["10"], full["10"], rtol=1e-5, atol=1e-5)


def _ncnn_check(src: Path, sub_path: Path, feeds: dict[str, np.ndarray]) -> list[str]:
    """Run the original, keeping the sub-model's boundary blobs, then the sub-model on them; compare."""
    from ncnn_runner import run_ncnn

    ins, outs = _names(modelfile.load(sub_path))
    # ask for blobs in the order ncnn computes them: asking light-mode ncnn for a blob whose consumers
    # already ran (and recycled it) can crash it
    where = {v.name: i for i, n in enumerate(modelfile.load(src).nodes) for v in n.outputs}
    full = run_ncnn(src, _bin(src), feeds, sorted(dict.fromkeys(ins + outs), key=lambda b: where[b]))
    got = run_ncnn(sub_path, _bin(sub_path), {k: full[k] for k in ins}, outs)
    for k in outs:
        np.testing.assert_allclose(got[k], full[k], rtol=1e-5, atol=1e-5)
    return outs


@needs_ncnn
@pytest.mark.parametrize("centre,depth", [("lstm_5", 1), ("lstm_6", 2), ("conv1d_3", 3)])
def test_sherpa_encoder_regions_run_in_ncnn(tmp_path: Path, centre: str, depth: int) -> None:
    """Regions of a real pnnx export (the LSTM transducer encoder: Gemm, Conv1D, LSTM with states)."""
    src = FIXTURES / "sherpa/lstm/encoder.ncnn.param"
    _r, sub, out = _extract(src, tmp_path, lambda m: extract_around(m, centre, depth), "r.ncnn.param")
    assert sub.find_node(centre) is not None and len(sub.nodes) < 23
    rng = np.random.default_rng(6)
    # shapes from fixtures/sherpa/lstm/meta.json and the README: 9 frames of 80 features, states (2, 16), (2, 24)
    feeds = {"in0": rng.standard_normal((9, 80)).astype(np.float32), "in1": np.array([9.0], np.float32),
             "in2": rng.standard_normal((2, 16)).astype(np.float32),
             "in3": rng.standard_normal((2, 24)).astype(np.float32)}
    assert _ncnn_check(src, out, feeds)


# -- the command line --------------------------------------------------------------------------------

def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "modelfile", *args], capture_output=True, text=True, cwd=ROOT,
                          env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "COLUMNS": "200"}, timeout=300)


def test_cli(tmp_path: Path) -> None:
    r = _cli("extract", str(BLOCK), "--around", "gelu_2", "--depth", "1", "-o", str(tmp_path / "s.ncnn.param"))
    assert r.returncode == 0, r.stderr
    sub = modelfile.load(tmp_path / "s.ncnn.param")
    assert [(n.op_type, n.name) for n in sub.nodes] == [("Input", "8"), ("Gemm", "gemm_0"), ("GELU", "gelu_2"),
                                                         ("Gemm", "gemm_1")]
    r = _cli("extract", str(JOINT), "--from", "14,17", "--to", "10", "-o", str(tmp_path / "ft.xml"), "--json")
    assert r.returncode == 0 and '"transform": "extract"' in r.stdout
    for bad, msg in ((["--around", "x", "--from", "a"], "either --around or --from/--to"),
                     ([], "say what to extract"), (["--from", "14"], "give both --from and --to"),
                     (["--around", "aten::relu/Relu"], "say where to write")):
        r = _cli("extract", str(JOINT), *bad)
        assert r.returncode == 2 and msg in r.stderr and "Traceback" not in r.stderr, (bad, r.stderr)


@needs_ncnn
def test_a_region_of_a_50000_layer_model(tmp_path: Path) -> None:
    """Extracting from a big model is linear (a 50,000-layer chain), and ncnn runs the result."""
    import time

    from ncnn_runner import run_ncnn

    lines = ["7767517", "50001 50001", "Input in0 0 1 b0 0=16"]
    lines += [f"UnaryOp op{i} 1 1 b{i - 1} b{i} 0={(1, 0)[i % 2]}" for i in range(1, 50001)]  # NEG, ABS
    (tmp_path / "big.param").write_text("\n".join(lines) + "\n")
    m = modelfile.load(tmp_path / "big.param")
    t = time.perf_counter()
    report = extract_around(m, "op25000", 2)
    elapsed = time.perf_counter() - t
    m.save(tmp_path / "sub.param")
    assert elapsed < 10, elapsed
    assert [n.name for n in m.nodes] == ["b24997", "op24998", "op24999", "op25000", "op25001", "op25002"]
    assert any(c.kind == "remove-layers" and c.target == "49996 of 50001" for c in report.changes)
    x = np.random.default_rng(7).standard_normal(16).astype(np.float32)
    got = run_ncnn(tmp_path / "sub.param", None, {"b24997": x}, ["b25002"])
    # op24998 NEG, op24999 ABS, op25000 NEG, op25001 ABS, op25002 NEG
    np.testing.assert_array_equal(got["b25002"], -np.abs(x))


@pytest.mark.parametrize("src", ["openvino/stateful/model.xml", "openvino/stateful/accumulator.xml",
                                 "openvino/loop/model.xml", "ncnn/decoder.ncnn.param"])
def test_every_region_passes_the_save_gate(tmp_path: Path, src: str) -> None:
    """Around every node at depths 1 and 2 the result is saved, which re-reads, lints (an Assign brings
    its ReadValue: OpenVINO refuses a state write without its read) and loads it in the runtime."""
    path = FIXTURES / src
    names = [n.name for n in modelfile.load(path).nodes if n.op_type != "Const"]
    for name in names:
        for depth in (1, 2):
            m = modelfile.load(path)
            extract_around(m, name, depth)
            saved = m.save(tmp_path / path.name)
            assert all(c.status != "failed" for c in saved.checks), (name, depth)
            assert m.find_node(name) is not None
            kept = {n.op_type for n in m.nodes}
            assert "Assign" not in kept or "ReadValue" in kept
