"""Write fixtures/examples/convbn.ncnn.param/.bin: Convolution -> BatchNorm -> ReLU -> Convolution -> BatchNorm.

pnnx and ncnnoptimize fold BatchNorm into the Convolution before it, so no converter writes this
pattern any more; older caffe2ncnn/onnx2ncnn exports did (Convolution then BatchNorm, as in
``squeezenet_ssd.param`` of the ncnn benchmark set). The param lines are written in ncnn's own
column style; the weights are seeded random numbers; the script checks the ncnn runtime against
a numpy reference (max abs diff < 1e-4) and is byte-reproducible.

    python tools/make_fixture_convbn.py          # needs numpy; ncnn for the check
"""

from __future__ import annotations

import struct
import sys
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parent.parent / "fixtures" / "examples"
C_IN, H, W = 3, 10, 12
C1, C2, K = 8, 6, 3
EPS = 1e-5


def _conv(x: np.ndarray, w: np.ndarray, b: np.ndarray | None, pad: int) -> np.ndarray:
    c_out, c_in, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (pad, pad), (pad, pad)))
    ho, wo = xp.shape[1] - kh + 1, xp.shape[2] - kw + 1
    out = np.zeros((c_out, ho, wo), np.float64)
    for i in range(kh):
        for j in range(kw):
            out += np.einsum("oc,chw->ohw", w[:, :, i, j], xp[:, i:i + ho, j:j + wo])
    if b is not None:
        out += b[:, None, None]
    return out


def _bn(x: np.ndarray, slope: np.ndarray, mean: np.ndarray, var: np.ndarray, bias: np.ndarray) -> np.ndarray:
    return (x - mean[:, None, None]) / np.sqrt(var[:, None, None] + EPS) * slope[:, None, None] + bias[:, None, None]


def build() -> tuple[str, bytes, dict[str, np.ndarray]]:
    rng = np.random.default_rng(20261201)
    f = np.float32
    w1 = rng.normal(0, 0.3, (C1, C_IN, K, K)).astype(f)
    b1 = rng.normal(0, 0.1, C1).astype(f)
    bn1 = [rng.uniform(0.5, 1.5, C1).astype(f), rng.normal(0, 0.2, C1).astype(f),
           rng.uniform(0.5, 2.0, C1).astype(f), rng.normal(0, 0.1, C1).astype(f)]
    w2 = rng.normal(0, 0.3, (C2, C1, 1, 1)).astype(f)
    bn2 = [rng.uniform(0.5, 1.5, C2).astype(f), rng.normal(0, 0.2, C2).astype(f),
           rng.uniform(0.5, 2.0, C2).astype(f), rng.normal(0, 0.1, C2).astype(f)]
    lines = [
        ("Input", "data", [], ["data"], f"0={W} 1={H} 2={C_IN}"),
        ("Convolution", "conv1", ["data"], ["conv1"], f"0={C1} 1={K} 4=1 5=1 6={w1.size}"),
        ("BatchNorm", "bn1", ["conv1"], ["bn1"], f"0={C1} 1={EPS:e}"),
        ("ReLU", "relu1", ["bn1"], ["relu1"], ""),
        ("Convolution", "conv2", ["relu1"], ["conv2"], f"0={C2} 1=1 5=0 6={w2.size}"),
        ("BatchNorm", "bn2", ["conv2"], ["output"], f"0={C2} 1={EPS:e}"),
    ]
    blobs = {name for _t, _n, _i, outs, _p in lines for name in outs}
    text = ["7767517", f"{len(lines)} {len(blobs)}"]
    for t, n, ins, outs, p in lines:
        row = f"{t:<24} {n:<24} {len(ins)} {len(outs)} {' '.join(ins + outs)}"
        text.append(row + (f" {p}" if p else ""))
    param = "\n".join(text) + "\n"
    flag = struct.pack("<I", 0)  # tagged fp32 conv weights
    parts = [flag, w1.tobytes(), b1.tobytes(), *(a.tobytes() for a in bn1), flag, w2.tobytes(),
             *(a.tobytes() for a in bn2)]
    x = rng.normal(0, 1, (C_IN, H, W)).astype(f)
    y = _bn(_conv(x.astype(np.float64), w1, b1, 1), *bn1)
    y = _bn(_conv(np.maximum(y, 0), w2, None, 0), *bn2)
    return param, b"".join(parts), {"data": x, "output": y.astype(f)}


def main() -> int:
    param, weights, io = build()
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "convbn.ncnn.param").write_text(param)
    (OUT / "convbn.ncnn.bin").write_bytes(weights)
    try:
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
        from ncnn_runner import run_ncnn
    except ImportError:
        return 0
    got = run_ncnn(OUT / "convbn.ncnn.param", OUT / "convbn.ncnn.bin", {"data": io["data"]}, ["output"])["output"]
    err = float(np.abs(got - io["output"]).max())
    print(f"ncnn vs numpy: max abs diff {err:.2e}")
    return 0 if err < 1e-4 else 1


if __name__ == "__main__":
    raise SystemExit(main())
