"""cut on real v10 detectors: readable summary, v10 names kept v10, inputs still required are named."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import CORPUS, needs_openvino

import modelfile
from modelfile.mo_input import parse_input, parse_output
from modelfile.passes.cut import cut, removal_summary

FD = CORPUS / "openvino-with-weights" / "face-detection-retail-0005-fp32.xml"


def _fd(tmp: Path) -> Path:
    if not FD.exists():
        pytest.skip("shared corpus not found")
    dst = tmp / FD.name
    shutil.copyfile(FD, dst)
    shutil.copyfile(FD.with_suffix(".bin"), dst.with_suffix(".bin"))
    return dst


def test_removal_summary_text() -> None:
    from modelfile.graph import Node

    nodes = [Node("Const")] * 412 + [Node("Convolution")] * 210 + [Node(t) for t in "ABCDEFG"]
    text = removal_summary(nodes, 54_000_000, 12_000_000)
    assert text.startswith("removed 629 layers: 412 Const, 210 Convolution, 1 A, 1 B")
    assert text.endswith(", …; .bin 54.0 MB → 12.0 MB")


def test_cut_output_on_v10_detector(tmp_path: Path) -> None:
    src = _fd(tmp_path)
    m = modelfile.load(src)
    rep = cut(m, [], parse_output("418"))
    assert rep.notes[0].startswith("removed 149 layers: 62 Const, 29 Add") and ".bin 4.1 MB → 0.6 MB" in rep.notes[0]
    assert sum(c.kind == "remove-layer" for c in rep.changes) == 149  # the full list stays in the report (--json)
    out = tmp_path / "cut.xml"
    m.save(out)
    assert "names=" not in out.read_text()  # v10 stays v10: the output is named by its layer
    # most of the .bin is no longer used: it is compacted, to the size the note gives
    assert 550_000 <= out.with_suffix(".bin").stat().st_size < 650_000
    try:
        import openvino as ov
    except ImportError:
        return
    core = ov.Core()
    om = core.read_model(str(out))
    assert [set(o.get_names()) for o in om.outputs] == [{"418"}]
    orig = core.read_model(str(src))
    op = next(o for o in orig.get_ops() if o.get_friendly_name() == "418")
    orig.add_outputs([op.output(0)])
    x = np.random.default_rng(0).standard_normal((1, 3, 300, 300)).astype(np.float32)
    cfg = {"INFERENCE_PRECISION_HINT": "f32"}
    want = core.compile_model(orig, "CPU", cfg)({"input.1": x})
    got = core.compile_model(om, "CPU", cfg)({"input.1": x})
    np.testing.assert_allclose(np.array(got[0]), np.array(want[len(orig.outputs) - 1]), rtol=0, atol=1e-5)


@needs_openvino
def test_cut_inner_input_names_the_input_still_required(tmp_path: Path) -> None:
    import openvino as ov

    src = _fd(tmp_path)
    m = modelfile.load(src)
    rep = cut(m, parse_input("418"), [])
    assert any("'input.1' is still required" in n and "Mul_" in n for n in rep.notes), rep.notes
    out = tmp_path / "in.xml"
    m.save(out)
    om = ov.Core().read_model(str(out))
    assert [set(i.get_names()) for i in om.inputs] == [{"418"}, {"input.1"}]
    assert "names=" not in out.read_text()


def test_cut_note_says_what_the_save_does_to_the_bin(tmp_path: Path) -> None:
    """A cut that drops a little keeps the .bin (under 1/16 of it unused): its note claims no shrink; one that
    drops most of it gives the size the written .bin has."""
    from conftest import FIXTURES

    llm = FIXTURES / "openvino" / "llm" / "llama_stateful.xml"
    src = tmp_path / "llm.xml"
    shutil.copyfile(llm, src)
    shutil.copyfile(llm.with_suffix(".bin"), src.with_suffix(".bin"))
    kept = shrunk = 0
    for name in ("177", "logits"):  # (cut at logits: the last layers, most of the weights go)
        m = modelfile.load(src)
        rep = cut(m, parse_input(name), [])
        res = m.handler.write(m, tmp_path / f"{name}.xml")
        size = (tmp_path / f"{name}.bin").stat().st_size
        claims = [n for n in rep.notes if ".bin" in n]
        if size == src.with_suffix(".bin").stat().st_size:
            assert not claims and any(n.startswith("bin: unchanged") for n in res.notes), (name, rep.notes)
            kept += 1
        else:
            assert claims and claims[0].endswith(f"→ {size / 1e3:.1f} kB"), (name, claims, size)
            shrunk += 1
    assert kept == shrunk == 1
