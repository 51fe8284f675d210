"""Benchmark: ``modelfile diff`` of two big IRs (not a test).

Makes two chain IRs of ``--ops`` layers with the generator of ``tools/bench_ir.py``
(``openvino.save_model``): B is built in the same process after A, so every
auto-named op (``Add_123``...) has another number — nothing pairs by name but the
inputs and outputs, the rest must pair by structure — and one Const of B holds
other values. Times load of both + :func:`diff_models` (weights compared), in
process, ``--repeat`` times, and checks the result: all nodes paired, one weight
change, no node added or removed.

    python tools/bench_diff.py [--ops 20000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

_MAKE = r"""
import json, sys
import numpy as np
import openvino as ov
import openvino.opset13 as ops

def chain(n, changed):
    x = ops.parameter([1, 64], np.float32, name="x")
    x.output(0).get_tensor().set_names({"x"})
    h = x
    for i in range((n - 2) // 3):
        c = np.full((1, 64), i % 7, np.float32)
        if i == changed:
            c[0, 3] += 0.5
        h = ops.relu(ops.add(h, ops.constant(c)))
    r = ops.result(h)
    r.output(0).get_tensor().set_names({"y"})
    return ov.Model([r], [x], "chain")

n = int(sys.argv[3])
ov.save_model(chain(n, -1), sys.argv[1], compress_to_fp16=False)
ov.save_model(chain(n, n // 6), sys.argv[2], compress_to_fp16=False)
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ops", type=int, default=20000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    import modelfile
    from modelfile.compare.diff import diff_models

    with tempfile.TemporaryDirectory(prefix="bench_diff_") as d:
        a, b = Path(d) / "a.xml", Path(d) / "b.xml"
        subprocess.run([sys.executable, "-c", _MAKE, str(a), str(b), str(args.ops)], check=True)
        loads, diffs, cpu = [], [], []
        result = None
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            ma, mb = modelfile.load(a), modelfile.load(b)
            t1 = time.perf_counter()
            c1 = time.process_time()  # CPU time: on a shared machine wall time also counts waiting
            result = diff_models(ma, mb)
            cpu.append(time.process_time() - c1)
            t2 = time.perf_counter()
            loads.append(t1 - t0)
            diffs.append(t2 - t1)
        assert result is not None
        # the common case: names in common (a model against an edit of itself)
        ma2 = modelfile.load(a)
        c1 = time.process_time()
        same = diff_models(ma, ma2)
        same_cpu = time.process_time() - c1
        assert same.same
        s = result.stat()
        print(json.dumps({"ops_per_model": s["nodes_a"], "load_both_s": round(min(loads), 3),
                          "diff_s": round(min(diffs), 3), "diff_cpu_s": round(min(cpu), 3), "total_s": round(min(loads) + min(diffs), 3), "same_names_diff_cpu_s": round(same_cpu, 3),
                          "diff_median_s": round(statistics.median(diffs), 3), "stat": s}, indent=1))
        ok = (s["added"] == 0 and s["removed"] == 0 and s["matched"] == s["nodes_a"] == s["nodes_b"]
              and s["weights_changed"] == 1 and s["tensors_renamed"] == 0)
        print("result:", "ok" if ok else "UNEXPECTED")
        if not ok:
            sys.exit(1)


if __name__ == "__main__":
    main()
