"""Benchmark: modelfile load+save of ncnn params vs ncnn's own ``Net.load_param`` (not a test).

Times, in one run on the same files: the pnnx fixtures, the largest params of
../shared/corpus/ncnn, and synthetic 2k/5k/20k/50k-layer params. Prints the
ratio modelfile/ncnn per file (lower is better) and checks growth is linear.

    python tools/bench_ncnn.py [--repeat 3] [--sizes 2000,5000,20000,50000]
"""

from __future__ import annotations

import argparse
import gc
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import modelfile  # noqa: E402

_NCNN_CHILD = r"""
import sys, time, ncnn
path, repeat = sys.argv[1], int(sys.argv[2])
best = 1e9
for _ in range(repeat):
    net = ncnn.Net()
    t = time.perf_counter()
    rc = net.load_param(path)
    best = min(best, time.perf_counter() - t)
    assert rc == 0, rc
    del net
print(best)
"""


def synthetic(n: int, path: Path) -> None:
    """A pnnx-style chain of Convolution/ReLU/Split lines with numeric blob names (like real exports)."""
    lines = ["Input                    in0                      0 1 in0"]
    prev = "in0"
    blob = 0
    for i in range(1, n):
        kind = i % 3
        if kind == 0:
            lines.append(f"Convolution              conv_{i:<19} 1 1 {prev} {blob} 0=16 1=3 11=3 2=1 12=1 3=1 13=1 "
                         f"4=1 14=1 5=1 6=2304 -23310=2,1.000000e+00,2.500000e-01")
        elif kind == 1:
            lines.append(f"ReLU                     relu_{i:<19} 1 1 {prev} {blob} 0=1.000000e-01")
        else:
            lines.append(f"Split                    splitncnn_{i:<14} 1 2 {prev} {blob} {blob}_b")
            lines.append(f"Sigmoid                  sig_{i:<20} 1 1 {blob}_b {blob}_c")
        prev = str(blob)
        blob += 1
    n_blobs = sum(int(ln.split()[3]) for ln in lines)  # every top is a blob
    path.write_text(f"7767517\n{len(lines)} {n_blobs}\n" + "\n".join(lines) + "\n")


def time_modelfile(path: Path, out: Path, repeat: int) -> float:
    best = 1e9
    for _ in range(repeat):
        gc.collect()
        t = time.perf_counter()
        m = modelfile.load(path)
        m.handler.write(m, out, weights=False)  # the writer alone; the gate: tools/bench_edit.py
        best = min(best, time.perf_counter() - t)
    assert out.read_bytes() == path.read_bytes(), f"round trip changed {path}"
    return best


def time_ncnn(path: Path, repeat: int) -> float | None:
    try:
        r = subprocess.run([sys.executable, "-c", _NCNN_CHILD, str(path), str(repeat)], capture_output=True,
                           text=True, timeout=600)
    except FileNotFoundError:
        return None
    if r.returncode != 0:
        return None
    return float(r.stdout.strip())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--sizes", default="2000,5000,20000,50000")
    args = ap.parse_args()
    files: list[tuple[str, Path]] = []
    for p in sorted((ROOT / "fixtures" / "ncnn").glob("*.param")):
        files.append((f"fixture {p.name}", p))
    corpus = ROOT.parent / "shared" / "corpus" / "ncnn"
    if corpus.is_dir():
        big = sorted((p for p in corpus.glob("*.param")), key=lambda p: p.stat().st_size, reverse=True)[:3]
        files += [(f"corpus {p.name.replace('Tencent__ncnn__', '')}", p) for p in big]
    with tempfile.TemporaryDirectory() as d:
        dd = Path(d)
        for n in [int(x) for x in args.sizes.split(",")]:
            p = dd / f"synthetic_{n}.param"
            synthetic(n, p)
            files.append((f"synthetic {n} layers", p))
        print(f"{'file':48} {'layers':>7} {'modelfile':>10} {'ncnn':>10} {'ratio':>7}")
        per_layer = []
        for label, p in files:
            layers = int(p.read_text().split("\n")[1].split()[0])
            mf = time_modelfile(p, dd / "out.param", args.repeat)
            nc = time_ncnn(p, args.repeat)
            ratio = f"{mf / nc:7.2f}" if nc else "    n/a"
            print(f"{label[:48]:48} {layers:7d} {mf * 1000:8.1f}ms {(nc or 0) * 1000:8.1f}ms {ratio}")
            if label.startswith("synthetic"):
                per_layer.append((layers, mf / layers * 1e6))
        if per_layer:
            print("modelfile µs/layer (flat = linear):", ", ".join(f"{n}: {us:.1f}" for n, us in per_layer))


if __name__ == "__main__":
    main()
