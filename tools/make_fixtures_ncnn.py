"""Regenerate the small ncnn test fixtures in ``fixtures/ncnn/``.

Makes three tiny, seeded (deterministic) torch models, exports each with the
pnnx CLI (``fp16=0``, i.e. fp32 weights) and keeps only the resulting
``<name>.ncnn.param`` / ``<name>.ncnn.bin``:

* ``convlstm`` - Conv1d+ReLU+LSTM+Linear, input (1, 8, 20)
* ``block``    - LayerNorm+MultiheadAttention(+residual)+LayerNorm+GELU FFN(+residual), input (1, 12, 32)
* ``decoder``  - Embedding+LSTM+Linear with state: (tokens int64 (1, 2), h (1, 1, 24), c (1, 1, 24))
                 -> (logits, h_out, c_out)

After export every model is loaded with the ``ncnn`` Python runtime (fp16/bf16
disabled) and compared with torch on the same inputs (max abs diff < 1e-4).

torch, pnnx and ncnn are needed only to regenerate the fixtures, not to use the
``modelfile`` package.  Usage::

    /work/venv/bin/python tools/make_fixtures_ncnn.py
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch
from torch import nn

REPO = Path(__file__).resolve().parent.parent
OUT_DIR = REPO / "fixtures" / "ncnn"
SEED = 0
TOLERANCE = 1e-4


class ConvLSTM(nn.Module):
    """(1, 8, 20) -> Conv1d(8->16, k3) -> ReLU -> LSTM(16->24) -> Linear(24->10) -> (1, 20, 10)."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv1d(8, 16, kernel_size=3, padding=1)
        self.relu = nn.ReLU()
        self.lstm = nn.LSTM(16, 24, batch_first=True)
        self.fc = nn.Linear(24, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.relu(self.conv(x))  # (1, 16, T)
        y, _ = self.lstm(y.transpose(1, 2))  # (1, T, 24)
        return self.fc(y)  # (1, T, 10)


class Block(nn.Module):
    """Pre-norm transformer block, d_model 32, 4 heads, FFN 64: (1, 12, 32) -> (1, 12, 32)."""

    def __init__(self, dim: int = 32, heads: int = 4, ffn: int = 64) -> None:
        super().__init__()
        self.ln1 = nn.LayerNorm(dim)
        self.attn = nn.MultiheadAttention(dim, heads, batch_first=True)
        self.ln2 = nn.LayerNorm(dim)
        self.fc1 = nn.Linear(dim, ffn)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(ffn, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.ln1(x)
        a, _ = self.attn(y, y, y, need_weights=False)
        x = x + a
        return x + self.fc2(self.act(self.fc1(self.ln2(x))))


class Decoder(nn.Module):
    """Embedding(10, 16) + LSTM(16->24) with explicit state + Linear(24->10).

    forward(tokens (1, 2) int64, h (1, 1, 24), c (1, 1, 24)) -> (logits (1, 2, 10), h_out, c_out)
    """

    def __init__(self, vocab: int = 10, emb: int = 16, hidden: int = 24) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab, emb)
        self.lstm = nn.LSTM(emb, hidden, batch_first=True)
        self.fc = nn.Linear(hidden, vocab)

    def forward(self, tokens: torch.Tensor, h: torch.Tensor, c: torch.Tensor):
        y, (h_out, c_out) = self.lstm(self.embed(tokens), (h, c))
        return self.fc(y), h_out, c_out


def _inputshape(x: torch.Tensor) -> str:
    dims = "[" + ",".join(str(d) for d in x.shape) + "]"
    suffix = {torch.float32: "", torch.int64: "i64", torch.int32: "i32"}[x.dtype]
    return dims + suffix


def build_cases() -> list[tuple[str, nn.Module, tuple[torch.Tensor, ...]]]:
    """Create the models and example inputs; fully determined by SEED."""
    torch.manual_seed(SEED)
    convlstm = ConvLSTM().eval()
    x_convlstm = torch.randn(1, 8, 20)

    torch.manual_seed(SEED + 1)
    block = Block().eval()
    x_block = torch.randn(1, 12, 32)

    torch.manual_seed(SEED + 2)
    decoder = Decoder().eval()
    tokens = torch.tensor([[3, 7]], dtype=torch.int64)
    h = 0.5 * torch.randn(1, 1, 24)
    c = 0.5 * torch.randn(1, 1, 24)

    return [
        ("convlstm", convlstm, (x_convlstm,)),
        ("block", block, (x_block,)),
        ("decoder", decoder, (tokens, h, c)),
    ]


def export(name: str, model: nn.Module, inputs: tuple[torch.Tensor, ...], tmp: Path) -> tuple[Path, Path]:
    """Trace + pnnx CLI in *tmp*; returns the (param, bin) paths inside *tmp*."""
    import pnnx  # only needed here

    pt = tmp / f"{name}.pt"
    with torch.no_grad():
        traced = torch.jit.trace(model, inputs)
    traced.save(str(pt))

    param = tmp / f"{name}.ncnn.param"
    binf = tmp / f"{name}.ncnn.bin"
    cmd = [
        pnnx.EXEC_PATH,
        str(pt),
        "inputshape=" + ",".join(_inputshape(x) for x in inputs),
        "fp16=0",
        f"ncnnparam={param}",
        f"ncnnbin={binf}",
        f"ncnnpy={tmp / (name + '_ncnn.py')}",
        f"pnnxparam={tmp / (name + '.pnnx.param')}",
        f"pnnxbin={tmp / (name + '.pnnx.bin')}",
        f"pnnxpy={tmp / (name + '_pnnx.py')}",
        f"pnnxonnx={tmp / (name + '.pnnx.onnx')}",
    ]
    # cwd=tmp so that nothing pnnx may write relative to cwd ends up in the repo
    proc = subprocess.run(cmd, cwd=tmp, capture_output=True, text=True)
    if proc.returncode != 0 or not param.is_file() or not binf.is_file():
        sys.stderr.write(proc.stdout + proc.stderr)
        raise RuntimeError(f"pnnx failed for {name} (rc={proc.returncode})")
    return param, binf


def check(name: str, model: nn.Module, inputs: tuple[torch.Tensor, ...], param: Path, binf: Path) -> float:
    """Run the exported model with ncnn and compare with torch; returns the max abs diff."""
    import ncnn  # only needed here

    with torch.no_grad():
        ref = model(*inputs)
    if isinstance(ref, torch.Tensor):
        ref = (ref,)

    net = ncnn.Net()
    net.opt.use_fp16_storage = False
    net.opt.use_fp16_packed = False
    net.opt.use_fp16_arithmetic = False
    net.opt.use_bf16_storage = False
    net.opt.num_threads = 1
    if net.load_param(str(param)) != 0 or net.load_model(str(binf)) != 0:
        raise RuntimeError(f"ncnn failed to load {param} / {binf}")

    in_names = list(net.input_names())
    out_names = list(net.output_names())
    expected_in = [f"in{i}" for i in range(len(inputs))]
    expected_out = [f"out{i}" for i in range(len(ref))]
    # ncnn lists outputs in blob order (decoder: out1, out2, out0), so compare as sets
    # and then address everything by pnnx's in<i>/out<i> names
    if in_names != expected_in or sorted(out_names) != sorted(expected_out):
        raise RuntimeError(f"{name}: unexpected blob names {in_names} -> {out_names}")
    out_names = expected_out

    # batch dim dropped; int64 inputs become int32 in ncnn
    arrays = []
    for x in inputs:
        a = x.numpy()[0]
        a = a.astype(np.int32) if x.dtype in (torch.int64, torch.int32) else a.astype(np.float32)
        arrays.append(np.ascontiguousarray(a))
    mats = [ncnn.Mat(a) for a in arrays]

    worst = 0.0
    ex = net.create_extractor()
    for blob, m in zip(in_names, mats):
        ex.input(blob, m)
    for blob, r in zip(out_names, ref):
        rc, out = ex.extract(blob)
        if rc != 0:
            raise RuntimeError(f"{name}: extract {blob} failed rc={rc}")
        got = np.array(out)
        want = r.numpy()[0]
        if got.shape != want.shape:
            raise RuntimeError(f"{name}: {blob} shape {got.shape} != torch {want.shape}")
        diff = float(np.max(np.abs(got - want)))
        worst = max(worst, diff)
        print(f"  {name}: {blob} ncnn shape {got.shape} (w={out.w} h={out.h} c={out.c}) max|ncnn-torch| = {diff:.3e}")
    for blob, m in zip(in_names, mats):
        print(f"  {name}: input {blob} ncnn Mat dims={m.dims} w={m.w} h={m.h} c={m.c}")
    return worst


def main() -> int:
    torch.set_num_threads(1)
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    cases = build_cases()
    failed = []
    with tempfile.TemporaryDirectory(prefix="make_fixtures_ncnn_") as td:
        tmp = Path(td)
        for name, model, inputs in cases:
            param, binf = export(name, model, inputs, tmp)
            dst_param = OUT_DIR / param.name
            dst_bin = OUT_DIR / binf.name
            shutil.copyfile(param, dst_param)
            shutil.copyfile(binf, dst_bin)
            print(f"wrote {dst_param.relative_to(REPO)} ({dst_param.stat().st_size} B), "
                  f"{dst_bin.relative_to(REPO)} ({dst_bin.stat().st_size} B)")
            worst = check(name, model, inputs, dst_param, dst_bin)
            if not worst < TOLERANCE:
                failed.append((name, worst))
    if failed:
        for name, worst in failed:
            print(f"FAIL {name}: max diff {worst:.3e} >= {TOLERANCE}", file=sys.stderr)
        return 1
    print(f"all fixtures match torch within {TOLERANCE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
