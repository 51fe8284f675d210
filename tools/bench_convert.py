"""Time ``modelfile convert --weights`` on a big synthetic model; report sizes and MB/s of weights.

Writes a chain of InnerProduct layers with random fp32 weights (``--mb`` of
weights, default 200) into a temp folder, then times, each in the same run:

* fp32 -> fp16 (load, convert, save) and fp16 -> fp32 back,
* text -> binary ``.param.bin`` (weights copied beside it),
* ``cp`` of the same ``.bin`` as the floor any conversion has to pay,
* the CLI with and without the save gate's runtime check (ncnn loading the result in a subprocess).

MB/s is source ``.bin`` megabytes (10^6 bytes) per second: of wall time for the
whole command (process start, load and save with fsync included), and, in process,
of wall and CPU time for the conversion step alone and for load+convert+save.
On a shared machine CPU time is the stable number. Usage::

    python tools/bench_convert.py [--mb 200] [--keep DIR]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent


def make_model(folder: Path, mb: int, width: int = 2048) -> Path:
    """A text .param + fp32 .bin of about ``mb`` MB of weights: InnerProduct layers ``width`` x ``width``."""
    per_layer = width * width * 4 + 4 + width * 4
    n = max(1, round(mb * 1e6 / per_layer))
    rng = np.random.default_rng(0)
    lines = ["7767517", f"{n + 1} {n + 1}", f"Input in0 0 1 b0 0={width}"]
    with open(folder / "big.bin", "wb") as f:
        for i in range(n):
            lines.append(f"InnerProduct fc{i} 1 1 b{i} b{i + 1} 0={width} 1=1 2={width * width}")
            f.write(b"\0\0\0\0")
            f.write((rng.standard_normal(width * width, dtype=np.float32) * 0.02).tobytes())
            f.write(rng.standard_normal(width, dtype=np.float32).tobytes())
    (folder / "big.param").write_text("\n".join(lines) + "\n")
    return folder / "big.param"


def timed(cmd: list[str]) -> float:
    t = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True)
    dt = time.perf_counter() - t
    if r.returncode != 0:
        sys.stderr.write(r.stdout + r.stderr)
        raise SystemExit(f"failed: {' '.join(cmd)}")
    return dt


def in_process(param: Path, folder: Path) -> list[tuple[str, int, int, float]]:
    """The conversion step alone and load+convert+save, timed in this process (wall and CPU)."""
    sys.path.insert(0, str(REPO))
    import modelfile
    from modelfile.formats.ncnn.weights import WeightStore
    from modelfile.formats.ncnn.weights.dtype import convert_store
    from modelfile.passes.convert import convert_weights

    rows = []
    src = param.with_suffix(".bin").stat().st_size
    for target, p in (("fp16", param), ("fp32", folder / "h.param")):
        size = p.with_suffix(".bin").stat().st_size
        m = modelfile.load(p)
        store = WeightStore.from_model(m)
        w, c = time.perf_counter(), time.process_time()
        convert_store(store, target)
        w, c = time.perf_counter() - w, time.process_time() - c
        rows.append((f"  convert only {target} (wall)", size, src if target == "fp32" else src // 2, w))
        rows.append((f"  convert only {target} (cpu)", size, src if target == "fp32" else src // 2, c))
        w, c = time.perf_counter(), time.process_time()
        m = modelfile.load(p)
        convert_weights(m, target)
        m.save(folder / f"ip_{target}.param")
        w, c = time.perf_counter() - w, time.process_time() - c
        out = (folder / f"ip_{target}.bin").stat().st_size
        rows.append((f"  load+conv+save {target} (wall)", size, out, w))
        rows.append((f"  load+conv+save {target} (cpu)", size, out, c))
    return rows


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=int, default=200)
    ap.add_argument("--keep", type=Path, default=None, help="Keep the files in this folder.")
    args = ap.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="bench_convert_"))
    folder.mkdir(parents=True, exist_ok=True)
    try:
        t = time.perf_counter()
        param = make_model(folder, args.mb)
        src = param.with_suffix(".bin")
        size = src.stat().st_size
        print(f"model: {param} ({size / 1e6:.1f} MB of fp32 weights, made in {time.perf_counter() - t:.1f} s)")
        mf = [sys.executable, "-m", "modelfile", "convert"]
        env_cmd = lambda *a: [*mf, *map(str, a)]  # noqa: E731
        rows = []
        dt = timed(["cp", str(src), str(folder / "copy.bin")])
        rows.append(("cp .bin", size, size, dt))
        dt = timed(env_cmd(param, "--weights", "fp16", "-o", folder / "h.param"))
        h = folder / "h.bin"
        rows.append(("fp32 -> fp16", size, h.stat().st_size, dt))
        dt = timed(env_cmd(param, "--weights", "fp16", "-o", folder / "hn.param", "--no-verify"))
        rows.append(("fp32 -> fp16 --no-verify", size, h.stat().st_size, dt))
        dt = timed(env_cmd(folder / "h.param", "--weights", "fp32", "-o", folder / "f.param"))
        rows.append(("fp16 -> fp32", h.stat().st_size, (folder / "f.bin").stat().st_size, dt))
        dt = timed(env_cmd(param, "--param-format", "binary", "-o", folder / "m.param.bin"))
        rows.append(("text -> .param.bin", size, (folder / "m.bin").stat().st_size, dt))
        same = (folder / "f.bin").read_bytes() == src.read_bytes()
        rows += in_process(param, folder)
        print(f"{'step':<34} {'in MB':>9} {'out MB':>9} {'s':>7} {'MB/s':>8}")
        for name, a, b, s in rows:
            print(f"{name:<34} {a / 1e6:>9.1f} {b / 1e6:>9.1f} {s:>7.2f} {a / 1e6 / s:>8.0f}")
        print(f"fp16 -> fp32 gives the fp16-rounded values; equal to the source bytes: {same} "
              "(expected False: random fp32 weights do not fit fp16)")
    finally:
        if args.keep is None:
            shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
