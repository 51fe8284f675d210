"""rename / reshape / freeze / cut on the pnnx fixtures, checked with the ncnn runtime."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import modelfile
from conftest import FIXTURES, needs_ncnn
from modelfile.cli import app
from modelfile.errors import ModelfileError
from modelfile.formats import ncnn
from modelfile.mo_input import parse_input, parse_output
from modelfile.passes.cut import cut
from modelfile.passes.freeze import freeze
from modelfile.passes.rename import rename
from ncnn_runner import run_ncnn

runner = CliRunner()
NC = FIXTURES / "ncnn"
RNG = np.random.default_rng(0)
DEC_IN = {"in0": np.array([3, 7], np.int32), "in1": RNG.standard_normal((1, 24)).astype(np.float32),
          "in2": RNG.standard_normal((1, 24)).astype(np.float32)}
CONV_IN = {"in0": RNG.standard_normal((8, 20)).astype(np.float32)}


def _copy(tmp: Path, name: str) -> Path:
    for ext in (".ncnn.param", ".ncnn.bin"):
        shutil.copy(NC / f"{name}{ext}", tmp / f"{name}{ext}")
    return tmp / f"{name}.ncnn.param"


def _bin(p: Path) -> Path:
    return ncnn.bin_path_for(p)


@needs_ncnn
def test_rename_inputs_and_outputs(tmp_path: Path) -> None:
    src = _copy(tmp_path, "decoder")
    m = modelfile.load(src)
    rep = rename(m, {"in0": "tokens", "in1": "h_in", "out0": "logits"})
    assert rep.modified
    out = tmp_path / "renamed.ncnn.param"
    m.save(out)
    want = run_ncnn(src, _bin(src), DEC_IN, ["out0", "out1"])
    got = run_ncnn(out, _bin(out), {"tokens": DEC_IN["in0"], "h_in": DEC_IN["in1"], "in2": DEC_IN["in2"]},
                   ["logits", "out1"])
    np.testing.assert_allclose(got["logits"], want["out0"], atol=1e-6)
    np.testing.assert_allclose(got["out1"], want["out1"], atol=1e-6)
    # only lines mentioning the renamed blobs changed
    changed = [a for a, b in zip(src.read_text().splitlines(), out.read_text().splitlines()) if a != b]
    assert all(any(x in a for x in ("in0", "in1", "out0")) for a in changed)
    assert not rename(modelfile.load(out), {"tokens": "tokens"}).modified  # idempotent


def test_rename_refuses_collisions(tmp_path: Path) -> None:
    m = modelfile.load(_copy(tmp_path, "decoder"))
    with pytest.raises(ModelfileError, match="already named 'in1'"):
        rename(m, {"in0": "in1"})
    with pytest.raises(ModelfileError, match="no input, output or tensor named"):
        rename(m, {"nope": "x"})


@needs_ncnn
def test_freeze_int_input_to_memorydata(tmp_path: Path) -> None:
    src = _copy(tmp_path, "decoder")
    m = modelfile.load(src)
    rep = freeze(m, parse_input("in0->[3 7]"))
    assert any(c.kind == "freeze-input" for c in rep.changes)
    out = tmp_path / "frozen.ncnn.param"
    res = m.save(out)
    assert res.weights == "rewritten"
    text = out.read_text()
    assert "MemoryData               in0                      0 1 in0 0=2" in text
    assert _bin(out).stat().st_size == _bin(src).stat().st_size + 8  # two int32 words, in layer order
    want = run_ncnn(src, _bin(src), DEC_IN, ["out0", "out1", "out2"])
    got = run_ncnn(out, _bin(out), {"in1": DEC_IN["in1"], "in2": DEC_IN["in2"]}, ["out0", "out1", "out2"])
    for k in want:
        np.testing.assert_allclose(got[k], want[k], atol=1e-6)


@needs_ncnn
def test_freeze_float_state_input(tmp_path: Path) -> None:
    src = _copy(tmp_path, "decoder")
    m = modelfile.load(src)
    h = DEC_IN["in1"]
    freeze(m, parse_input("in1[1,24]->[" + " ".join(f"{x:.9g}" for x in h.ravel()) + "]"))
    out = tmp_path / "frozen.ncnn.param"
    m.save(out)
    want = run_ncnn(src, _bin(src), DEC_IN, ["out0"])
    got = run_ncnn(out, _bin(out), {"in0": DEC_IN["in0"], "in2": DEC_IN["in2"]}, ["out0"])
    np.testing.assert_allclose(got["out0"], want["out0"], atol=1e-6)


@needs_ncnn
def test_cut_at_inner_output_drops_weights(tmp_path: Path) -> None:
    src = _copy(tmp_path, "convlstm")
    m = modelfile.load(src)
    rep = cut(m, [], parse_output("3"))  # the LSTM output, before the Gemm
    assert [c.target for c in rep.changes if c.kind == "remove-layer"] == ["gemm_0"]
    out = tmp_path / "cut.ncnn.param"
    m.save(out)
    assert _bin(out).stat().st_size < _bin(src).stat().st_size
    want = run_ncnn(src, _bin(src), CONV_IN, ["3"])
    got = run_ncnn(out, _bin(out), CONV_IN, ["3"])
    np.testing.assert_allclose(got["3"], want["3"], atol=1e-6)
    assert [v.name for v in modelfile.load(out).outputs] == ["3"]


@needs_ncnn
def test_cut_at_inner_input(tmp_path: Path) -> None:
    src = _copy(tmp_path, "convlstm")
    m = modelfile.load(src)
    cut(m, parse_input("2"), [])  # the LSTM input becomes a new input; conv + permute pruned
    out = tmp_path / "cut.ncnn.param"
    m.save(out)
    g = modelfile.load(out).graph
    assert [n.op_type for n in g.nodes] == ["Input", "LSTM", "Gemm"]
    mid = run_ncnn(src, _bin(src), CONV_IN, ["2", "out0"])
    got = run_ncnn(out, _bin(out), {"2": mid["2"]}, ["out0"])
    np.testing.assert_allclose(got["out0"], mid["out0"], atol=1e-6)


def test_reshape_sets_input_params(tmp_path: Path) -> None:
    src = _copy(tmp_path, "convlstm")
    r = runner.invoke(app, ["reshape", str(src), "in0[1,8,20]", "--in-place"])
    assert r.exit_code == 0, r.stderr
    line = src.read_text().splitlines()[2]
    assert line == "Input                    in0                      0 1 in0 0=20 1=8"
    r = runner.invoke(app, ["reshape", str(src), "in0[1,8,20]", "--in-place", "--json"])
    assert '"modified": false' in r.stdout  # idempotent
    r = runner.invoke(app, ["reshape", str(src), "3[1,2]", "-n"])
    assert r.exit_code == 2 and "not a model input" in r.stderr


def test_cli_cut_reports_and_bad_syntax(tmp_path: Path) -> None:
    src = _copy(tmp_path, "convlstm")
    r = runner.invoke(app, ["cut", str(src), "--output", "3", "--dry-run", "--json"])
    assert r.exit_code == 0, r.stderr
    assert '"remove-layer"' in r.stdout
    r = runner.invoke(app, ["cut", str(src), "--input", "a->1->2", "-n"])
    assert r.exit_code == 2 and r.stderr.startswith("--input:1:")
    r = runner.invoke(app, ["cut", str(src), "--output", "nosuch", "-n"])
    assert r.exit_code == 2 and "nosuch" in r.stderr
