"""cut-state / make-state on v10 IRs: layer-derived names, no collisions, legacy <meta_data> kept."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import FIXTURES, needs_openvino

import modelfile
from modelfile.formats.openvino import new_result
from modelfile.formats.openvino.ionames import io_names, tensor_name_collisions
from modelfile.lint import lint_file
from modelfile.passes.state import cut_state, make_state

META = """	<meta_data>
		<MO_version value="2021.4.0-3839-cd81789d294-releases/2021/4"/>
		<cli_parameters>
			<data_type value="FP32"/>
			<framework value="onnx"/>
		</cli_parameters>
	</meta_data>
"""


def _v10_accumulator(tmp: Path, meta: bool) -> Path:
    """The accumulator fixture as a mo-era v10 IR whose state's new value is also a model output."""
    m = modelfile.load(FIXTURES / "openvino" / "stateful" / "accumulator.xml")
    acc = m.find_node("acc")
    assert acc is not None
    new_result(m.graph, acc.outputs[0], "acc/sink_port_0")
    m.graph.meta["rt_info"] = {}
    path = tmp / "acc10.xml"
    m.save(path, version=10)
    text = path.read_text().replace("\t<rt_info />\n", "")  # an old mo file has none
    assert 'version="10"' in text and "<rt_info" not in text
    path.write_text(text.replace("</net>", META + "</net>") if meta else text)
    return path


def _ov_io(path: Path) -> tuple[list[set[str]], list[set[str]]]:
    import openvino as ov

    om = ov.Core().read_model(str(path))
    return [set(i.get_names()) for i in om.inputs], [set(o.get_names()) for o in om.outputs]


def _steps(path: Path, stateless: bool) -> list[np.ndarray]:
    import openvino as ov

    req = ov.Core().compile_model(str(path), "CPU", {"INFERENCE_PRECISION_HINT": "f32"}).create_infer_request()
    rng = np.random.default_rng(7)
    state = np.zeros((1, 4), np.float32)
    out = []
    for _ in range(3):
        feed = {"x": rng.standard_normal((1, 4)).astype(np.float32)}
        if stateless:
            feed["acc_state"] = state
        res = {n: np.array(v) for o, v in req.infer(feed).items() for n in o.get_names()}
        out.append(res["y"])
        if stateless:
            state = res["acc_state_out"]
    return out


@pytest.mark.parametrize("meta", [False, True], ids=["plain", "meta_data"])
def test_v10_cut_state_names_and_back(tmp_path: Path, meta: bool) -> None:
    src = _v10_accumulator(tmp_path, meta)
    m = modelfile.load(src)
    rep = cut_state(m)
    assert [c.kind for c in rep.changes].count("state-to-input") == 1
    assert tensor_name_collisions(m) == []
    g = m.graph
    # v10 naming only: the new input is named by its layer, no port names were added
    assert [io_names(g, v) for v in g.inputs] == [["x"], ["acc_state"]]
    assert [io_names(g, v)[0] for v in g.outputs] == ["y", "acc", "acc_state_out"]
    assert not any(v.names for v in g.inputs[1:])
    cut = tmp_path / "cut.xml"
    m.save(cut)
    text = cut.read_text()
    assert ("<meta_data>" in text and "<rt_info" not in text and "modelfile_state" in text) if meta \
        else "<rt_info>" in text
    assert not lint_file(cut)
    # the v10 accumulator whose Add is also an output keeps both outputs
    m2 = modelfile.load(cut)
    make_state(m2)
    back = tmp_path / "back.xml"
    m2.save(back)
    text2 = back.read_text()
    assert "modelfile_state" not in text2 and ("<meta_data>" in text2) == meta
    assert "MO_version" in text2 or not meta
    assert [io_names(m2.graph, v) for v in m2.graph.inputs] == [["x"]]
    try:
        import openvino  # noqa: F401
    except ImportError:
        return
    assert _ov_io(cut) == ([{"x"}, {"acc_state"}], [{"y"}, {"acc"}, {"acc_state_out"}])
    for a, b in zip(_steps(src, False), _steps(cut, True)):
        np.testing.assert_array_equal(a, b)
    assert _ov_io(back) == _ov_io(src)
    for a, b in zip(_steps(src, False), _steps(back, False)):
        np.testing.assert_array_equal(a, b)


@needs_openvino
def test_v10_cut_state_name_clash_is_an_error(tmp_path: Path) -> None:
    from modelfile.errors import ModelfileError

    m = modelfile.load(_v10_accumulator(tmp_path, False))
    with pytest.raises(ModelfileError, match="already has that name"):
        cut_state(m, names={"acc_state": ("x", None)})


@needs_openvino
def test_v10_make_state_by_reported_names_without_record(tmp_path: Path) -> None:
    """make-state resolves v10 names (layer-derived) when given pairs, with nothing recorded."""
    src = _v10_accumulator(tmp_path, False)
    m = modelfile.load(src)
    cut_state(m)
    m.graph.meta["rt_info"] = {}
    cut = tmp_path / "cut.xml"
    m.save(cut)
    m2 = modelfile.load(cut)
    rep = make_state(m2, {"acc_state": "acc_state_out"})
    assert [c.kind for c in rep.changes] == ["input-to-state", "output-to-state"]
    back = tmp_path / "back.xml"
    m2.save(back)
    assert _ov_io(back)[0] == [{"x"}]
    for a, b in zip(_steps(src, False), _steps(back, False)):
        np.testing.assert_array_equal(a, b)
