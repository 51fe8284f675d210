"""Lint knows what the runtimes refuse (issue #9 item 4): per-layer params from ncnn's load_param, IR
shapes/types/attributes/cycles/bodies/ports, OpenVINO's own shape inference; custom layers; info's warning.

Every bad file is confirmed against the runtime when it is installed (ncnn in a child process), and its
fixed form must load; the assertions on lint's findings hold without the runtimes.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT, has_module, needs_ncnn, needs_openvino
from modelfile.lint import lint_file, lint_paths
from modelfile.lint.rules_ncnn import LOAD_CHECKS

IN = "Input in0 0 1 in0"

# (bad layer line, fixed layer line, code, the param the finding points at or "" for the type)
NCNN_CASES = {
    "conv without num_output": ("Convolution c 1 1 in0 out 1=3 6=216", "Convolution c 1 1 in0 out 0=8 1=3 6=216",
                                "NCNN021", ""),
    "conv without weight_data_size": ("Convolution c 1 1 in0 out 0=8 1=3", "Convolution c 1 1 in0 out 0=8 1=3 6=216",
                                      "NCNN021", ""),
    "innerproduct without num_output": ("InnerProduct fc 1 1 in0 out 2=64", "InnerProduct fc 1 1 in0 out 0=8 2=64",
                                        "NCNN021", ""),
    "conv num_output 0": ("Convolution c 1 1 in0 out 0=0 1=3 6=216", "Convolution c 1 1 in0 out 0=8 1=3 6=216",
                          "NCNN021", "0=0"),
    "permute -1": ("Permute p 1 1 in0 out 0=-1", "Permute p 1 1 in0 out 0=2", "NCNN021", "0=-1"),
    "permute 99": ("Permute p 1 1 in0 out 0=99", "Permute p 1 1 in0 out 0=5", "NCNN021", "0=99"),
    "binaryop op 99": ("BinaryOp b 1 1 in0 out 0=99", "BinaryOp b 1 1 in0 out 0=2", "NCNN021", "0=99"),
    "batchnorm 0 channels": ("BatchNorm bn 1 1 in0 out 0=0", "BatchNorm bn 1 1 in0 out 0=4", "NCNN021", "0=0"),
    "relu with two tops": ("ReLU r 1 2 in0 a b", "ReLU r 1 1 in0 a", "NCNN022", ""),
    "sigmoid without bottom": ("Sigmoid s 0 1 out", "Sigmoid s 1 1 in0 out", "NCNN022", ""),
    # shape hints: ncnn stores a float element's bits in the int array, and refuses dims outside 0..3
    "shape hint dims float": ("ReLU r 1 1 in0 out -23330=4,3.,8,8,4", "ReLU r 1 1 in0 out -23330=4,3,8,8,4",
                              "NCNN015", "-23330="),
    "shape hint dims negative": ("ReLU r 1 1 in0 out -23330=4,-1,8,8,4", "ReLU r 1 1 in0 out -23330=4,0,8,8,4",
                                 "NCNN015", "-23330="),
}


def _param(*lines: str) -> str:
    blobs: list[str] = []
    for ln in lines:
        t = ln.split()
        nb, nt = int(t[2]), int(t[3])
        blobs += [b for b in t[4:4 + nb] if b not in blobs] + t[4 + nb:4 + nb + nt]
    return f"7767517\n{len(lines)} {len(blobs)}\n" + "".join(x + "\n" for x in lines)


def _ncnn_loads(path: Path) -> bool:
    code = ("import ncnn, sys\nnet = ncnn.Net()\nrc = net.load_param(sys.argv[1])\n"
            "rc = rc or net.load_model(ncnn.DataReaderFromEmpty())\nprint(rc)")
    r = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, timeout=60)
    return r.stdout.strip() == "0"


@pytest.mark.parametrize("name", sorted(NCNN_CASES))
def test_ncnn_layer_refusals(name: str, tmp_path: Path) -> None:
    bad_line, fixed_line, code, at = NCNN_CASES[name]
    bad, fixed = tmp_path / "bad.param", tmp_path / "fixed.param"
    bad.write_text(_param(IN, bad_line))
    fixed.write_text(_param(IN, fixed_line))
    found = [d for d in lint_file(bad) if d.severity.value == "error"]
    assert [d.code for d in found] == [code], [d.one_line() for d in found]
    assert found[0].line == 4
    assert found[0].column == (bad_line.index(at) + 1 if at else 1)
    assert not [d for d in lint_file(fixed) if d.severity.value == "error"]
    if has_module("ncnn"):
        assert not _ncnn_loads(bad)
        assert _ncnn_loads(fixed)


def test_load_table_is_data_for_the_builtin_types() -> None:
    from modelfile.formats.ncnn.layers import BUILTIN_TYPES

    assert set(LOAD_CHECKS) <= BUILTIN_TYPES
    assert LOAD_CHECKS["Convolution"]["blobs"] == [[1, 1]]
    conv = LOAD_CHECKS["Convolution"]["params"]
    assert conv["0"]["required"] and conv["0"]["min"] == 1 and conv["0"]["name"] == "num_output"
    assert LOAD_CHECKS["Permute"]["params"]["0"]["min"] == 0


def test_no_real_file_is_flagged_by_the_load_table() -> None:
    """The corpus and the fixtures load in ncnn: the table must not call any of their layers refused."""
    paths = [ROOT / "fixtures"]
    corpus = ROOT.parent / "shared" / "corpus" / "ncnn"
    if corpus.is_dir():
        paths.append(corpus)
    result = lint_paths(paths, select=["NCNN021", "NCNN022"], isolated=True)
    assert len(result.files) >= 10
    assert result.diagnostics == [], [d.one_line() for d in result.diagnostics[:5]]


# -- unknown and custom layers --------------------------------------------------------------------

def test_unknown_type_is_one_finding_per_type(tmp_path: Path) -> None:
    lines = [IN] + [f"VitsFlow f{i} 1 1 {'in0' if i == 0 else f'x{i - 1}'} x{i}" for i in range(190)]
    lines += ["pnnx.Expression e0 1 1 x189 y0", "pnnx.Expression e1 1 1 y0 y1"]
    p = tmp_path / "app.param"
    p.write_text(_param(*lines))
    found = lint_file(p)
    assert [d.code for d in found if d.code in ("NCNN012", "NCNN013")] == ["NCNN012", "NCNN013"]
    assert "(190 layers)" in next(d.message for d in found if d.code == "NCNN012")
    assert "(2 layers)" in next(d.message for d in found if d.code == "NCNN013")


def test_custom_layer_option_and_config(tmp_path: Path) -> None:
    p = tmp_path / "m.param"
    p.write_text(_param(IN, "VitsFlow f 1 1 in0 x", "Permute p 1 1 x y 0=99"))
    assert "NCNN012" in {d.code for d in lint_file(p)}
    assert "NCNN012" not in {d.code for d in lint_file(p, custom_layers=["VitsFlow"])}
    # an app layer that shadows a built-in is not checked against ncnn's table
    assert "NCNN021" not in {d.code for d in lint_file(p, custom_layers=["VitsFlow", "Permute"])}
    (tmp_path / "pyproject.toml").write_text('[tool.modelfile]\ncustom-layers = ["VitsFlow"]\n')
    assert "NCNN012" not in {d.code for d in lint_file(p)}
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    r = subprocess.run([sys.executable, "-m", "modelfile", "lint", "--isolated", "--custom-layer", "VitsFlow,Other",
                        str(p)], capture_output=True, text=True, env=env, timeout=120, cwd=tmp_path)
    assert "NCNN012" not in r.stdout and "NCNN021" in r.stdout, r.stdout + r.stderr


def test_bad_custom_layers_config_is_a_config_error(tmp_path: Path) -> None:
    from modelfile.errors import ModelfileError

    p = tmp_path / "m.param"
    p.write_text(_param(IN))
    (tmp_path / "pyproject.toml").write_text("[tool.modelfile]\ncustom-layers = 3\n")
    with pytest.raises(ModelfileError, match="custom-layers"):
        lint_file(p)


# -- IR ---------------------------------------------------------------------------------------------

P = ('<layer id="0" name="x" type="Parameter" version="opset1"><data shape="{shape}" element_type="{et}"/>'
     '<output><port id="0" precision="FP32" names="x"><dim>1</dim><dim>{dim}</dim></port></output></layer>\n')
R = ('<layer id="1" name="r" type="ReLU" version="opset1"><input><port id="0"><dim>1</dim><dim>3</dim></port>'
     '</input><output><port id="1" precision="{prec}"><dim>1</dim><dim>3</dim></port></output></layer>\n')
OUT = ('<layer id="2" name="out" type="Result" version="opset1"><input><port id="0"><dim>1</dim><dim>3</dim>'
       '</port></input></layer>\n')


def _ir(shape: str = "1,3", et: str = "f32", dim: str = "3", prec: str = "FP32", relu: str | None = None,
        edges: str = '<edge from-layer="0" from-port="0" to-layer="1" to-port="0"/>'
                      '<edge from-layer="1" from-port="1" to-layer="2" to-port="0"/>') -> str:
    r = relu if relu is not None else R.format(prec=prec)
    return (f'<?xml version="1.0"?>\n<net name="m" version="11">\n<layers>\n{P.format(shape=shape, et=et, dim=dim)}'
            f'{r}{OUT}</layers>\n<edges>{edges}</edges>\n</net>\n')


IR_CASES = {
    "shape a,b": (_ir(shape="a,b"), "IR014"),
    "dim -2": (_ir(dim="-2"), "IR014"),
    "element type f99": (_ir(et="f99"), "IR015"),
    "precision fp32": (_ir(prec="fp32"), "IR015"),
    "empty type": (_ir(relu=R.format(prec="FP32").replace('type="ReLU"', 'type=""')), "IR016"),
    "no version": (_ir(relu=R.format(prec="FP32").replace(' version="opset1"', "")), "IR016"),
    "self loop": (_ir(relu=R.format(prec="FP32").replace('</port></input>', '</port><port id="2"/></input>'),
                      edges='<edge from-layer="0" from-port="0" to-layer="1" to-port="0"/>'
                            '<edge from-layer="1" from-port="1" to-layer="1" to-port="2"/>'
                            '<edge from-layer="1" from-port="1" to-layer="2" to-port="0"/>'), "IR017"),
    "TensorIterator without body": (_ir(relu=R.format(prec="FP32").replace('"ReLU"', '"TensorIterator"')), "IR018"),
    "duplicate output port": (_ir(relu=R.format(prec="FP32").replace(
        "</port></output>", '</port><port id="1" precision="FP32"/></output>')), "IR019"),
}


@pytest.mark.parametrize("name", sorted(IR_CASES))
def test_ir_refusals(name: str, tmp_path: Path) -> None:
    text, code = IR_CASES[name]
    p = tmp_path / "m.xml"
    p.write_text(text)
    errors = [d for d in lint_file(p) if d.severity.value == "error"]
    assert code in {d.code for d in errors}, [d.one_line() for d in errors]
    assert all(d.line > 0 and d.column > 0 for d in errors)
    if has_module("openvino"):
        import openvino as ov

        with pytest.raises(Exception):
            ov.Core().read_model(str(p))
    good = tmp_path / "good.xml"
    good.write_text(_ir())
    assert not [d for d in lint_file(good) if d.severity.value == "error"]


MATMUL = ('<layer id="1" name="mm" type="MatMul" version="opset1"><input><port id="0"><dim>1</dim><dim>3</dim>'
          '</port><port id="2"><dim>1</dim><dim>3</dim></port></input><output><port id="1" precision="FP32">'
          '<dim>1</dim><dim>3</dim></port></output></layer>\n')


@needs_openvino
def test_shape_inference_failure_is_one_finding_with_openvinos_message(tmp_path: Path) -> None:
    # [1,3] x [1,3]: the inner dimensions differ; only OpenVINO's shape inference knows MatMul's rule
    p = tmp_path / "m.xml"
    p.write_text(_ir(relu=MATMUL, edges='<edge from-layer="0" from-port="0" to-layer="1" to-port="0"/>'
                                        '<edge from-layer="0" from-port="0" to-layer="1" to-port="2"/>'
                                        '<edge from-layer="1" from-port="1" to-layer="2" to-port="0"/>'))
    found = lint_file(p)
    assert [d.code for d in found] == ["IR020"], [d.one_line() for d in found]
    assert "MatMul" in found[0].message and found[0].line > 0
    assert "IR020" not in {d.code for d in lint_file(p, ignore=["IR020"])}


# -- info --------------------------------------------------------------------------------------------

def test_info_ends_with_the_lint_verdict(tmp_path: Path) -> None:
    bad, good = tmp_path / "bad.param", tmp_path / "good.param"
    bad.write_text(_param(IN, "Permute p 1 1 in0 out 0=99", "Convolution c 1 1 out y 1=3 6=27"))
    good.write_text(_param(IN, "Permute p 1 1 in0 out 0=1"))
    env = dict(os.environ, PYTHONPATH=str(ROOT), COLUMNS="200")
    r = subprocess.run([sys.executable, "-m", "modelfile", "info", str(bad)], capture_output=True, text=True,
                       env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    last = r.stdout.strip().splitlines()[-1]
    assert last.startswith("warning: modelfile lint fails with 2 errors (first: ") and f"{bad}:4:" in last, last
    r = subprocess.run([sys.executable, "-m", "modelfile", "info", "--json", str(bad)], capture_output=True,
                       text=True, env=env, timeout=120)
    assert json.loads(r.stdout)["lint"]["errors"] == 2
    r = subprocess.run([sys.executable, "-m", "modelfile", "info", str(good)], capture_output=True, text=True,
                       env=env, timeout=120)
    assert "warning: modelfile lint" not in r.stdout


@needs_ncnn
def test_probe_tool_reproduces_a_table_entry() -> None:
    """The table is what the wheel says: re-probe one param with the tool's own functions."""
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        import probe_ncnn_load_param as probe
    finally:
        sys.path.pop(0)
    rule = probe.probe_param("Permute", 0, [(1, 1, "")], [True])
    assert rule is not None and (rule["min"], rule["max"]) == (LOAD_CHECKS["Permute"]["params"]["0"]["min"],
                                                               LOAD_CHECKS["Permute"]["params"]["0"]["max"])


# found by the fuzz suite: parameter combinations ncnn's load_param refuses (checked against the wheel)
_REFUSED_COMBOS = [
    "Crop c 1 1 a b -23309=1,5 -23310=0 -23311=1,0",  # starts/ends/axes of different lengths
    "Convolution c 1 1 a b 0=4 1=3 6=144 9=3 -23310=1,0.1",  # clip needs two activation params
    "InnerProduct c 1 1 a b 0=4 2=16 9=6 -23310=1,0.1",  # hardswish needs two
]
_ACCEPTED_COMBOS = [
    "Crop c 1 1 a b -23309=1,5 -23310=1,-233 -23311=1,0",
    "Convolution c 1 1 a b 0=4 1=3 6=144 9=3 -23310=2,0.0,6.0",
]


@pytest.mark.parametrize("layer", _REFUSED_COMBOS + _ACCEPTED_COMBOS)
def test_array_lengths_and_activation_params(layer: str, tmp_path: Path) -> None:
    from modelfile.lint import LintConfig, lint_file

    p = tmp_path / "m.param"
    p.write_text(f"7767517\n2 2\nInput in0 0 1 a\n{layer}\n")
    codes = [d.code for d in lint_file(p, config=LintConfig())]
    assert ("NCNN021" in codes) == (layer in _REFUSED_COMBOS), codes
    if importlib.util.find_spec("ncnn") is not None:
        rc = subprocess.run([sys.executable, "-c", f"import ncnn; print(ncnn.Net().load_param({str(p)!r}))"],
                            capture_output=True, text=True).stdout.split()[-1]
        assert (rc == "-1") == (layer in _REFUSED_COMBOS)
