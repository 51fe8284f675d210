"""``modelfile diff``: each transform's input against its output lists exactly what its report says.

Every test runs a real transform (the library call behind a CLI command), saves, re-reads, and
checks the diff's added/removed/changed nodes, tensors, inputs/outputs, header and weights against
the transform's report — nothing more, nothing less.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import modelfile
from conftest import CORPUS, FIXTURES, ROOT, corpus_files
from modelfile.compare.diff import Diff, diff_models
from modelfile.mo_input import parse_input, parse_output
from modelfile.passes.cut import cut
from modelfile.passes.freeze import freeze
from modelfile.passes.rename import rename
from modelfile.passes.reshape import reshape
from modelfile.passes.sherpa_meta import SherpaMeta, add_sherpa_meta

JOINT = FIXTURES / "openvino/rnnt/joint.xml"
BLOCK = FIXTURES / "ncnn/block.ncnn.param"
LSTM_ENC = FIXTURES / "sherpa/lstm/encoder.ncnn.param"


def _edit(src: Path, tmp: Path, fn, name: str | None = None, verify: bool = True):  # type: ignore[no-untyped-def]
    """Apply ``fn`` to a fresh load of ``src``, save under ``tmp``; return (report, diff)."""
    m = modelfile.load(src)
    report = fn(m)
    out = tmp / (name or src.name)
    m.save(out, verify=verify)
    return report, diff_models(modelfile.load(src), modelfile.load(out))


def _names(refs) -> set[str]:  # type: ignore[no-untyped-def]
    return {r.name for r in refs}


def _kinds(report, kind: str) -> list:  # type: ignore[no-untyped-def]
    return [c for c in report.changes if c.kind == kind]


def _only(d: Diff, **expected: int) -> None:
    """The stat counts not named are zero."""
    s = d.stat()
    for k in ("added", "removed", "changed", "weights_changed", "tensors_renamed", "inputs_changed",
              "outputs_changed", "header_changed"):
        assert s[k] == expected.get(k, 0), (k, s, d.to_dict())


# -- identity ------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", [JOINT, BLOCK, LSTM_ENC, FIXTURES / "openvino/loop/model.xml",
                                  FIXTURES / "openvino/stateful/model.xml", FIXTURES / "openvino/strings/if_op.xml"])
def test_a_model_equals_itself(path: Path) -> None:
    d = diff_models(modelfile.load(path), modelfile.load(path))
    assert d.same and d.matched == d.nodes_a == d.nodes_b and d.matched_by_structure == 0
    assert d.weights_compared > 0 or path.suffix == ".xml" and "strings" in str(path)


def test_corpus_files_equal_themselves() -> None:
    files = corpus_files("ncnn")[:20] + corpus_files("openvino")
    if not files:
        pytest.skip("no corpus")
    for p in files:
        d = diff_models(modelfile.load(p), modelfile.load(p))
        assert d.same, p


# -- the transforms --------------------------------------------------------------------------------

def test_sherpa_meta_is_one_line_and_the_layer_count(tmp_path: Path) -> None:
    meta = SherpaMeta.build("lstm", {"num-encoder-layers": 2, "encoder-dim": 16, "rnn-hidden-size": 24})
    report, d = _edit(LSTM_ENC, tmp_path, lambda m: add_sherpa_meta(m.graph, meta))
    added = _kinds(report, "add-layer")
    assert len(added) == 1
    assert [f"{r.op_type} {r.name}" for r in d.added] == [added[0].target]
    assert d.added[0].where.endswith(":3")
    assert [(h.what, h.before, h.after) for h in d.header] == [("layer count", 23, 24)]
    _only(d, added=1, header_changed=1)
    assert d.weights_compared == 6  # every LSTM/Linear layer's weights compared: all the same


def test_rename_ncnn_input(tmp_path: Path) -> None:
    report, d = _edit(BLOCK, tmp_path, lambda m: rename(m, {"in0": "input"}))
    assert {c.kind for c in report.changes} == {"rename-blob", "rename-layer"}
    assert [(t.before, t.after) for t in d.renamed_tensors] == [("in0", "input")]
    assert [(io.kind, io.before, io.after) for io in d.inputs] == [("renamed", "in0", "input")]
    (c,) = d.changed
    assert [(x.what, x.before, x.after) for x in c.changes] == [("name", "in0", "input")]
    assert c.matched_by == "structure"  # the renamed layer is paired through its consumer
    _only(d, changed=1, tensors_renamed=1, inputs_changed=1)


def test_rename_ir_input_and_output(tmp_path: Path) -> None:
    report, d = _edit(JOINT, tmp_path, lambda m: rename(m, {"f": "feat", "logits": "scores"}))
    renamed = {(c.before, c.after) for c in _kinds(report, "rename-tensor")}
    assert {(t.before, t.after) for t in d.renamed_tensors} == renamed == {("f", "feat"), ("logits", "scores")}
    layer_renames = {(c.before, c.after) for c in _kinds(report, "rename-layer")}
    assert {(c.a.name, c.b.name) for c in d.changed} == layer_renames == {("f", "feat")}
    assert {io.kind for io in d.inputs} == {"renamed"} and {io.kind for io in d.outputs} == {"renamed"}
    _only(d, changed=1, tensors_renamed=2, inputs_changed=1, outputs_changed=1)


def test_reshape_ir_lists_the_input_and_the_cleared_ports(tmp_path: Path) -> None:
    report, d = _edit(JOINT, tmp_path, lambda m: reshape(m, parse_input("f[1,5,16]")))
    (set_shape,) = _kinds(report, "set-input-shape")
    # downstream ports get the dims OpenVINO infers (where it is installed) or are cleared to -1
    ports = [c for c in report.changes if c.kind in ("infer-port-dims", "clear-port-dims")]
    n_cleared = sum(int(c.target.split()[0]) for c in ports)
    assert [(io.kind, io.name, io.after) for io in d.inputs] == [("shape", "f", "[1,5,16]")]
    param = [c for c in d.changed if c.b.name == "f"]
    assert [(x.what, x.after) for x in param[0].changes] == [("attr shape", set_shape.after),
                                                             ("output 0 shape", "[1,5,16]")]
    others = [c for c in d.changed if c.b.name != "f"]
    assert len(others) == n_cleared
    assert all([x.what for x in c.changes] == ["output 0 shape"] for c in others)
    if not _kinds(report, "infer-port-dims"):
        assert all(c.changes[0].after == "[?,?,?]" for c in others)
    # the model output is one of the cleared ports
    assert [(io.kind, io.name) for io in d.outputs] == [("shape", "logits")]
    _only(d, changed=1 + n_cleared, inputs_changed=1, outputs_changed=1)


def test_reshape_ncnn_input(tmp_path: Path) -> None:
    report, d = _edit(BLOCK, tmp_path, lambda m: reshape(m, parse_input("in0[1,12,32]")))
    (c0,) = report.changes
    assert (c0.kind, c0.target) == ("set-input-shape", "in0")
    assert [(io.kind, io.name, io.before, io.after) for io in d.inputs] == [("shape", "in0", "?", "[12,32]")]
    (c,) = d.changed
    assert c.b.name == "in0" and [(x.what, x.before, x.after) for x in c.changes] == [
        ("attr 0", None, "32"), ("attr 1", None, "12")]
    _only(d, changed=1, inputs_changed=1)


def test_freeze_ir_input(tmp_path: Path) -> None:
    src = FIXTURES / "openvino/stateful/accumulator.xml"
    report, d = _edit(src, tmp_path, lambda m: freeze(m, parse_input("x->[1,2,3,4]")))
    (fz,) = report.changes
    (c,) = d.changed
    assert (c.a.op_type, c.b.op_type, c.b.name) == ("Parameter", "Const", fz.target)
    assert c.weights is not None and c.weights.status == "added" and c.weights.after == "f32[1, 4]"
    assert [(io.kind, io.name) for io in d.inputs] == [("removed", "x")]
    _only(d, changed=1, weights_changed=1, inputs_changed=1)


def test_freeze_ncnn_input(tmp_path: Path) -> None:
    src = FIXTURES / "sherpa/lstm/decoder.ncnn.param"
    report, d = _edit(src, tmp_path, lambda m: freeze(m, parse_input("in0[2]->[1,2]")))
    (fz,) = report.changes
    (c,) = d.changed
    assert (c.a.op_type, c.b.op_type, c.b.name) == ("Input", "MemoryData", fz.target)
    assert ("attr 0", None, "2") in [(x.what, x.before, x.after) for x in c.changes]
    assert c.weights is not None and c.weights.status == "added"
    _only(d, changed=1, weights_changed=1, inputs_changed=1)


@pytest.mark.parametrize("src,at", [(JOINT, "14"), (BLOCK, "5")])
def test_cut_at_an_inner_tensor(tmp_path: Path, src: Path, at: str) -> None:
    report, d = _edit(src, tmp_path, lambda m: cut(m, parse_input(at), []))
    removed = {c.target for c in _kinds(report, "remove-layer")}
    (new,) = _kinds(report, "new-input")
    assert _names(d.removed) == removed
    assert [(r.name) for r in d.added] == [new.after.split()[0]]
    assert [(io.kind, io.name) for io in d.inputs if io.kind == "added"] == [("added", at)]
    assert {io.name for io in d.inputs if io.kind == "removed"} == {
        n for n in removed if modelfile.load(src).find_node(n).op_type in ("Input", "Parameter")}
    # the only changed nodes are the consumers of the cut tensor, now fed by the new input
    m = modelfile.load(src)
    consumers = {u.node.name for v in m.graph.values() if v.name == at for u in v.uses}
    # ... and the nodes whose port dims the cut re-inferred (OpenVINO) or cleared, as many as the report says
    inferred = {c.b.name for c in d.changed if c.b.name not in consumers}
    ports = [c for c in report.changes if c.kind in ("infer-port-dims", "clear-port-dims")]
    assert len(inferred) <= sum(int(c.target.split()[0]) for c in ports)
    if inferred:
        assert all(x.what.startswith("output") and x.what.endswith("shape")
                   for c in d.changed if c.b.name in inferred for x in c.changes)
    assert {c.b.name for c in d.changed} - inferred == consumers
    for c in d.changed:
        if c.b.name in inferred:
            continue
        assert [x.what for x in c.changes][:1] == ["input 0"] and ("(from Input" in c.changes[0].after
                                                                   or "(from Parameter" in c.changes[0].after)
    assert not d.outputs and not d.renamed_tensors and not d.weights_changed


def test_cut_output(tmp_path: Path) -> None:
    report, d = _edit(JOINT, tmp_path, lambda m: cut(m, [], parse_output("10")))
    removed = {c.target for c in _kinds(report, "remove-layer")} | {
        c.before for c in _kinds(report, "remove-output")}
    added = {c.after for c in _kinds(report, "add-output")}
    assert _names(d.removed) == removed
    assert _names(d.added) == added
    assert {(io.kind, io.name) for io in d.outputs} == {("removed", "logits"), ("added", "10")}


def test_cut_state_ir(tmp_path: Path) -> None:
    from modelfile.passes.state import cut_state

    src = FIXTURES / "openvino/stateful/model.xml"
    report, d = _edit(src, tmp_path, cut_state)
    made = {c.after for c in report.changes if c.kind.startswith("state-to-")}
    gone = {c.before for c in report.changes if c.kind.startswith("state-to-")} | {
        f"{c.before} {c.target}" for c in _kinds(report, "remove-layer")}
    assert {f"{r.op_type} {r.name}" for r in d.added} == made
    assert {f"{r.op_type} {r.name}" for r in d.removed} == gone
    new_inputs = {c.target for c in _kinds(report, "state-to-input")}
    assert {(io.kind, io.name) for io in d.inputs} == {("added", n) for n in new_inputs}
    assert {(io.kind, io.name) for io in d.outputs} == {
        ("added", c.after.split()[1]) for c in _kinds(report, "state-to-output")}
    # what read the state now reads the new input; the state's new outputs got the Results' names
    m = modelfile.load(src)
    readers = {u.node.name for n in m.nodes if n.op_type == "ReadValue" for u in n.outputs[0].uses}
    assert {c.b.name for c in d.changed} == readers
    assert all(c.changes[0].after in new_inputs for c in d.changed)
    assert {t.after for t in d.renamed_tensors} == {c.after.split()[1] for c in _kinds(report, "state-to-output")}
    assert [(h.what, h.before, h.after) for h in d.header] == [("layers", 33, 32)]


def test_changes_inside_loop_and_tensoriterator_bodies(tmp_path: Path) -> None:
    src = FIXTURES / "openvino/loop/model.xml"

    def edit(m):  # type: ignore[no-untyped-def]
        from modelfile.passes.report import Report

        m.find_node("refine/Loop").subgraphs["body"].find_node("loop/k1f").attrs["destination_type"] = "f16"
        m.find_node("rnn/TensorIterator").subgraphs["body"].find_node("ti/h_t").name = "ti/tanh"
        return Report("edit")

    _r, d = _edit(src, tmp_path, edit, verify=False)  # an f16 Convert feeding an f32 Multiply: only a diff test
    got = {c.b.name: [(x.what, x.before, x.after) for x in c.changes] for c in d.changed}
    assert got == {"refine/Loop": [("body: loop/k1f: attr destination_type", "f32", "f16")],
                   "rnn/TensorIterator": [("body: ti/tanh: name", "ti/h_t", "ti/tanh")]}
    _only(d, changed=2)


# -- weights -------------------------------------------------------------------------------------------

def test_ir_weight_change_reports_max_abs_diff(tmp_path: Path) -> None:
    from modelfile.formats.openvino import const_array, set_const_value

    def bump(m):  # type: ignore[no-untyped-def]
        n = m.find_node("self.lin_enc.weight")
        arr = np.array(const_array(n))
        arr[3, 5] += 0.25
        arr[0, 0] -= 0.125
        set_const_value(n, arr)
        from modelfile.passes.report import Report
        r = Report("bump")
        r.add("set-const", n.name)
        return r

    _report, d = _edit(JOINT, tmp_path, bump)
    (c,) = d.changed
    assert c.b.name == "self.lin_enc.weight" and not c.changes
    assert c.weights is not None and c.weights.status == "changed"
    assert c.weights.max_abs_diff == pytest.approx(0.25)
    _only(d, changed=1, weights_changed=1)


def test_ncnn_weight_change_in_the_bin(tmp_path: Path) -> None:
    from modelfile.formats.ncnn.weights import WeightStore

    for f in ("block.ncnn.param", "block.ncnn.bin"):
        shutil.copy(FIXTURES / "ncnn" / f, tmp_path / f)
    m = modelfile.load(tmp_path / "block.ncnn.param")
    store = WeightStore.from_model(m, attach=False)
    node = m.find_node("gemm_0")
    blob = store.blob_info(node)[0]
    assert blob.encoding in ("f32", "raw")
    data = bytearray((tmp_path / "block.ncnn.bin").read_bytes())
    at = blob.offset + (4 if blob.encoding == "f32" else 0) + 4 * 7  # the 8th float of the first blob
    old = np.frombuffer(bytes(data[at:at + 4]), "<f4")[0]
    data[at:at + 4] = np.float32(old + 1.5).tobytes()
    (tmp_path / "b").mkdir()
    shutil.copy(tmp_path / "block.ncnn.param", tmp_path / "b/block.ncnn.param")
    (tmp_path / "b/block.ncnn.bin").write_bytes(bytes(data))
    d = diff_models(modelfile.load(tmp_path / "block.ncnn.param"), modelfile.load(tmp_path / "b/block.ncnn.param"))
    (c,) = d.changed
    assert c.b.name == "gemm_0" and c.weights is not None and c.weights.status == "changed"
    assert c.weights.max_abs_diff == pytest.approx(1.5, rel=1e-5)
    _only(d, changed=1, weights_changed=1)


def test_missing_bin_is_a_note_not_an_error(tmp_path: Path) -> None:
    shutil.copy(BLOCK, tmp_path / "block.ncnn.param")
    d = diff_models(modelfile.load(BLOCK), modelfile.load(tmp_path / "block.ncnn.param"))
    assert d.same and any("weights not compared" in n for n in d.notes)


# -- pairing by structure ------------------------------------------------------------------------------

def test_renumbered_ncnn_layers_pair_by_structure(tmp_path: Path) -> None:
    """Every layer and blob renamed (as a re-export renumbers them): all pair up, only names differ."""
    m = modelfile.load(LSTM_ENC)
    blob_map = {}
    for i, n in enumerate(m.nodes):
        if n.op_type != "Input":
            n.name = f"layer{i}"
            for v in n.outputs:
                blob_map[v.name] = v.name = f"t{len(blob_map)}"
    m.save(tmp_path / "enc.ncnn.param")
    d = diff_models(modelfile.load(LSTM_ENC), modelfile.load(tmp_path / "enc.ncnn.param"))
    n_layers = sum(1 for n in modelfile.load(LSTM_ENC).nodes if n.op_type != "Input")
    assert d.matched == d.nodes_a == d.nodes_b and not d.added and not d.removed
    assert d.matched_by_structure == n_layers
    assert all({x.what for x in c.changes} == {"name"} and c.weights is None for c in d.changed)
    assert len(d.changed) == n_layers
    outputs_renamed = {v.name for v in modelfile.load(LSTM_ENC).outputs}
    assert len(d.renamed_tensors) == len(blob_map)
    assert {io.kind for io in d.outputs} == {"renamed"} and len(d.outputs) == len(outputs_renamed)


def test_binary_param_pairs_with_its_text_form() -> None:
    """No name in common (a .param.bin has none): the inputs seed the pairing, the rest follows."""
    text = CORPUS / "ncnn/Tencent__ncnn__examples__squeezenet_v1.1.param"
    binary = CORPUS / "ncnn/Tencent__ncnn__examples__squeezenet_v1.1.param.bin"
    if not binary.exists():
        pytest.skip("corpus not found")
    d = diff_models(modelfile.load(text), modelfile.load(binary))
    assert d.matched == d.nodes_a == d.nodes_b == 75 and not d.added and not d.removed
    assert ("binary", False, True) in [(h.what, h.before, h.after) for h in d.header]
    assert all(c.b.name == f"layer{i}" for i, c in enumerate(d.changed))
    # the two files differ in the Input's w/h/c order: the only attribute change besides float spellings
    attrs = {(c.b.op_type, x.what) for c in d.changed for x in c.changes if x.what.startswith("attr")}
    assert ("Input", "attr 0") in attrs and all(t in ("Input", "ReLU") for t, _ in attrs)


# -- the command line -----------------------------------------------------------------------------------

def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "modelfile", *args], capture_output=True, text=True,
                          cwd=ROOT, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "COLUMNS": "200"})


def test_cli_exit_codes_text_json_stat(tmp_path: Path) -> None:
    same = _cli("diff", str(JOINT), str(JOINT))
    assert same.returncode == 0 and "same" in same.stdout
    m = modelfile.load(JOINT)
    rename(m, {"f": "feat"})
    m.save(tmp_path / "j.xml")
    r = _cli("diff", str(JOINT), str(tmp_path / "j.xml"))
    assert r.returncode == 1, r.stderr
    assert "renamed tensors (1)" in r.stdout and "f -> feat" in r.stdout
    assert re.search(r"joint\.xml:4 .*j\.xml:4", r.stdout)  # file:line of both sides
    j = _cli("diff", str(JOINT), str(tmp_path / "j.xml"), "--json")
    data = json.loads(j.stdout)
    assert j.returncode == 1 and data["same"] is False and data["renamed_tensors"][0]["after"] == "feat"
    s = _cli("diff", str(JOINT), str(tmp_path / "j.xml"), "--stat")
    assert s.returncode == 1 and s.stdout.count("\n") == 1 and "1 tensors renamed" in s.stdout
    bad = _cli("diff", str(JOINT), str(BLOCK))
    assert bad.returncode == 2 and "cannot compare" in bad.stderr and "Traceback" not in bad.stderr
    missing = _cli("diff", str(JOINT), str(tmp_path / "nope.xml"))
    assert missing.returncode == 2 and "no such file" in missing.stderr


def _chain(n: int, layer: str, blob: str) -> str:
    lines = ["7767517", f"{n + 1} {n + 1}", f"Input in0 0 1 {blob}0 0=16"]
    lines += [f"ReLU {layer}{i} 1 1 {blob}{i - 1} {blob}{i}" for i in range(1, n + 1)]
    return "\n".join(lines) + "\n"


def test_diff_time_grows_linearly(tmp_path: Path) -> None:
    """Every layer and blob renamed (the structural path): 4x the layers costs about 4x, not 16x."""
    import time

    cost = {}
    for n in (5000, 20000):
        (tmp_path / f"a{n}.param").write_text(_chain(n, "relu", "x"))
        (tmp_path / f"b{n}.param").write_text(_chain(n, "layer", "t"))
        a, b = modelfile.load(tmp_path / f"a{n}.param"), modelfile.load(tmp_path / f"b{n}.param")
        best = float("inf")
        for _ in range(2):
            t = time.process_time()
            d = diff_models(a, b)
            best = min(best, time.process_time() - t)
        assert d.matched == n + 1 and d.matched_by_structure == n and len(d.renamed_tensors) == n + 1
        cost[n] = best
    assert cost[20000] < 8 * cost[5000], cost
