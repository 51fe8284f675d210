"""Run an ncnn model in a child process (ncnn segfaults on some bad inputs).

Usage from tests: ``run_ncnn(param, bin, {"in0": array}, ["out0"])``. The child
disables fp16/bf16 so results are comparable in f32.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

_CHILD = r"""
import json, sys
import numpy as np
import ncnn
spec = json.load(open(sys.argv[1]))
data = np.load(spec["inputs"])
net = ncnn.Net()
for k in ("use_fp16_storage", "use_fp16_packed", "use_fp16_arithmetic", "use_bf16_storage"):
    setattr(net.opt, k, False)
net.opt.num_threads = 1
if net.load_param(spec["param"]) != 0:
    sys.exit(3)
if spec["bin"] and net.load_model(spec["bin"]) != 0:
    sys.exit(4)
names = set(net.output_names()) | set(b.name for b in net.blobs())
res = {}
ex = net.create_extractor()
for name in data.files:
    a = data[name]
    ex.input(name, ncnn.Mat(np.ascontiguousarray(a)).clone())  # in-place layers on a borrowed Mat segfault
for name in spec["outputs"]:
    if name not in names:
        sys.exit(5)
    rc, m = ex.extract(name)
    if rc != 0:
        sys.exit(6)
    res[name] = np.array(m).copy()
np.savez(spec["out"], **res)
"""


class NcnnRunError(RuntimeError):
    pass


def run_ncnn(param: Path, bin_path: Path | None, inputs: dict[str, np.ndarray], outputs: list[str]) -> dict[str, np.ndarray]:
    """Outputs of ``param``/``bin`` for ``inputs``, computed by the ncnn runtime in a subprocess."""
    with tempfile.TemporaryDirectory() as d:
        dd = Path(d)
        np.savez(dd / "in.npz", **inputs)
        spec = {"param": str(param), "bin": str(bin_path) if bin_path else "", "inputs": str(dd / "in.npz"),
                "outputs": outputs, "out": str(dd / "out.npz")}
        (dd / "spec.json").write_text(json.dumps(spec))
        (dd / "child.py").write_text(_CHILD)
        r = subprocess.run([sys.executable, str(dd / "child.py"), str(dd / "spec.json")], capture_output=True,
                           text=True, timeout=120)
        if r.returncode != 0:
            raise NcnnRunError(f"ncnn child exited {r.returncode}: {r.stderr.strip()[-500:]}")
        out = np.load(dd / "out.npz")
        return {k: out[k] for k in out.files}
