#!/usr/bin/env python3
"""Make the stateful LLM-style IR fixtures under ``fixtures/openvino/llm/``.

* ``llama_stateful.xml`` - a tiny Llama exported by optimum-intel itself:
  ``LlamaConfig`` (2 layers, hidden 16, 2 heads / 1 KV head of dim 8, vocab 64),
  seeded random weights (``torch.manual_seed(0)``), saved locally, then
  ``OVModelForCausalLM.from_pretrained(dir, export=True, stateful=True)`` (no hub).
  Inputs ``input_ids``, ``attention_mask``, ``position_ids``, ``beam_idx``; output
  ``logits``; 4 variables ``past_key_values.N.{key,value}present.N.{key,value}`` read
  through ``Gather(ReadValue, beam_idx)``, initialised with optimum's
  ``Broadcast(0, [batch, 1, 0, 8])``. Needs torch==2.13.0, transformers, optimum-intel
  (a separate venv: they are not dependencies of modelfile).
* ``kv_opset.xml`` - the same pattern built with OpenVINO's opset API (needs only
  openvino + numpy): ``ReadValue -> Gather(beam_idx) -> Concat(new kv) -> Assign`` for
  ``layers`` layers (key and value), plus ``extra_state`` whose id follows no convention.
  Variables appear in the file in reverse layer order, so the transformation's
  reordering is exercised. Output ``y`` sums every state.

``--layers N`` (with ``--out DIR``) writes a bigger ``kv_opset.xml`` for benchmarks
(``tools/bench_cut_state.py`` uses 32 layers = 64 states + 1).

Usage::

    /work/venv-irsem/bin/python tools/make_fixtures_llm.py            # both fixtures
    python tools/make_fixtures_llm.py --opset-only                    # kv_opset.xml only
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "fixtures" / "openvino" / "llm"
HEADS, HEAD_DIM = 2, 4


def make_llama(out: Path, layers: int = 2) -> Path:
    """optimum-intel's own stateful export of a tiny random Llama."""
    import torch
    from optimum.intel import OVModelForCausalLM
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    cfg = LlamaConfig(hidden_size=16, intermediate_size=32, num_hidden_layers=layers, num_attention_heads=2,
                      num_key_value_heads=1, head_dim=8, vocab_size=64, max_position_embeddings=64)
    model = LlamaForCausalLM(cfg).eval()
    with tempfile.TemporaryDirectory() as tmp:
        hf, ov_dir = Path(tmp) / "hf", Path(tmp) / "ov"
        model.save_pretrained(hf)
        ov_model = OVModelForCausalLM.from_pretrained(hf, export=True, stateful=True, compile=False)
        ov_model.save_pretrained(ov_dir)
        out.mkdir(parents=True, exist_ok=True)
        dst = out / "llama_stateful.xml"
        shutil.copyfile(ov_dir / "openvino_model.xml", dst)
        shutil.copyfile(ov_dir / "openvino_model.bin", dst.with_suffix(".bin"))
    return dst


def make_kv_opset(out: Path, layers: int = 2) -> Path:
    """ReadValue -> Gather(beam_idx) -> Concat -> Assign per state, built with the opset API."""
    import openvino as ov
    import openvino.opset13 as ops
    from openvino.op.util import Variable, VariableInfo

    f32 = ov.Type.f32
    kv = ops.parameter([-1, HEADS, -1, HEAD_DIM], f32, name="new_kv")
    kv.output(0).get_tensor().set_names({"new_kv"})
    extra_in = ops.parameter([-1, HEAD_DIM], f32, name="extra_in")
    extra_in.output(0).get_tensor().set_names({"extra_in"})
    beam = ops.parameter([-1], ov.Type.i32, name="beam_idx")
    beam.output(0).get_tensor().set_names({"beam_idx"})
    batch = ops.gather(ops.shape_of(kv), ops.constant(np.array([0], np.int64)), ops.constant(np.int64(0)))

    def state(var_id: str, shape: list[int], init_dims: list) -> tuple:  # type: ignore[type-arg]
        info = VariableInfo()
        info.data_shape = ov.PartialShape(shape)
        info.data_type = f32
        info.variable_id = var_id
        var = Variable(info)
        init = ops.broadcast(ops.constant(np.float32(0)), ops.concat(init_dims, 0))
        rv = ops.read_value(init, var)
        return var, ops.gather(rv, beam, ops.constant(np.int64(0)))

    sinks, total = [], None
    order = [(i, kind) for i in reversed(range(layers)) for kind in ("value", "key")]
    for i, kind in order:
        var_id = f"past_key_values.{i}.{kind}present.{i}.{kind}"
        dims = [batch, ops.constant(np.array([HEADS], np.int64)), ops.constant(np.array([0], np.int64)),
                ops.constant(np.array([HEAD_DIM], np.int64))]
        var, past = state(var_id, [-1, HEADS, -1, HEAD_DIM], dims)
        scale = ops.constant(np.float32(1.0 + 0.5 * i + (0.25 if kind == "value" else 0.0)))
        new = ops.concat([past, ops.multiply(kv, scale)], 2)
        sinks.append(ops.assign(new, var))
        s = ops.reduce_sum(new, ops.constant(np.array([2], np.int64)), keep_dims=False)
        total = s if total is None else ops.add(total, s)
    var, past = state("extra_state", [-1, HEAD_DIM], [batch, ops.constant(np.array([HEAD_DIM], np.int64))])
    acc = ops.add(past, extra_in)
    sinks.append(ops.assign(acc, var))
    y = ops.add(total, ops.unsqueeze(acc, ops.constant(np.int64(1))), name="y")
    y.output(0).get_tensor().set_names({"y"})
    model = ov.Model([ops.result(y)], sinks, [kv, extra_in, beam], "kv_opset")
    out.mkdir(parents=True, exist_ok=True)
    dst = out / "kv_opset.xml"
    ov.save_model(model, str(dst), compress_to_fp16=False)
    return dst


def verify(path: Path) -> None:
    """read_model, the transformation OpenVINO ships, and a compile (f32)."""
    import openvino as ov
    from openvino._offline_transformations import stateful_to_stateless_transformation

    core = ov.Core()
    m = core.read_model(str(path))
    core.compile_model(m, "CPU", {"INFERENCE_PRECISION_HINT": "f32"})
    n_states = len(m.get_sinks())
    stateful_to_stateless_transformation(m)
    print(f"{path.name}: {n_states} states; stateless inputs {[i.any_name for i in m.inputs]}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--opset-only", action="store_true", help="only kv_opset.xml (no torch/optimum needed)")
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--out", type=Path, default=OUT)
    a = ap.parse_args()
    made = [make_kv_opset(a.out, a.layers)]
    if not a.opset_only:
        made.append(make_llama(a.out, a.layers))
    for p in made:
        verify(p)
    return 0


if __name__ == "__main__":
    sys.exit(main())
