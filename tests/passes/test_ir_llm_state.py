"""cut-state / make-state on stateful LLM IRs against OpenVINO's own StatefulToStateless pass."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import FIXTURES, has_module, needs_openvino

import modelfile
from modelfile.errors import ModelfileError
from modelfile.formats.openvino.ionames import tensor_name_collisions
from modelfile.passes.state import cut_state, make_state, restored_names

LLM = FIXTURES / "openvino" / "llm"
F32 = {"INFERENCE_PRECISION_HINT": "f32"}


def _copy(tmp: Path, name: str) -> Path:
    src = LLM / name
    shutil.copyfile(src, tmp / name)
    shutil.copyfile(src.with_suffix(".bin"), (tmp / name).with_suffix(".bin"))
    return tmp / name


def _io(om) -> tuple[list, list]:  # type: ignore[no-untyped-def]
    ins = [(sorted(i.get_names()), i.get_node().get_friendly_name(), str(i.get_partial_shape()),
            str(i.get_element_type())) for i in om.inputs]
    outs = [(sorted(o.get_names()), str(o.get_partial_shape())) for o in om.outputs]
    return ins, outs


def _ov_stateless(src: Path, dst: Path) -> Path:
    import openvino as ov
    from openvino._offline_transformations import stateful_to_stateless_transformation

    om = ov.Core().read_model(str(src))
    stateful_to_stateless_transformation(om)
    ov.save_model(om, str(dst), compress_to_fp16=False)
    return dst


def test_restored_names() -> None:
    assert restored_names("past_key_values.3.keypresent.3.key", beam=True) == (
        "past_key_values.3.key", "present.3.key", 6)
    assert restored_names("past_key_values.3.valuepresent.3.value", beam=False)[2] == 7
    assert restored_names("cache_params.past.conv.2cache_params.present.conv.2", beam=True) == (
        "past_key_values.2.conv", "present.2.conv", 8)
    assert restored_names("h", beam=True)[:2] == ("input_restored.h", "output_restored.h")
    assert restored_names("h", beam=False)[:2] == ("h", "h_out")


def test_cut_state_graph_without_runtime(tmp_path: Path) -> None:
    m = modelfile.load(_copy(tmp_path, "kv_opset.xml"))
    rep = cut_state(m)
    g = m.graph
    assert not [n for n in g.nodes if n.op_type in ("ReadValue", "Assign")]
    assert [v.names for v in g.inputs] == [["new_kv"], ["extra_in"], ["past_key_values.0.key"],
                                           ["past_key_values.0.value"], ["past_key_values.1.key"],
                                           ["past_key_values.1.value"], ["input_restored.extra_state"]]
    assert [list(v.names) for v in g.outputs][1:] == [["present.0.key"], ["present.0.value"], ["present.1.key"],
                                                      ["present.1.value"], ["output_restored.extra_state"]]
    assert not any(n.op_type == "Gather" and n.inputs[1] is not None and "beam_idx" in n.inputs[1].names
                   for n in g.nodes)
    assert any(c.kind == "remove-input" and c.target == "beam_idx" for c in rep.changes)
    assert tensor_name_collisions(m) == []


@needs_openvino
@pytest.mark.parametrize("name", ["kv_opset.xml", "llama_stateful.xml"])
def test_cut_state_matches_stateful_to_stateless(tmp_path: Path, name: str) -> None:
    src = _copy(tmp_path, name)
    m = modelfile.load(src)
    cut_state(m)
    ours = tmp_path / "ours.xml"
    m.save(ours)
    theirs = _ov_stateless(src, tmp_path / "theirs.xml")
    import openvino as ov

    core = ov.Core()
    a, b = core.read_model(str(ours)), core.read_model(str(theirs))
    assert _io(a) == _io(b)
    # one name per new port: get_any_name is the restored name
    assert [o.get_any_name() for o in a.outputs][-2:] == [o.get_any_name() for o in b.outputs][-2:]
    run = _run_llm if name.startswith("llama") else _run_kv
    for x, y in zip(run(ours), run(theirs)):
        np.testing.assert_array_equal(x, y)


@needs_openvino
@pytest.mark.parametrize("name", ["kv_opset.xml", "llama_stateful.xml"])
def test_make_state_restores_the_original(tmp_path: Path, name: str) -> None:
    import openvino as ov

    src = _copy(tmp_path, name)
    m = modelfile.load(src)
    cut_state(m)
    m.save(tmp_path / "cut.xml")
    m2 = modelfile.load(tmp_path / "cut.xml")
    rep = make_state(m2)
    assert all("zero init restored" in c.after for c in rep.changes if c.kind == "input-to-state")
    back = tmp_path / "back.xml"
    m2.save(back)
    core = ov.Core()
    a, b = core.read_model(str(src)), core.read_model(str(back))
    assert _io(a) == _io(b)
    assert sorted(v.get_info().variable_id for v in a.get_variables()) == sorted(
        v.get_info().variable_id for v in b.get_variables())
    run = _run_llm_stateful if name.startswith("llama") else _run_kv_stateful
    for x, y in zip(run(src), run(back)):
        np.testing.assert_array_equal(x, y)


@needs_openvino
def test_keep_beam_idx(tmp_path: Path) -> None:
    import openvino as ov

    src = _copy(tmp_path, "kv_opset.xml")
    m = modelfile.load(src)
    cut_state(m, keep_beam_idx=True)
    m.save(tmp_path / "k.xml")
    om = ov.Core().read_model(str(tmp_path / "k.xml"))
    names = [i.get_any_name() for i in om.inputs]
    assert names[:3] == ["new_kv", "extra_in", "beam_idx"] and names[3] == "past_key_values.0.key"
    assert sum(1 for op in om.get_ops() if op.get_type_name() == "Gather") >= 5
    # the state is reordered by beam_idx inside the model: feed it unordered, get the same as reordering outside
    cm = ov.Core().compile_model(om, "CPU", F32)
    rng = np.random.default_rng(0)
    feeds = {"new_kv": rng.standard_normal((2, 2, 1, 4)).astype(np.float32),
             "extra_in": rng.standard_normal((2, 4)).astype(np.float32), "beam_idx": np.array([1, 0], np.int32)}
    past = {i.get_any_name(): rng.standard_normal((2, 2, 3, 4)).astype(np.float32)
            for i in om.inputs if i.get_any_name().startswith("past")}
    past["input_restored.extra_state"] = rng.standard_normal((2, 4)).astype(np.float32)
    r1 = cm(dict(feeds, **past))
    cut = modelfile.load(src)
    cut_state(cut)
    cut.save(tmp_path / "c.xml")
    r2 = ov.Core().compile_model(str(tmp_path / "c.xml"), "CPU", F32)(
        dict({k: v for k, v in feeds.items() if k != "beam_idx"}, **{k: v[[1, 0]] for k, v in past.items()}))
    np.testing.assert_array_equal(r1["y"], r2["y"])


def test_name_taken_only_by_removed_state_is_free(tmp_path: Path) -> None:
    m = modelfile.load(_copy(tmp_path, "llama_stateful.xml"))
    g = m.graph
    rv = next(n for n in g.nodes if n.op_type == "ReadValue")
    var = rv.attrs["variable_id"]
    # the ReadValue's own output is named past_key_values.N.key: asking for that name is fine
    taken_by_rv = rv.outputs[0].names[0]
    rep = cut_state(m, names={var: (taken_by_rv, None)})
    assert any(c.after == f"Parameter {taken_by_rv}" for c in rep.changes)
    assert not any(n.endswith("_1") for v in g.inputs for n in v.names)


def test_real_clash_is_an_error(tmp_path: Path) -> None:
    m = modelfile.load(_copy(tmp_path, "llama_stateful.xml"))
    var = next(n for n in m.graph.nodes if n.op_type == "ReadValue").attrs["variable_id"]
    with pytest.raises(ModelfileError, match="already has that name"):
        cut_state(m, names={var: ("input_ids", None)})
    m = modelfile.load(_copy(tmp_path, "llama_stateful.xml"))
    with pytest.raises(ModelfileError, match="already has that name"):
        cut_state(m, names={var: (None, "logits")})


# ---------------------------------------------------------------------------------------------
# runners: the same decode steps, with beam reordering, on stateless and stateful forms
# ---------------------------------------------------------------------------------------------

BEAMS = [np.array([1, 0]), np.array([0, 0]), np.array([1, 1]), np.array([0, 1]), np.array([1, 0])]


def _outs_by_name(res) -> dict[str, np.ndarray]:  # type: ignore[no-untyped-def]
    by: dict[str, np.ndarray] = {}
    for o, v in res.items():
        for n in o.get_names():
            by[n] = np.array(v)
    return by


def _run_llm(path: Path) -> list[np.ndarray]:
    import openvino as ov

    cm = ov.Core().compile_model(str(path), "CPU", F32)
    req = cm.create_infer_request()
    past = {i.get_any_name(): np.zeros((2, 1, 0, 8), np.float32) for i in cm.inputs
            if i.get_any_name().startswith("past_key_values")}
    rng = np.random.default_rng(0)
    ids, total, out = rng.integers(0, 64, (2, 3)), 3, []
    for beam in BEAMS:
        feed = {"input_ids": ids, "attention_mask": np.ones((2, total), np.int64),
                "position_ids": np.arange(total - ids.shape[1], total)[None].repeat(2, 0), **past}
        by = _outs_by_name(req.infer(feed))
        out.append(by["logits"])
        past = {k: by["present." + k[len("past_key_values."):]][beam] for k in past}
        ids, total = rng.integers(0, 64, (2, 1)), total + 1
    return out


def _run_llm_stateful(path: Path) -> list[np.ndarray]:
    import openvino as ov

    req = ov.Core().compile_model(str(path), "CPU", F32).create_infer_request()
    rng = np.random.default_rng(0)
    ids, total, out = rng.integers(0, 64, (2, 3)), 3, []
    beam = np.array([0, 1])
    for nxt in BEAMS:
        feed = {"input_ids": ids, "attention_mask": np.ones((2, total), np.int64),
                "position_ids": np.arange(total - ids.shape[1], total)[None].repeat(2, 0),
                "beam_idx": beam.astype(np.int32)}
        out.append(np.array(req.infer(feed)["logits"]))
        beam = nxt
        ids, total = rng.integers(0, 64, (2, 1)), total + 1
    return out


def _kv_feeds(k: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(10 + k)
    return {"new_kv": rng.standard_normal((2, 2, 1, 4)).astype(np.float32),
            "extra_in": rng.standard_normal((2, 4)).astype(np.float32)}


def _run_kv(path: Path) -> list[np.ndarray]:
    import openvino as ov

    cm = ov.Core().compile_model(str(path), "CPU", F32)
    req = cm.create_infer_request()
    past = {i.get_any_name(): np.zeros((2, 2, 0, 4) if i.get_any_name().startswith("past") else (2, 4), np.float32)
            for i in cm.inputs if i.get_any_name() not in ("new_kv", "extra_in")}
    out = []
    for k, beam in enumerate(BEAMS):
        by = _outs_by_name(req.infer({**_kv_feeds(k), **past}))
        out.append(by["y"])
        past = {n: by[n.replace("past_key_values.", "present.").replace("input_restored", "output_restored")][beam]
                for n in past}
    return out


def _run_kv_stateful(path: Path) -> list[np.ndarray]:
    import openvino as ov

    req = ov.Core().compile_model(str(path), "CPU", F32).create_infer_request()
    out, beam = [], np.array([0, 1])
    for k, nxt in enumerate(BEAMS):
        out.append(np.array(req.infer({**_kv_feeds(k), "beam_idx": beam.astype(np.int32)})["y"]))
        beam = nxt
    return out


def test_fixtures_present() -> None:
    assert (LLM / "llama_stateful.xml").exists() and (LLM / "kv_opset.xml").exists()
    assert (LLM / "llama_stateful.bin").stat().st_size < 1 << 20


def test_without_beam_idx_same_names_in_layer_order(tmp_path: Path) -> None:
    """No beam_idx input (frozen here): the states still come as past_key_values.N.key/value, layer by layer."""
    from modelfile.mo_input import parse_input
    from modelfile.passes.freeze import freeze

    m = modelfile.load(_copy(tmp_path, "kv_opset.xml"))
    freeze(m, parse_input("beam_idx[2]->[0 1]"))
    rep = cut_state(m)
    assert not any(c.kind == "remove-input" for c in rep.changes)
    assert [v.names for v in m.graph.inputs] == [["new_kv"], ["extra_in"], ["past_key_values.0.key"],
                                                 ["past_key_values.0.value"], ["past_key_values.1.key"],
                                                 ["past_key_values.1.value"], ["extra_state"]]
    assert [list(v.names) for v in m.graph.outputs][1:] == [["present.0.key"], ["present.0.value"],
                                                            ["present.1.key"], ["present.1.value"],
                                                            ["extra_state_out"]]
    if not has_module("openvino"):
        return
    import openvino as ov

    m.save(tmp_path / "nb.xml")
    om = ov.Core().read_model(str(tmp_path / "nb.xml"))
    assert [i.get_any_name() for i in om.inputs][2:4] == ["past_key_values.0.key", "past_key_values.0.value"]
    feeds = {i.get_any_name(): np.zeros([2 if d.is_dynamic and k == 0 else (1 if d.is_dynamic else d.get_length())
                                         for k, d in enumerate(i.get_partial_shape())], np.float32)
             for i in om.inputs}
    res = ov.Core().compile_model(om, "CPU", F32)(feeds)
    assert np.array(res["y"]).shape == (2, 2, 4)


def test_cut_state_keeps_the_bin_and_puts_inputs_first(tmp_path: Path) -> None:
    """The initialisers cut-state drops are a few bytes shared with kept Consts: the .bin stays as it is, no
    Const is re-rendered, and the new Parameters go where OpenVINO writes Parameters (before their readers)."""
    import re

    src = _copy(tmp_path, "llama_stateful.xml")
    m = modelfile.load(src)
    cut_state(m)
    out = tmp_path / "out.xml"
    res = m.save(out, verify=False)
    assert out.with_suffix(".bin").read_bytes() == src.with_suffix(".bin").read_bytes()
    assert any(n.startswith("bin: unchanged") for n in res.notes), res.notes
    text, before = out.read_text(), src.read_text()
    consts = re.findall(r'<layer id="[^"]*" name="[^"]*" type="Const".*?</layer>', text, re.S)
    assert consts and all(c in before for c in consts)
    order = {lid: k for k, lid in enumerate(re.findall(r'<layer id="([^"]*)"', text))}
    edges = re.findall(r'<edge from-layer="([^"]*)" from-port="[^"]*" to-layer="([^"]*)"', text)
    assert edges and all(order[a] < order[b] for a, b in edges)
    params = [n for n in modelfile.load(out).graph.nodes if n.op_type == "Parameter"]
    assert [p.outputs[0].names for p in params] == [v.names for v in m.graph.inputs]


def test_rewrite_compacts_the_bin(tmp_path: Path) -> None:
    src = _copy(tmp_path, "llama_stateful.xml")
    m = modelfile.load(src)
    cut_state(m)
    res = m.save(tmp_path / "out.xml", verify=False, weights="rewrite")
    assert res.weights == "rewritten"
    assert (tmp_path / "out.bin").stat().st_size <= src.with_suffix(".bin").stat().st_size


def test_zero_checks_from_bytes_agree_with_the_values(tmp_path: Path) -> None:
    """cut-state tells a zero initialiser from its bytes (no numpy); where bytes cannot say, it decodes."""
    from modelfile.formats.openvino import new_const
    from modelfile.graph import Graph
    from modelfile.passes.state import _const

    g = Graph("g")
    cases = [(np.zeros((1, 2, 0, 4), np.float32), "f32", True), (np.array([-0.0, 0.0], np.float32), "f32", True),
             (np.array([0, 0, 1], np.int64), "i64", False), (np.array([0.0, 0.5], np.float16), "f16", False),
             (np.full(4, -1.0, np.float32), "nf4", False),  # NF4's code 0 is -1.0: zero bytes, not zeros
             (np.zeros(4, np.float32), "nf4", True),
             (np.zeros(3, np.int32), "i32", True)]
    for k, (arr, et, zero) in enumerate(cases):
        c = _const(new_const(g, arr, f"c{k}", element_type=et).outputs[0])
        assert c is not None and c.shape == arr.shape
        assert (c.size == 0 or c.all_zero()) == zero, (arr, et)
    for value, et in [(-3, "i64"), (7, "i32"), (200, "u8")]:
        c = _const(new_const(g, np.array([value]), f"s{et}", element_type=et).outputs[0])
        assert c is not None and c.scalar_int() == value


def test_cut_state_and_its_save_gate_import_no_numpy(tmp_path: Path) -> None:
    """The edit, the write, the re-read and the lint need offsets and bytes only (numpy costs 60 ms to import)."""
    import subprocess
    import sys

    src = _copy(tmp_path, "llama_stateful.xml")
    code = ("import sys, modelfile\nfrom modelfile.passes.state import cut_state\n"
            f"m = modelfile.load({str(src)!r}); cut_state(m)\n"
            f"r = m.save({str(tmp_path / 'out.xml')!r})\n"
            "print([c.status for c in r.checks], 'numpy' in sys.modules)\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    statuses, numpy_loaded = r.stdout.rsplit("]", 1)
    assert "failed" not in statuses and numpy_loaded.strip() == "False", r.stdout
