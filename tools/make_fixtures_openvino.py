#!/usr/bin/env python3
"""Make the small OpenVINO IR fixtures under ``fixtures/openvino/``.

What it makes (every model saved with ``ov.save_model(model, xml, compress_to_fp16=False)``,
so weights stay f32 in the .bin; IR version 11):

* ``rnnt/`` - a tiny RNN-T shaped like the one in OpenVINO's RNN-T conversion guide,
  converted from seeded torch modules with ``openvino.convert_model(module, example_input=...)``:

  - ``encoder.xml``     inputs ``input`` f32 [?,?,240] and ``feature_length`` i64 scalar,
                        outputs ``x_padded`` f32 [?,?,16] and ``x_lens`` i64 scalar.
                        LSTM -> stride-2 time reduction -> LSTM, masked by feature_length,
                        so freezing ``feature_length`` to the true length changes nothing.
  - ``encoder_onnx.xml`` the same encoder exported with ``torch.onnx.export`` (TorchScript
                        exporter) with ONNX input names ``input.1`` and ``1`` (as in the old RNN-T
                        guide: ``--input "input.1[157 1 240],1->157"``) and then converted.
  - ``prediction.xml``  inputs ``symbol`` i64 [?,?], ``hidden_in_1``/``hidden_in_2`` f32 [?,?,?];
                        outputs ``g``, ``hidden_out_1``, ``hidden_out_2`` (Embedding + 2-layer LSTM).
  - ``joint.xml``       inputs ``f``, ``g``; output ``logits``.

* ``stateful/`` - built with the OpenVINO Python opset API:

  - ``model.xml``        DeepSpeech-like: ``input_node`` f32 [1,4,8], ``input_lengths`` i32 [1] ->
                         dense -> LSTMSequence whose h/c state lives in ReadValue/Assign (opset6)
                         variables ``previous_state_h`` (zero Const init) and ``previous_state_c``
                         (no init input) -> ``logits`` f32 [4,1,6] (time-major, like DeepSpeech).
  - ``accumulator.xml``  y = 2*(state+x), state += x; variable ``acc_state`` (runtime-notes section 4).

* ``loop/model.xml`` - a TensorIterator (tanh RNN over time, sliced input, back edge,
  concatenated + last-iteration outputs) feeding a Loop (trip count 3, current-iteration port,
  invariant input, merged input, concatenated output).

* ``strings/`` - ``string_const.xml``: a string Const (labels) gathered by the arg-max of a float
  input, plus a string Parameter concatenated with the labels; ``if_op.xml``: an ``If`` op.

Every fixture is then verified: ``core.read_model(xml)``, compile on CPU with
``{"INFERENCE_PRECISION_HINT": "f32"}``, inference on seeded random inputs (stateful models:
3 steps on one InferRequest), comparison with a torch or numpy reference, and summaries printed.

torch (and onnx) are needed only to regenerate ``rnnt/``; ``--verify-only`` just checks the
committed files and needs only openvino + numpy. Rerunning regenerates byte-identical files
with the same openvino/torch versions (the models are built in a fixed order; auto-generated
friendly names such as ``Result_123`` depend on that order, so always build the whole set).

Usage::

    python tools/make_fixtures_openvino.py            # regenerate + verify everything
    python tools/make_fixtures_openvino.py --verify-only
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from collections import Counter
from pathlib import Path

import numpy as np
import openvino as ov
import openvino.opset13 as ops
from openvino.op.util import Variable, VariableInfo

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "fixtures" / "openvino"
F32_CONFIG = {"INFERENCE_PRECISION_HINT": "f32"}
MAX_TOTAL_BYTES = 1_500_000

# RNN-T dimensions (the real model: 240 features, 1024 enc, 320 pred, 29 symbols).
RNNT_FEATURES = 240
RNNT_ENC_HIDDEN = 16
RNNT_PRED_HIDDEN = 16
RNNT_JOINT_HIDDEN = 24
RNNT_VOCAB = 29
RNNT_EXAMPLE_T = 20
RNNT_GUIDE_T = 157  # the guide freezes feature_length->157 with input [157,1,240]

# DeepSpeech-like stateful model dimensions.
DS_T, DS_F, DS_D, DS_H, DS_V = 4, 8, 12, 10, 6

# TensorIterator/Loop model dimensions.
TI_T, TI_F, TI_H, LOOP_TRIPS = 5, 4, 3, 3


def _rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def _const(arr, name: str):
    return ops.constant(np.asarray(arr), name=name)


def _name_output(output, name: str) -> None:
    """Give an output port a tensor name (replacing any it has)."""
    output.get_tensor().set_names({name})


def _named(node, name: str):
    """Set a friendly name explicitly (some opset helpers, e.g. assign/unsqueeze, ignore name=)."""
    node.set_friendly_name(name)
    return node


def _bodies(op) -> list:
    kind = op.get_type_name()
    if kind in ("TensorIterator", "Loop"):
        return [op.get_function()]
    if kind == "If":
        return [op.get_then_body(), op.get_else_body()]
    return []


def _assert_all_named(model: ov.Model) -> None:
    """Opset-built fixtures get explicit names so they do not depend on global node counters."""
    def walk(m: ov.Model):
        for op in m.get_ordered_ops():
            assert not re.fullmatch(r"[A-Za-z]+_\d+", op.get_friendly_name()), (
                f"auto-generated name {op.get_friendly_name()} in {m.get_friendly_name()}")
            for body in _bodies(op):
                walk(body)
    walk(model)


def _save(model: ov.Model, path: Path, explicit_names: bool = True) -> None:
    if explicit_names:
        _assert_all_named(model)
    path.parent.mkdir(parents=True, exist_ok=True)
    ov.save_model(model, str(path), compress_to_fp16=False)
    print(f"saved {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")


# --------------------------------------------------------------------------------------------
# 1. RNN-T (torch -> convert_model)
# --------------------------------------------------------------------------------------------

def _rnnt_modules():
    import torch
    from torch import nn

    class Encoder(nn.Module):
        """pre-LSTM -> stride-2 time reduction -> post-LSTM, masked by feature_length."""

        def __init__(self) -> None:
            super().__init__()
            self.pre_rnn = nn.LSTM(RNNT_FEATURES, RNNT_ENC_HIDDEN)
            self.post_rnn = nn.LSTM(RNNT_ENC_HIDDEN, RNNT_ENC_HIDDEN)

        def forward(self, input, feature_length):  # noqa: A002 - name is the IR input name
            x, _ = self.pre_rnn(input)                      # [T, B, H]
            x = x[::2]                                      # [ceil(T/2), B, H]
            x, _ = self.post_rnn(x)
            x_lens = torch.div(feature_length + 1, 2, rounding_mode="floor")
            # frame index 0..T2-1 without python ints, so the trace stays shape-generic
            idx = torch.cumsum(torch.ones_like(x[:, :1, :1]), 0) - 1.0
            mask = (idx < x_lens.to(x.dtype)).to(x.dtype)
            return x * mask, x_lens

    class Prediction(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embed = nn.Embedding(RNNT_VOCAB, RNNT_PRED_HIDDEN)
            self.dec_rnn = nn.LSTM(RNNT_PRED_HIDDEN, RNNT_PRED_HIDDEN, num_layers=2)

        def forward(self, symbol, hidden_in_1, hidden_in_2):
            y = self.embed(symbol).transpose(0, 1)          # [U, B, H]
            g, (h, c) = self.dec_rnn(y, (hidden_in_1, hidden_in_2))
            return g.transpose(0, 1), h, c                  # g: [B, U, H]

    class Joint(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.lin_enc = nn.Linear(RNNT_ENC_HIDDEN, RNNT_JOINT_HIDDEN)
            self.lin_pred = nn.Linear(RNNT_PRED_HIDDEN, RNNT_JOINT_HIDDEN)
            self.out = nn.Linear(RNNT_JOINT_HIDDEN, RNNT_VOCAB)

        def forward(self, f, g):
            return self.out(torch.relu(self.lin_enc(f) + self.lin_pred(g)))

    mods = {}
    for seed, (name, cls) in enumerate([("encoder", Encoder), ("prediction", Prediction), ("joint", Joint)]):
        torch.manual_seed(seed)
        mods[name] = cls().eval()
    return mods


def _rnnt_inputs(name: str, rng: np.random.Generator, T: int = RNNT_GUIDE_T) -> dict:
    """Seeded numpy inputs keyed by the convert_model (torch argument) names."""
    if name == "encoder":
        return {"input": rng.standard_normal((T, 1, RNNT_FEATURES), dtype=np.float32),
                "feature_length": np.array(T, dtype=np.int64)}
    if name == "prediction":
        return {"symbol": rng.integers(0, RNNT_VOCAB, (1, 1), dtype=np.int64),
                "hidden_in_1": rng.standard_normal((2, 1, RNNT_PRED_HIDDEN), dtype=np.float32),
                "hidden_in_2": rng.standard_normal((2, 1, RNNT_PRED_HIDDEN), dtype=np.float32)}
    if name == "joint":
        return {"f": rng.standard_normal((1, 1, RNNT_ENC_HIDDEN), dtype=np.float32),
                "g": rng.standard_normal((1, 1, RNNT_PRED_HIDDEN), dtype=np.float32)}
    raise KeyError(name)


RNNT_OUTPUT_NAMES = {
    "encoder": ["x_padded", "x_lens"],
    "prediction": ["g", "hidden_out_1", "hidden_out_2"],
    "joint": ["logits"],
}


def build_rnnt(out: Path) -> None:
    import torch

    mods = _rnnt_modules()
    for name, mod in mods.items():
        example = _rnnt_inputs(name, _rng(100), T=RNNT_EXAMPLE_T)
        example_t = tuple(torch.from_numpy(np.asarray(v)) for v in example.values())
        with torch.no_grad():
            om = ov.convert_model(mod, example_input=example_t)
        for port, tname in zip(om.outputs, RNNT_OUTPUT_NAMES[name]):
            _name_output(port, tname)
        _save(om, out / "rnnt" / f"{name}.xml", explicit_names=False)

    # ONNX-style encoder: inputs named "input.1" and "1" like the old RNN-T guide.
    enc = mods["encoder"]
    example = _rnnt_inputs("encoder", _rng(100), T=RNNT_EXAMPLE_T)
    args = (torch.from_numpy(example["input"]), torch.from_numpy(example["feature_length"]))
    with tempfile.TemporaryDirectory() as tmp:
        onnx_path = Path(tmp) / "encoder.onnx"
        import warnings
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(enc, args, str(onnx_path), input_names=["input.1", "1"],
                              dynamic_axes={"input.1": {0: "T"}}, opset_version=17,
                              dynamo=False)
        # The TorchScript exporter will not give a graph input a purely numeric name: "1" comes out
        # as "onnx::Add_1". Rename it in the ONNX graph (no other tensor is called "1").
        import onnx

        proto = onnx.load(str(onnx_path))
        renames = {}
        for given, graph_input in zip(["input.1", "1"], proto.graph.input):
            renames[graph_input.name] = given
        taken = {n for node in proto.graph.node for n in (*node.input, *node.output)}
        taken |= {t.name for t in proto.graph.initializer}
        for old, new in renames.items():
            assert old == new or new not in taken, f"ONNX tensor name {new!r} already used"
        for graph_input in proto.graph.input:
            graph_input.name = renames.get(graph_input.name, graph_input.name)
        for node in proto.graph.node:
            for i, n in enumerate(node.input):
                node.input[i] = renames.get(n, n)
        onnx.checker.check_model(proto)
        onnx.save(proto, str(onnx_path))
        om = ov.convert_model(str(onnx_path))
        assert [p.get_any_name() for p in om.inputs] == ["input.1", "1"], [p.get_names() for p in om.inputs]
    _save(om, out / "rnnt" / "encoder_onnx.xml", explicit_names=False)


def _rnnt_reference(name: str, feeds: dict) -> list[np.ndarray]:
    import torch

    mod = _rnnt_modules()[name]
    with torch.no_grad():
        res = mod(*(torch.from_numpy(np.asarray(v)) for v in feeds.values()))
    res = res if isinstance(res, tuple) else (res,)
    return [r.numpy() for r in res]


# --------------------------------------------------------------------------------------------
# 2. Stateful models (opset API)
# --------------------------------------------------------------------------------------------

def _ds_weights() -> dict:
    rng = _rng(2)
    s = 0.5
    return {
        "W1": (rng.standard_normal((DS_F, DS_D)) * s).astype(np.float32),
        "b1": (rng.standard_normal((DS_D,)) * s).astype(np.float32),
        # LSTMSequence layout: [num_directions, 4*H, in], gate order f, i, c, o
        "W": (rng.standard_normal((1, 4 * DS_H, DS_D)) * s).astype(np.float32),
        "R": (rng.standard_normal((1, 4 * DS_H, DS_H)) * s).astype(np.float32),
        "B": (rng.standard_normal((1, 4 * DS_H)) * s).astype(np.float32),
        "W2": (rng.standard_normal((DS_H, DS_V)) * s).astype(np.float32),
        "b2": (rng.standard_normal((DS_V,)) * s).astype(np.float32),
    }


def build_stateful(out: Path) -> None:
    w = _ds_weights()
    f32 = ov.Type.f32
    input_node = ops.parameter([1, DS_T, DS_F], f32, name="input_node")
    input_lengths = ops.parameter([1], ov.Type.i32, name="input_lengths")
    _name_output(input_node.output(0), "input_node")
    _name_output(input_lengths.output(0), "input_lengths")

    dense = ops.relu(ops.add(ops.matmul(input_node, _const(w["W1"], "dense/W"), False, False, name="dense/MatMul"),
                             _const(w["b1"], "dense/b"), name="dense/Add"), name="dense/Relu")

    info_h = VariableInfo()
    info_h.data_shape = ov.PartialShape([1, DS_H])
    info_h.data_type = f32
    info_h.variable_id = "previous_state_h"
    var_h = Variable(info_h)
    info_c = VariableInfo()
    info_c.data_shape = ov.PartialShape([1, DS_H])
    info_c.data_type = f32
    info_c.variable_id = "previous_state_c"
    var_c = Variable(info_c)

    # h: ReadValue with a zero Const init; c: ReadValue without init (zeros of variable_shape).
    read_h = ops.read_value(_const(np.zeros((1, DS_H), np.float32), "previous_state_h/init"), var_h,
                            name="previous_state_h/read")
    read_c = ops.read_value(var_c, name="previous_state_c/read")
    h0 = _named(ops.unsqueeze(read_h, _const(np.array([1], np.int64), "h0/axis")), "lstm/h0")
    c0 = _named(ops.unsqueeze(read_c, _const(np.array([1], np.int64), "c0/axis")), "lstm/c0")
    seq = ops.lstm_sequence(dense, h0, c0, input_lengths,
                            _const(w["W"], "lstm/W"), _const(w["R"], "lstm/R"), _const(w["B"], "lstm/B"),
                            DS_H, "forward", name="lstm/LSTMSequence")
    h_new = ops.squeeze(seq.output(1), _const(np.array([1], np.int64), "h1/axis"), name="lstm/h_out")
    c_new = ops.squeeze(seq.output(2), _const(np.array([1], np.int64), "c1/axis"), name="lstm/c_out")
    assign_h = _named(ops.assign(h_new, var_h), "previous_state_h/assign")
    assign_c = _named(ops.assign(c_new, var_c), "previous_state_c/assign")

    y = ops.squeeze(seq.output(0), _const(np.array([1], np.int64), "y/axis"), name="lstm/Y")  # [1,T,H]
    proj = ops.add(ops.matmul(y, _const(w["W2"], "logits/W"), False, False, name="logits/MatMul"),
                   _const(w["b2"], "logits/b"), name="logits/Add")
    logits = ops.transpose(proj, _const(np.array([1, 0, 2], np.int64), "logits/order"), name="logits")
    _name_output(logits.output(0), "logits")
    res = ops.result(logits, name="logits/sink_port_0")
    model = ov.Model([res], [assign_h, assign_c], [input_node, input_lengths], "deepspeech_like_stateful")
    _save(model, out / "stateful" / "model.xml")

    # accumulator: y = 2*(state + x); state <- state + x
    x = ops.parameter([1, 4], f32, name="x")
    _name_output(x.output(0), "x")
    info = VariableInfo()
    info.data_shape = ov.PartialShape([1, 4])
    info.data_type = f32
    info.variable_id = "acc_state"
    var = Variable(info)
    rv = ops.read_value(_const(np.zeros((1, 4), np.float32), "acc_state/init"), var, name="acc_state/read")
    acc = ops.add(rv, x, name="acc")
    asg = _named(ops.assign(acc, var), "acc_state/assign")
    yy = ops.multiply(acc, _const(np.array(2.0, np.float32), "two"), name="y")
    _name_output(yy.output(0), "y")
    model = ov.Model([ops.result(yy, name="y/sink_port_0")], [asg], [x], "accumulator")
    _save(model, out / "stateful" / "accumulator.xml")


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _ds_reference_step(w: dict, x: np.ndarray, length: int, h: np.ndarray, c: np.ndarray):
    d = np.maximum(x[0] @ w["W1"] + w["b1"], 0.0)  # [T, D]
    H = DS_H
    ys = np.zeros((DS_T, H), np.float32)
    for t in range(length):
        g = d[t] @ w["W"][0].T + h[0] @ w["R"][0].T + w["B"][0]
        f, i, cc, o = _sigmoid(g[:H]), _sigmoid(g[H:2 * H]), np.tanh(g[2 * H:3 * H]), _sigmoid(g[3 * H:])
        c = f * c + i * cc
        h = o * np.tanh(c)
        ys[t] = h[0]
    logits = (ys @ w["W2"] + w["b2"])[:, None, :]
    return logits, h, c


# --------------------------------------------------------------------------------------------
# 3. TensorIterator + Loop (opset API)
# --------------------------------------------------------------------------------------------

def _loop_weights() -> dict:
    rng = _rng(3)
    return {"Wx": (rng.standard_normal((TI_F, TI_H)) * 0.5).astype(np.float32),
            "Wh": (rng.standard_normal((TI_H, TI_H)) * 0.5).astype(np.float32),
            "b": (rng.standard_normal((TI_H,)) * 0.5).astype(np.float32)}


def build_loop(out: Path) -> None:
    w = _loop_weights()
    f32 = ov.Type.f32
    x = ops.parameter([1, TI_T, TI_F], f32, name="x")
    h0 = ops.parameter([1, TI_H], f32, name="h0")
    _name_output(x.output(0), "x")
    _name_output(h0.output(0), "h0")

    # TensorIterator body: h_t = tanh(x_t Wx + h_{t-1} Wh + b)
    xb = ops.parameter([1, 1, TI_F], f32, name="ti/x_t")
    hb = ops.parameter([1, TI_H], f32, name="ti/h_prev")
    xt = ops.squeeze(xb, _const(np.array([1], np.int64), "ti/squeeze_axis"), name="ti/x_t_2d")
    pre = ops.add(ops.add(ops.matmul(xt, _const(w["Wx"], "ti/Wx"), False, False, name="ti/xWx"),
                          ops.matmul(hb, _const(w["Wh"], "ti/Wh"), False, False, name="ti/hWh"), name="ti/sum"),
                  _const(w["b"], "ti/b"), name="ti/pre")
    hn = ops.tanh(pre, name="ti/h_t")
    hn_res = ops.result(hn, name="ti/h_t/result")
    hseq_res = ops.result(_named(ops.unsqueeze(hn, _const(np.array([1], np.int64), "ti/unsqueeze_axis")),
                                 "ti/h_t_3d"), name="ti/h_t_3d/result")
    ti_body = ov.Model([hn_res, hseq_res], [xb, hb], "ti_body")
    ti = ops.tensor_iterator()
    ti.set_friendly_name("rnn/TensorIterator")
    ti.set_body(ti_body)
    ti.set_sliced_input(xb, x.output(0), 0, 1, 1, -1, 1)
    ti.set_merged_input(hb, h0.output(0), hn_res.output(0))
    seq_out = ti.get_concatenated_slices(hseq_res.output(0), 0, 1, 1, -1, 1)
    h_last = ti.get_iter_value(hn_res.output(0), -1)
    ti.validate_and_infer_types()

    # Loop body: acc_{k+1} = 0.5*acc_k + (k+1)*h0 ; trip count 3; condition always true
    it = ops.parameter([], ov.Type.i64, name="loop/iter")
    acc = ops.parameter([1, TI_H], f32, name="loop/acc")
    inv = ops.parameter([1, TI_H], f32, name="loop/h0")
    k1 = ops.convert(ops.add(it, _const(np.array(1, np.int64), "loop/one"), name="loop/k1"), f32, name="loop/k1f")
    acc_next = ops.add(ops.multiply(acc, _const(np.array(0.5, np.float32), "loop/half"), name="loop/decay"),
                       ops.multiply(inv, k1, name="loop/scaled"), name="loop/acc_next")
    acc_res = ops.result(acc_next, name="loop/acc_next/result")
    cond_res = ops.result(_const(np.array(True), "loop/cond_true"), name="loop/cond/result")
    loop_body = ov.Model([acc_res, cond_res], [it, acc, inv], "loop_body")
    loop = ops.loop(_const(np.array(LOOP_TRIPS, np.int64), "loop/trip_count"),
                    _const(np.array(True), "loop/exec_cond"))
    loop.set_friendly_name("refine/Loop")
    loop.set_function(loop_body)
    loop.set_special_body_ports([0, 1])  # [current_iteration param index, condition result index]
    loop.set_merged_input(acc, h_last, acc_res.output(0))
    loop.set_invariant_input(inv, h0.output(0))
    loop_out = loop.get_iter_value(acc_res.output(0), -1)
    loop_seq = loop.get_concatenated_slices(acc_res.output(0), 0, 1, 1, -1, 0)
    loop.validate_and_infer_types()

    results = []
    for port, name in [(seq_out, "seq_out"), (h_last, "h_last"), (loop_out, "loop_out"), (loop_seq, "loop_seq")]:
        _name_output(port, name)
        results.append(ops.result(port, name=f"{name}/sink_port_0"))
    model = ov.Model(results, [x, h0], "ti_loop")
    _save(model, out / "loop" / "model.xml")


def _loop_reference(x: np.ndarray, h0: np.ndarray) -> list[np.ndarray]:
    w = _loop_weights()
    h = h0
    seq = []
    for t in range(TI_T):
        h = np.tanh(x[:, t] @ w["Wx"] + h @ w["Wh"] + w["b"])
        seq.append(h)
    acc = h
    accs = []
    for k in range(LOOP_TRIPS):
        acc = 0.5 * acc + (k + 1) * h0
        accs.append(acc)
    return [np.stack(seq, 1), h, acc, np.concatenate(accs, 0)]


# --------------------------------------------------------------------------------------------
# 4. String constant and If
# --------------------------------------------------------------------------------------------

STRING_LABELS = ["<blk>", "a", "bc", "héllo", "日本"]


def build_strings(out: Path) -> None:
    f32 = ov.Type.f32
    # NB: ov.op.Constant(np.array([...str...])) raises std::bad_alloc (or crashes) in 2026.4.1;
    # going through ov.Tensor works.
    labels = ov.op.Constant(ov.Tensor(np.array(STRING_LABELS)))
    labels.set_friendly_name("labels")
    _name_output(labels.output(0), "labels")

    scores = ops.parameter([1, len(STRING_LABELS)], f32, name="scores")
    text = ops.parameter([-1], ov.Type.string, name="text")
    _name_output(scores.output(0), "scores")
    _name_output(text.output(0), "text")
    topk = ops.topk(scores, _const(np.array(1, np.int64), "topk/k"), 1, "max", "value",
                    index_element_type=ov.Type.i32, name="topk")
    idx = ops.squeeze(topk.output(1), _const(np.array([0], np.int64), "topk/axis"), name="best_index")
    label = ops.gather(labels, idx, _const(np.array(0, np.int64), "gather/axis"), name="best_label")
    joined = ops.concat([text.output(0), labels.output(0)], 0, name="text_and_labels")
    _name_output(label.output(0), "best_label")
    _name_output(joined.output(0), "text_and_labels")
    model = ov.Model([ops.result(label, name="best_label/sink_port_0"),
                      ops.result(joined, name="text_and_labels/sink_port_0"),
                      ops.result(labels, name="labels/sink_port_0")],
                     [scores, text], "string_const")
    _save(model, out / "strings" / "string_const.xml")

    # If: y = cond ? x*2 : x+1
    cond = ops.parameter([], ov.Type.boolean, name="cond")
    x = ops.parameter([2, 3], f32, name="x")
    _name_output(cond.output(0), "cond")
    _name_output(x.output(0), "x")
    then_x = ops.parameter([2, 3], f32, name="then/x")
    then_r = ops.result(ops.multiply(then_x, _const(np.array(2.0, np.float32), "then/two"), name="then/mul"),
                        name="then/result")
    else_x = ops.parameter([2, 3], f32, name="else/x")
    else_r = ops.result(ops.add(else_x, _const(np.array(1.0, np.float32), "else/one"), name="else/add"),
                        name="else/result")
    if_node = ops.if_op(cond.output(0))
    if_node.set_friendly_name("branch/If")
    if_node.set_then_body(ov.Model([then_r], [then_x], "then_body"))
    if_node.set_else_body(ov.Model([else_r], [else_x], "else_body"))
    if_node.set_input(x.output(0), then_x, else_x)
    y = if_node.set_output(then_r, else_r)
    if_node.validate_and_infer_types()
    _name_output(y, "y")
    model = ov.Model([ops.result(y, name="y/sink_port_0")], [cond, x], "if_op")
    _save(model, out / "strings" / "if_op.xml")


# --------------------------------------------------------------------------------------------
# Verification
# --------------------------------------------------------------------------------------------

def _fmt_port(p) -> str:
    names = ",".join(sorted(p.get_names())) or "<no names>"
    return f"{names} {p.get_partial_shape()} {p.get_element_type().get_type_name()}"


def _summ(a: np.ndarray) -> str:
    a = np.asarray(a)
    if a.dtype.kind in "US":
        return f"shape={list(a.shape)} {a.dtype} values={a.tolist()}"
    if a.size <= 6:
        return f"shape={list(a.shape)} {a.dtype} values={np.round(a.astype(np.float64), 5).tolist()}"
    return (f"shape={list(a.shape)} {a.dtype} mean={a.mean():.5f} std={a.std():.5f} "
            f"min={a.min():.5f} max={a.max():.5f}")


def _layer_types(xml: Path) -> str:
    counts = Counter(re.findall(r'type="([A-Za-z]*)"', xml.read_text(encoding="utf-8")))
    return " ".join(f"{k}:{v}" for k, v in sorted(counts.items()))


def _describe(core: ov.Core, xml: Path):
    model = core.read_model(str(xml))
    print(f"\n== {xml.relative_to(ROOT) if xml.is_relative_to(ROOT) else xml}  "
          f"(xml {xml.stat().st_size} B, bin {xml.with_suffix('.bin').stat().st_size} B)")
    for p in model.inputs:
        print(f"   in : {_fmt_port(p)}")
    for p in model.outputs:
        print(f"   out: {_fmt_port(p)}")
    print(f"   layers: {_layer_types(xml)}")
    return model


def _compile(core: ov.Core, model: ov.Model):
    return core.compile_model(model, "CPU", F32_CONFIG)


def _check_close(name: str, got, want, tol: float = 1e-4) -> None:
    got = np.asarray(got)
    want = np.asarray(want)
    assert got.shape == want.shape, f"{name}: shape {got.shape} != reference {want.shape}"
    diff = float(np.max(np.abs(got.astype(np.float64) - want.astype(np.float64)))) if got.size else 0.0
    assert diff <= tol, f"{name}: max |diff| {diff} > {tol}"
    print(f"   {name}: {_summ(got)}  |diff vs ref|={diff:.2e}")


def verify_rnnt(core: ov.Core, out: Path, have_torch: bool) -> None:
    for name in ["encoder", "prediction", "joint", "encoder_onnx"]:
        xml = out / "rnnt" / f"{name}.xml"
        model = _describe(core, xml)
        cm = _compile(core, model)
        base = "encoder" if name == "encoder_onnx" else name
        for T in ([RNNT_GUIDE_T, 9] if base == "encoder" else [None]):
            feeds = _rnnt_inputs(base, _rng(7), T=T or RNNT_GUIDE_T)
            ov_feeds = list(feeds.values())  # positional: ONNX variant has other names
            res = cm(ov_feeds)
            got = [res[o] for o in cm.outputs]
            if T:
                print(f"   T={T}, feature_length={int(feeds['feature_length'])}")
            if have_torch:
                for o, g, r in zip(cm.outputs, got, _rnnt_reference(base, feeds)):
                    _check_close(o.get_any_name(), g, r)
            else:
                for o, g in zip(cm.outputs, got):
                    print(f"   {o.get_any_name()}: {_summ(g)}")
            if T == RNNT_GUIDE_T:
                # The guide's `feature_length->157` / `1->157`: freezing the length input to a
                # constant must not change the result for a 157-frame input.
                frozen = core.read_model(str(xml))
                param = frozen.get_parameters()[1]
                value = ops.constant(np.array(RNNT_GUIDE_T, np.int64))
                for target in param.output(0).get_target_inputs():
                    target.replace_source_output(value.output(0))
                frozen.remove_parameter(param)
                fres = _compile(core, frozen)([feeds["input"]])
                for o, g in zip(cm.outputs, got):
                    _check_close(f"frozen {param.get_friendly_name()}->157: {o.get_any_name()}",
                                 fres[o.get_any_name()], g, tol=0.0)


def verify_stateful(core: ov.Core, out: Path) -> None:
    xml = out / "stateful" / "model.xml"
    model = _describe(core, xml)
    req = _compile(core, model).create_infer_request()
    print(f"   states: {sorted(s.name for s in req.query_state())}")
    w = _ds_weights()
    rng = _rng(8)
    h = np.zeros((1, DS_H), np.float32)
    c = np.zeros((1, DS_H), np.float32)
    x = rng.standard_normal((1, DS_T, DS_F), dtype=np.float32)  # same frame every step
    lengths = [DS_T, DS_T - 1, DS_T]
    outs = []
    for step, length in enumerate(lengths):
        res = req.infer({"input_node": x, "input_lengths": np.array([length], np.int32)})
        got = res["logits"].copy()
        want, h, c = _ds_reference_step(w, x, length, h, c)
        _check_close(f"step {step} logits (input_lengths={length})", got, want)
        outs.append(got)
    assert not np.allclose(outs[0], outs[2]), "state did not carry over between steps"
    states = {s.name: s.state.data.copy() for s in req.query_state()}
    _check_close("state previous_state_h", states["previous_state_h"], h)
    _check_close("state previous_state_c", states["previous_state_c"], c)
    req.reset_state()
    res = req.infer({"input_node": x, "input_lengths": np.array([DS_T], np.int32)})
    _check_close("after reset_state, step 0 again", res["logits"], outs[0], tol=0.0)

    xml = out / "stateful" / "accumulator.xml"
    model = _describe(core, xml)
    req = _compile(core, model).create_infer_request()
    expected = [[0.2, 0.4, 0.6, 0.8], [0.6, 1.2, 1.8, 2.4], [1.2, 2.4, 3.6, 4.8]]
    for step in range(3):
        xin = (0.1 * np.array([[1, 2, 3, 4]], np.float32) * (step + 1)).astype(np.float32)
        y = req.infer({"x": xin})["y"]
        _check_close(f"step {step} y", y, np.array([expected[step]], np.float32), tol=1e-5)
    print(f"   state acc_state = {req.query_state()[0].state.data.tolist()}")


def verify_loop(core: ov.Core, out: Path) -> None:
    xml = out / "loop" / "model.xml"
    text = xml.read_text(encoding="utf-8")
    for needle in ("<body>", "<port_map>", "<back_edges>", 'type="TensorIterator"', 'type="Loop"'):
        assert needle in text, f"{xml} lacks {needle}"
    model = _describe(core, xml)
    cm = _compile(core, model)
    rng = _rng(9)
    x = rng.standard_normal((1, TI_T, TI_F), dtype=np.float32)
    h0 = rng.standard_normal((1, TI_H), dtype=np.float32)
    res = cm({"x": x, "h0": h0})
    for o, want in zip(cm.outputs, _loop_reference(x, h0)):
        _check_close(o.get_any_name(), res[o], want, tol=1e-5)


def verify_strings(core: ov.Core, out: Path) -> None:
    xml = out / "strings" / "string_const.xml"
    assert 'element_type="string"' in xml.read_text(encoding="utf-8")
    model = _describe(core, xml)
    cm = _compile(core, model)
    rng = _rng(10)
    scores = rng.standard_normal((1, len(STRING_LABELS)), dtype=np.float32)
    res = cm({"scores": scores, "text": np.array(["x", "yz"])})
    best = STRING_LABELS[int(np.argmax(scores))]
    print(f"   scores: {_summ(scores)}")
    for o in cm.outputs:
        print(f"   {o.get_any_name()}: {_summ(res[o])}")
    assert res["best_label"].tolist() == [best], (res["best_label"], best)
    assert res["text_and_labels"].tolist() == ["x", "yz", *STRING_LABELS]
    assert res["labels"].tolist() == STRING_LABELS

    xml = out / "strings" / "if_op.xml"
    text = xml.read_text(encoding="utf-8")
    for needle in ('type="If"', "<then_body>", "<else_body>", "<then_port_map>", "<else_port_map>"):
        assert needle in text, f"{xml} lacks {needle}"
    model = _describe(core, xml)
    cm = _compile(core, model)
    x = rng.standard_normal((2, 3), dtype=np.float32)
    for cond in (True, False):
        y = cm({"cond": np.array(cond), "x": x})["y"]
        _check_close(f"cond={cond} y", y, x * 2 if cond else x + 1, tol=1e-6)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output directory (default: fixtures/openvino)")
    ap.add_argument("--verify-only", action="store_true", help="do not regenerate; only verify existing files")
    args = ap.parse_args(argv)
    out: Path = args.out.resolve()

    try:
        import torch  # noqa: F401
        have_torch = True
    except ImportError:
        have_torch = False

    if not args.verify_only:
        if not have_torch:
            print("torch is not installed: rnnt/ is left as is (verify only)", file=sys.stderr)
        else:
            build_rnnt(out)
        build_stateful(out)
        build_loop(out)
        build_strings(out)

    core = ov.Core()
    verify_rnnt(core, out, have_torch)
    verify_stateful(core, out)
    verify_loop(core, out)
    verify_strings(core, out)

    files = sorted(p for p in out.rglob("*") if p.suffix in (".xml", ".bin"))
    total = sum(p.stat().st_size for p in files)
    print(f"\n{len(files)} files, {total} bytes in total")
    for p in files:
        print(f"   {p.stat().st_size:>8}  {p.relative_to(out)}")
    assert total < MAX_TOTAL_BYTES, f"fixtures too large: {total} bytes"
    print("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
