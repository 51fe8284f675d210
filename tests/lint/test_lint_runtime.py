"""The real runtimes confirm each rule's minimal bad file: ncnn / OpenVINO / sherpa-ncnn refuse it,
or load it and get it silently wrong; every fixed form loads."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from conftest import needs_ncnn, needs_openvino, needs_sherpa
from test_lint_corpus import SHERPA_CHILD
from test_lint_rules import CASES, E01, E12, P_X, RESULT, ir, relu

# The runtime refuses the bad file (load_param != 0 / read_model raises / sherpa-ncnn dies).
NCNN_REFUSES = {"NCNN000", "NCNN001", "NCNN003", "NCNN006", "NCNN012", "NCNN013", "NCNN014", "NCNN015",
                "NCNN016", "NCNN020", "NCNN021", "NCNN022"}
IR_REFUSES = {"IR000", "IR002", "IR005", "IR006", "IR007", "IR008", "IR009", "IR011", "IR012", "IR013", "IR014", "IR015", "IR016",
              "IR017", "IR018", "IR019", "IR020"}  # IR021: modelfile refuses, OpenVINO may not
SHERPA_REFUSES = {"SHERPA001": -11, "SHERPA002": -11, "SHERPA004": -11, "SHERPA006": 255, "SHERPA012": -11}


def _ncnn_load(path: Path) -> tuple[int, int]:
    import ncnn

    net = ncnn.Net()
    rc = net.load_param(str(path))
    return rc, len(net.layers()) if rc == 0 else 0


@needs_ncnn
@pytest.mark.parametrize("code", sorted(c for c in CASES if c.startswith("NCNN")))
def test_ncnn_runtime_agrees(code: str, tmp_path: Path) -> None:
    case = CASES[code]
    bad, fixed = tmp_path / "bad.param", tmp_path / "fixed.param"
    bad.write_text(case.bad)
    fixed.write_text(case.fixed)
    rc_fixed, n_fixed = _ncnn_load(fixed)
    assert rc_fixed == 0
    rc_bad, n_bad = _ncnn_load(bad)
    if code in NCNN_REFUSES:
        assert rc_bad != 0
    else:
        assert rc_bad == 0  # loads, and is silently wrong
        if code == "NCNN002":
            assert n_bad == n_fixed - 1  # the last layer is dropped


def _ov_read(path: Path) -> object:
    import openvino as ov

    return ov.Core().read_model(str(path))


@needs_openvino
@pytest.mark.parametrize("code", sorted(c for c in CASES if c.startswith("IR")))
def test_openvino_runtime_agrees(code: str, tmp_path: Path) -> None:
    case = CASES[code]
    for kind, text, data in (("bad", case.bad, case.bin_bad), ("fixed", case.fixed, case.bin_fixed)):
        (tmp_path / kind).mkdir()
        p = tmp_path / kind / "m.xml"
        p.write_text(text)
        if data is not None:
            p.with_suffix(".bin").write_bytes(data)
    fixed = _ov_read(tmp_path / "fixed" / "m.xml")
    if code in IR_REFUSES:
        with pytest.raises(Exception):
            _ov_read(tmp_path / "bad" / "m.xml")
        return
    model = _ov_read(tmp_path / "bad" / "m.xml")
    if code == "IR003":  # the dead layer is dropped
        assert "dead" not in [op.get_friendly_name() for op in model.get_ops()]
    elif code == "IR004":  # the duplicate tensor name is renamed
        assert [sorted(o.get_names()) for o in model.outputs] == [["x_1"]]
    elif code == "IR010":  # two Parameters, one of them not what the edges meant
        assert len(model.inputs) == 2 and len(fixed.inputs) == 1  # type: ignore[attr-defined]


@needs_openvino
def test_openvino_refuses_edge_from_missing_layer(tmp_path: Path) -> None:
    from modelfile.lint import lint_file

    p = tmp_path / "m.xml"
    p.write_text(ir(P_X + relu() + RESULT, E01 + E12.replace('from-layer="1"', 'from-layer="7"')))
    assert "IR001" in {d.code for d in lint_file(p)}
    with pytest.raises(Exception):
        _ov_read(p)


@needs_sherpa
@pytest.mark.parametrize("code", sorted(c for c in CASES if c.startswith("SHERPA")))
def test_sherpa_runtime_agrees(code: str, tmp_path: Path) -> None:
    (tmp_path / "decoder.ncnn.param").write_text("7767517\n1 1\nInput in0 0 1 in0\n")
    (tmp_path / "joiner.ncnn.param").write_text("7767517\n2 2\nInput in0 0 1 in0\nInput in1 0 1 in1\n")
    for n in ("encoder", "decoder", "joiner"):
        (tmp_path / f"{n}.ncnn.bin").write_bytes(b"")
    (tmp_path / "tokens.txt").write_text("<blk> 0\na 1\nb 2\n")

    def run(text: str) -> int:
        (tmp_path / "encoder.ncnn.param").write_text(text)
        return subprocess.run([sys.executable, "-c", SHERPA_CHILD, str(tmp_path)], capture_output=True,
                              timeout=120).returncode

    assert run(CASES[code].fixed) == 0
    # refused: SIGSEGV (meta not found) or exit(-1) (zipformer version); the others construct and
    # decode with wrong values (sherpa-ncnn does not validate them)
    assert run(CASES[code].bad) == SHERPA_REFUSES.get(code, 0)


def test_sherpa_disabled_list_matches_sherpa_ncnn_build() -> None:
    """SHERPA012's list is exactly the built-in types sherpa-ncnn's own libncnn cannot create."""
    import importlib.util

    spec = importlib.util.find_spec("sherpa_ncnn")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("sherpa-ncnn not installed")
    from pathlib import Path

    from modelfile.formats.ncnn.layers import BUILTIN_LIST
    from modelfile.lint.rules_sherpa import SHERPA_DISABLED_TYPES

    libs = list(Path(list(spec.submodule_search_locations)[0]).glob("lib/libncnn.so*"))
    if not libs:
        pytest.skip("sherpa-ncnn ships no separate libncnn.so")
    child = (
        "import ctypes, sys\n"
        "lib = ctypes.CDLL(sys.argv[1])\n"
        "f = lib._ZN4ncnn12create_layerEPKc\n"
        "f.restype = ctypes.c_void_p; f.argtypes = [ctypes.c_char_p]\n"
        "print(' '.join(t for t in sys.argv[2:] if not f(t.encode())))\n"
    )
    r = subprocess.run([sys.executable, "-c", child, str(libs[0]), *BUILTIN_LIST], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, r.stderr
    assert set(r.stdout.split()) == SHERPA_DISABLED_TYPES
