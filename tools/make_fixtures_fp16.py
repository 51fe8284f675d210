"""Make the fp16/fp32 weight-conversion fixtures in ``fixtures/ncnn/fp16/``.

One small seeded torch model with most weighted ncnn layer types (Convolution,
ConvolutionDepthWise, Deconvolution, InnerProduct, Embed, LayerNorm, PReLU,
GRU (bidirectional), LSTM, MultiHeadAttention, Gemm) is exported twice with the
pnnx CLI: ``fp16=1`` (pnnx's default, the form icefall's guide produces) and
``fp16=0``. Both pairs are kept:

* ``mixed.fp16.ncnn.param/.bin`` - pnnx ``fp16=1``
* ``mixed.fp32.ncnn.param/.bin`` - pnnx ``fp16=0`` (same param text)
* ``edges.fp16/.fp32.ncnn.param/.bin`` - one InnerProduct whose 2048 weights sit where fp32 -> fp16
  conversions differ: exact rounding ties, the band just below 2**-14, fp16 denormals, values
  beyond 65504 (not run: only its bytes matter)

``modelfile convert --weights fp16`` of the fp32 pair must give the fp16
``.bin`` byte for byte, and ``--weights fp32`` of the fp16 pair and back again
too (``tests/passes/test_convert_weights.py``). After export both are run with ncnn
(fp16 storage off) and compared with torch.

torch, pnnx and ncnn are needed only here, never by the package::

    /work/venv-weights/bin/python tools/make_fixtures_fp16.py
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
OUT_DIR = REPO / "fixtures" / "ncnn" / "fp16"
SEED = 14


class Mixed(nn.Module):
    """(1, 4, 8, 8) image + (1, 6) tokens -> two outputs through most weighted layer types."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(4, 8, 3, padding=1)
        self.dw = nn.Conv2d(8, 8, 3, padding=1, groups=8)
        self.prelu = nn.PReLU(8)
        self.up = nn.ConvTranspose2d(8, 4, 2, stride=2)
        self.fc = nn.Linear(4 * 16 * 16, 20)  # odd-sized bias, 2-D input -> InnerProduct
        self.embed = nn.Embedding(11, 12)
        self.ln = nn.LayerNorm(12)
        self.gru = nn.GRU(12, 7, batch_first=True, bidirectional=True)  # odd hidden: fp16 padding
        self.lstm = nn.LSTM(14, 9, batch_first=True, proj_size=5)
        self.attn = nn.MultiheadAttention(5, 1, batch_first=True)
        self.proj = nn.Linear(5, 3)  # 3-D input -> Gemm

    def forward(self, x: torch.Tensor, tokens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        y = self.up(self.prelu(self.dw(self.conv(x))))
        a = self.fc(y.reshape(1, -1))
        s = self.ln(self.embed(tokens))
        s, _ = self.gru(s)
        s, _ = self.lstm(s)
        s, _ = self.attn(s, s, s, need_weights=False)
        return a, self.proj(s)


def edge_weights() -> torch.Tensor:
    """Weights on every boundary of fp32 -> fp16 rounding (seeded)."""
    rng = np.random.default_rng(SEED)
    exps = rng.integers(-24, 16, 512)
    mant = rng.integers(0, 1 << 10, 512)
    tie = ((1 << 10 | mant) * 2.0 ** (exps - 10) + 2.0 ** (exps - 11)).astype(np.float32)  # exactly half an ulp
    band = np.frombuffer(rng.integers(0x387F0000, 0x38800000, 256, dtype=np.uint32).tobytes(), np.float32)
    tiny = (rng.uniform(-1, 1, 256) * 2.0 ** -14).astype(np.float32)
    big = rng.uniform(65400, 70000, 256).astype(np.float32)
    normal = (rng.standard_normal(512) * 0.05).astype(np.float32)
    vals = np.concatenate([tie, band, tiny, big, normal, -tie[:256]])[:2048]
    return torch.from_numpy(vals.reshape(64, 32).copy())


def export(model: nn.Module, inputs: tuple[torch.Tensor, ...], tmp: Path, fp16: int,
           name: str = "mixed") -> tuple[Path, Path]:
    import pnnx

    pt = tmp / f"{name}.pt"
    with torch.no_grad():
        torch.jit.trace(model, inputs).save(str(pt))
    tag = "fp16" if fp16 else "fp32"
    param, binf = tmp / f"{name}.{tag}.ncnn.param", tmp / f"{name}.{tag}.ncnn.bin"
    shapes = ",".join("[" + ",".join(map(str, x.shape)) + "]" + ("i64" if x.dtype == torch.int64 else "")
                      for x in inputs)
    cmd = [pnnx.EXEC_PATH, str(pt), f"inputshape={shapes}", f"fp16={fp16}", f"ncnnparam={param}",
           f"ncnnbin={binf}", f"ncnnpy={tmp / 'x_ncnn.py'}", f"pnnxparam={tmp / 'x.pnnx.param'}",
           f"pnnxbin={tmp / 'x.pnnx.bin'}", f"pnnxpy={tmp / 'x_pnnx.py'}", f"pnnxonnx={tmp / 'x.pnnx.onnx'}"]
    proc = subprocess.run(cmd, cwd=tmp, capture_output=True, text=True)
    if proc.returncode != 0 or not binf.is_file():
        sys.stderr.write(proc.stdout + proc.stderr)
        raise RuntimeError(f"pnnx fp16={fp16} failed")
    return param, binf


def run_ncnn(param: Path, binf: Path, inputs: tuple[torch.Tensor, ...]) -> list[np.ndarray]:
    import ncnn

    net = ncnn.Net()
    for k in ("use_fp16_storage", "use_fp16_packed", "use_fp16_arithmetic", "use_bf16_storage"):
        setattr(net.opt, k, False)
    if net.load_param(str(param)) or net.load_model(str(binf)):
        raise RuntimeError(f"ncnn cannot load {param}")
    ex = net.create_extractor()
    ex.input("in0", ncnn.Mat(np.ascontiguousarray(inputs[0].numpy()[0])))
    ex.input("in1", ncnn.Mat(np.ascontiguousarray(inputs[1].numpy()[0].astype(np.int32))))
    return [np.array(ex.extract(f"out{i}")[1]) for i in range(2)]


def main() -> int:
    torch.manual_seed(SEED)
    model = Mixed().eval()
    inputs = (torch.randn(1, 4, 8, 8), torch.tensor([[1, 5, 9, 2, 0, 10]], dtype=torch.int64))
    with torch.no_grad():
        ref = [t.numpy()[0] for t in model(*inputs)]
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="make_fixtures_fp16_") as td:
        for fp16 in (1, 0):
            param, binf = export(model, inputs, Path(td), fp16)
            for f in (param, binf):
                shutil.copyfile(f, OUT_DIR / f.name)
            got = run_ncnn(OUT_DIR / param.name, OUT_DIR / binf.name, inputs)
            worst = max(float(np.max(np.abs(g.reshape(r.shape) - r))) for g, r in zip(got, ref))
            print(f"fp16={fp16}: {binf.name} {binf.stat().st_size} B, max|ncnn-torch| = {worst:.2e}")
            if worst > (5e-2 if fp16 else 1e-4):
                raise RuntimeError("ncnn output differs from torch")
        edges = nn.Linear(32, 64, bias=False).eval()
        with torch.no_grad():
            edges.weight.copy_(edge_weights())
        for fp16 in (1, 0):
            param, binf = export(edges, (torch.randn(1, 32),), Path(td), fp16, "edges")
            for f in (param, binf):
                shutil.copyfile(f, OUT_DIR / f.name)
            print(f"edges fp16={fp16}: {binf.name} {binf.stat().st_size} B")
    return 0


if __name__ == "__main__":
    sys.exit(main())
