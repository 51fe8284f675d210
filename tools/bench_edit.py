"""Benchmark: every edit is linear, and what the save gate and the CLI cost (not a test).

In one run, on generated files:

1. ncnn: a chain of ``--layers`` ReLU layers. Unedited load+write vs ``cut --output`` at the middle
   (load + cut + write). Target: the cut <= 3x the unedited load+write (it was 46x at 50,000 layers).
2. IR: a 20,000-op chain made by ``openvino.save_model``. rename, freeze and cut (load + edit + write)
   against ``openvino.Core().read_model`` of the same file (in a child process).
3. The save gate (re-read, lint, runtime) on a 2,000-layer param and on the 20,000-op IR, against the
   edit itself (load + edit + write). Target: gate <= edit.
4. The CLI, whole processes: ``modelfile info`` on a 2,000-layer param vs
   ``python -c "import ncnn; ncnn.Net().load_param(...)"`` (target <= 5x), and ``modelfile --help``
   (target <= 0.2 s).

    python tools/bench_edit.py [--layers 50000] [--ops 20000] [--repeat 3] [--only cli|gate]

``--only cli`` runs only part 4; ``--only gate`` only part 3 (the IR is still made by OpenVINO, its read_model
timed once).
"""

from __future__ import annotations

import argparse
import gc
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tools"))

import modelfile  # noqa: E402
from modelfile.mo_input import parse_input, parse_output  # noqa: E402
from modelfile.passes.cut import cut  # noqa: E402
from modelfile.passes.freeze import freeze  # noqa: E402
from modelfile.passes.rename import rename  # noqa: E402


def best(fn: Callable[[], object], repeat: int, clock: Callable[[], float] = time.perf_counter) -> float:
    """The best of ``repeat`` runs (wall time, or ``clock``: ``time.process_time`` for the CPU of all threads,
    which a machine shared with other work disturbs less)."""
    times = []
    for _ in range(repeat):
        gc.collect()
        t = clock()
        fn()
        times.append(clock() - t)
    return min(times)


def relu_chain(n: int, path: Path) -> None:
    lines = ["Input            in0      0 1 b0"]
    for i in range(1, n):
        lines.append(f"ReLU             relu_{i:<6} 1 1 b{i - 1} b{i}")
    path.write_text(f"7767517\n{n} {n}\n" + "\n".join(lines) + "\n")


def pnnx_like(n: int, path: Path) -> None:
    from bench_ncnn import synthetic

    synthetic(n, path)


def proc_time(argv: list[str], repeat: int) -> float:
    return best(lambda: subprocess.run(argv, check=True, stdout=subprocess.DEVNULL), repeat)


def ncnn_chain(n: int, work: Path, repeat: int) -> None:
    p = work / f"chain{n}.param"
    relu_chain(n, p)
    out = work / "out.param"

    def unedited() -> None:
        m = modelfile.load(p)
        m.handler.write(m, out, weights=False)

    def cut_mid() -> None:
        m = modelfile.load(p)
        cut(m, [], parse_output(f"b{n // 2}"))
        m.handler.write(m, out, weights=False)

    a, b = best(unedited, repeat), best(cut_mid, repeat)
    print(f"ncnn {n} layers: load+write {a:.3f} s, cut --output at the middle {b:.3f} s -> {b / a:.2f}x "
          "(target <= 3x)")


_OV_MAKE = r"""
import sys, numpy as np, openvino as ov, openvino.opset13 as ops
n, path = int(sys.argv[1]), sys.argv[2]
x = ops.parameter([1, 64], np.float32, name="x"); x.output(0).get_tensor().set_names({"x"})
y = ops.parameter([1, 64], np.float32, name="y"); y.output(0).get_tensor().set_names({"y"})
h = ops.add(x, y)
for i in range((n - 4) // 3):
    h = ops.relu(ops.add(h, ops.constant(np.full((1, 64), i % 7, np.float32))))
    h.output(0).get_tensor().set_names({f"t{i}"})
r = ops.result(h); r.output(0).get_tensor().set_names({"out"})
ov.save_model(ov.Model([r], [x, y], "chain"), path, compress_to_fp16=False)
"""

_OV_READ = r"""
import sys, time, openvino as ov
core = ov.Core(); best = 1e9
for _ in range(int(sys.argv[2])):
    t = time.perf_counter(); core.read_model(sys.argv[1]); best = min(best, time.perf_counter() - t)
print(best)
"""


def make_ir(n: int, work: Path, repeat: int) -> tuple[Path, float]:
    """The ``n``-op chain made by OpenVINO, and its read_model time (best of ``repeat``, in a child)."""
    xml = work / f"ir{n}.xml"
    subprocess.run([sys.executable, "-c", _OV_MAKE, str(n), str(xml)], check=True)
    ov = float(subprocess.run([sys.executable, "-c", _OV_READ, str(xml), str(repeat)], check=True,
                              capture_output=True, text=True).stdout.split()[-1])
    return xml, ov


def ir_edits(n: int, work: Path, repeat: int) -> tuple[Path, float]:
    xml, ov = make_ir(n, work, repeat)
    out = work / "ir_out.xml"
    mid = f"t{(n - 4) // 6}"

    def run(edit: Callable[[modelfile.Model], object]) -> Callable[[], None]:
        def go() -> None:
            m = modelfile.load(xml)
            edit(m)
            m.handler.write(m, out)
        return go

    rows = {
        "load+write (no edit)": run(lambda m: None),
        "rename x=input": run(lambda m: rename(m, {"x": "input"})),
        "freeze y->[0 ...]": run(lambda m: freeze(m, parse_input("y[1 64]->[" + " ".join(["0"] * 64) + "]"))),
        f"cut --output {mid}": run(lambda m: cut(m, [], parse_output(mid))),
        f"cut --input {mid}": run(lambda m: cut(m, parse_input(mid), [])),
    }
    print(f"IR {n} ops: read_model {ov:.3f} s")
    for name, fn in rows.items():
        t = best(fn, repeat)
        print(f"  {name:<28} {t:.3f} s -> {t / ov:.2f}x read_model")
    return xml, ov


def gate(path: Path, edit: Callable[[modelfile.Model], object], repeat: int, label: str) -> None:
    from modelfile.formats.ncnn.runtime import check_load

    out = path.with_name("gated" + "".join(path.suffixes))
    if path.suffix == ".param":  # start the ncnn worker once, as a command's first save would
        check_load(path, path.with_suffix(".bin"))

    def plain() -> None:
        m = modelfile.load(path)
        edit(m)
        m.handler.write(m, out)

    def gated() -> None:
        m = modelfile.load(path)
        edit(m)
        m.save(out)

    a, b = best(plain, repeat), best(gated, repeat)
    ca, cb = best(plain, repeat, time.process_time), best(gated, repeat, time.process_time)
    print(f"gate on {label}: edit (load+edit+write) {a:.3f} s, with the gate {b:.3f} s -> gate costs {b - a:.3f} s "
          f"= {(b - a) / a:.2f}x the edit (target <= 1x); CPU of this process (all threads): edit {ca:.3f} s, gate {cb - ca:.3f} s")


def cli(work: Path, repeat: int) -> None:
    # byte-compiled first, as `pip install` leaves it (PYTHONDONTWRITEBYTECODE would recompile every module per run)
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "modelfile")], check=True)
    p = work / "enc2000.param"
    pnnx_like(2000, p)
    mf = proc_time([sys.executable, "-m", "modelfile", "info", str(p)], repeat)
    nc = proc_time([sys.executable, "-c", f"import ncnn; ncnn.Net().load_param({str(p)!r})"], repeat)
    hp = proc_time([sys.executable, "-m", "modelfile", "--help"], repeat)
    py = proc_time([sys.executable, "-c", "pass"], repeat)
    print(f"CLI: modelfile info on 2,000 layers {mf:.3f} s vs ncnn load_param process {nc:.3f} s -> {mf / nc:.2f}x "
          f"(target <= 5x); --help {hp:.3f} s (target <= 0.2 s; bare python {py:.3f} s)")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--layers", type=int, default=50000)
    ap.add_argument("--ops", type=int, default=20000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--only", choices=["cli", "gate"], help="run only the CLI part (4.) or the save gate part (3.)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        work = Path(d)
        if args.only == "cli":
            cli(work, args.repeat)
            return
        if args.only == "gate":
            xml, ov = make_ir(args.ops, work, 1)
            print(f"IR {args.ops} ops: read_model {ov:.3f} s")
        else:
            ncnn_chain(args.layers, work, args.repeat)
            xml, _ = ir_edits(args.ops, work, args.repeat)
        p2k = work / "pnnx2000.param"
        pnnx_like(2000, p2k)
        gate(p2k, lambda m: rename(m, {"in0": "input"}), args.repeat, "a 2,000-layer param (rename)")
        gate(xml, lambda m: rename(m, {"x": "input"}), args.repeat, f"the {args.ops}-op IR (rename)")
        if args.only is None:
            cli(work, args.repeat)


if __name__ == "__main__":
    main()
